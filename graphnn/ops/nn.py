"""Neural-network ops: activations, softmax, losses, bias_add and dropout.

A function the user calls once is one op in the user's graph, as TensorFlow 1 draws
it (``l2_loss`` is one ``L2Loss``, ``bias_add`` one ``BiasAdd``), with its own
lowering and gradient rule. The losses lower in their numerically stable forms:
softmax cross-entropies through log-softmax, the logistic loss as TF's
``max(x, 0) - x * z + log1p(exp(-|x|))``. ``dropout`` alone is a name scope of a few
ops, as in TensorFlow 1: its random mask is drawn once and read by both the forward
value and its gradient, which a single op could not share. Gradient rules build
graph nodes with the public ops and operators.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from graphnn.errors import DTypeError
from graphnn.framework import dtypes
from graphnn.framework.graph import check_seed
from graphnn.framework.registry import ValueCheck, outside_range
from graphnn.framework.shapes import TensorShape, normalize_axis
from graphnn.framework.tensor import Tensor
from graphnn.ops.array import expand_dims, reshape
from graphnn.ops.creation import cast, shape, where, zeros_like
from graphnn.ops.creation import range as range_of
from graphnn.ops.declare import (OpDef, Sample, apply, check_dtype, float_sample_shapes, pair,
                                 rand, register, require, same_as_input, to_tensor)
from graphnn.ops.math import equal, exp, sigmoid
from graphnn.ops.random import random_uniform
from graphnn.ops.reduction import reduce_prod, reduce_sum


def _np_log_softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _np_logistic_loss(labels, logits):
    return np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))


def _activation_samples(rng, dtype):
    return [Sample((rand(rng, s, dtype),)) for s in float_sample_shapes]


def _declare_activation(op_type: str, jax_fn: Callable, numpy_fn: Callable,
                        grad: Callable) -> None:
    register(OpDef(op_type, infer=same_as_input("float"), lower=jax_fn,
                   reference=lambda x, **attrs: np.asarray(numpy_fn(x, **attrs)).astype(x.dtype),
                   samples=_activation_samples, grad=grad))


# Gradient rules: ``rule(op, grad) -> [input gradients]``; x is the input, y the output.
def _where_positive(op, g, otherwise):
    """g where the input is > 0, ``otherwise`` elsewhere."""
    return [where(op.inputs[0] > 0, g, otherwise)]


_declare_activation("Relu", jax.nn.relu, lambda x: np.maximum(x, 0),
                    lambda op, g: _where_positive(op, g, zeros_like(g)))
_declare_activation("Elu", jax.nn.elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
                    lambda op, g: _where_positive(op, g, g * (op.outputs[0] + 1.0)))
_declare_activation("Softplus", jax.nn.softplus, lambda x: np.logaddexp(x, 0),
                    lambda op, g: [g * sigmoid(op.inputs[0])])

register(OpDef("LeakyRelu", infer=same_as_input("float"),
               lower=lambda x, alpha: jnp.where(x > 0, x, x * alpha),
               reference=lambda x, alpha: np.where(x > 0, x, x * alpha).astype(x.dtype),
               grad=lambda op, g: _where_positive(op, g, g * op.attrs["alpha"]),
               samples=lambda rng, dtype: [Sample((rand(rng, (3, 4), dtype),), {"alpha": 0.2})]))


def _softmax_infer(inputs, axis=-1):
    x = inputs[0]
    check_dtype(x, "float")
    if x.shape.ndims is not None:
        normalize_axis(axis, x.shape.ndims)
    return [(x.shape, x.dtype)]


def _softmax_samples(rng, dtype):
    return [Sample((rand(rng, (3, 5), dtype, -5, 5),), {"axis": -1}),
            Sample((rand(rng, (2, 3, 4), dtype),), {"axis": 1})]


def _softmax_grad(op, g):
    y = op.outputs[0]
    return [y * (g - reduce_sum(g * y, axis=op.attrs.get("axis", -1), keepdims=True))]


def _log_softmax_grad(op, g):
    y = op.outputs[0]
    return [g - exp(y) * reduce_sum(g, axis=op.attrs.get("axis", -1), keepdims=True)]


register(OpDef("Softmax", infer=_softmax_infer,
               lower=lambda x, axis=-1: jax.nn.softmax(x, axis=axis),
               reference=lambda x, axis=-1: np.exp(_np_log_softmax(x, axis)).astype(x.dtype),
               samples=_softmax_samples, grad=_softmax_grad))
register(OpDef("LogSoftmax", infer=_softmax_infer,
               lower=lambda x, axis=-1: jax.nn.log_softmax(x, axis=axis),
               reference=lambda x, axis=-1: _np_log_softmax(x, axis).astype(x.dtype),
               samples=_softmax_samples, grad=_log_softmax_grad))


# ----- losses ------------------------------------------------------------------------------
def _same_dtype(labels: Tensor, logits: Tensor) -> None:
    check_dtype(logits, "float")
    if labels.dtype != logits.dtype:
        raise DTypeError(f"labels ('{labels.name}', {labels.dtype}) and logits "
                         f"('{logits.name}', {logits.dtype}) must have one dtype")


def _same_shape(labels: Tensor, logits: Tensor) -> TensorShape:
    require(labels.shape.is_compatible_with(logits.shape),
            f"labels shape {labels.shape} and logits shape {logits.shape} must be equal")
    return labels.shape.merge_with(logits.shape)


def _xent_infer(inputs, axis=-1):
    labels, logits = inputs
    _same_dtype(labels, logits)
    shape_ = _same_shape(labels, logits)
    if shape_.ndims is None:
        return [(TensorShape(None), logits.dtype)]
    axis = normalize_axis(axis, shape_.ndims)
    return [(TensorShape([d for i, d in enumerate(shape_.dims) if i != axis]), logits.dtype)]


def _xent_lower(labels, logits, axis=-1):
    return -jnp.sum(labels * jax.nn.log_softmax(logits, axis=axis), axis=axis)


def _xent_reference(labels, logits, axis=-1):
    return -np.sum(labels * _np_log_softmax(logits, axis), axis)


def _xent_samples(rng, dtype):
    labels = rng.dirichlet(np.ones(5), size=4).astype(dtypes.as_dtype(dtype).as_numpy_dtype)
    logits = rand(rng, (4, 5), dtype, -4, 4)
    return [Sample((labels, logits)), Sample((labels.T, logits.T), {"axis": 0})]


def _xent_grad(op, g):
    labels, logits = op.inputs
    axis = op.attrs.get("axis", -1)
    g = expand_dims(g, axis)
    log_probs = log_softmax(logits, axis)
    return [-(g * log_probs), g * (exp(log_probs) - labels)]


register(OpDef("SoftmaxCrossEntropyWithLogits", infer=_xent_infer, lower=_xent_lower,
               reference=_xent_reference, samples=_xent_samples, grad=_xent_grad))


def _sparse_xent_infer(inputs):
    labels, logits = inputs
    check_dtype(logits, "float")
    check_dtype(labels, "int")
    if logits.shape.ndims is None:
        return [(labels.shape, logits.dtype)]
    require(labels.shape.is_compatible_with(logits.shape[:-1]),
            f"labels shape {labels.shape} must equal logits shape {logits.shape} without its "
            f"last axis")
    return [(labels.shape.merge_with(logits.shape[:-1]), logits.dtype)]


def _sparse_xent_lower(labels, logits):
    picked = jnp.take_along_axis(logits, labels[..., None].astype(jnp.int32), axis=-1)[..., 0]
    return jax.nn.logsumexp(logits, axis=-1) - picked


def _sparse_xent_reference(labels, logits):
    log_probs = _np_log_softmax(logits)
    return -np.take_along_axis(log_probs, labels[..., None].astype(np.int64), -1)[..., 0]


def _sparse_xent_grad(op, g):
    """g * (softmax(logits) - one_hot(labels)): one op that carries the label check, as
    TF 1's gradient reads the kernel's checked output, so a run that fetches only the
    gradient is checked without computing the loss."""
    labels, logits = op.inputs
    backprop = apply("SparseSoftmaxCrossEntropyWithLogitsGrad", [labels, logits])
    return [None, expand_dims(g, -1) * backprop]


def _sparse_xent_backprop_lower(labels, logits):
    classes = jnp.arange(logits.shape[-1], dtype=labels.dtype)
    hit = (labels[..., None] == classes).astype(logits.dtype)
    return jax.nn.softmax(logits, axis=-1) - hit


def _sparse_xent_backprop_reference(labels, logits):
    hit = labels[..., None] == np.arange(logits.shape[-1])
    return (np.exp(_np_log_softmax(logits)) - hit).astype(logits.dtype)


def _sparse_xent_backprop_grad(op, g):
    """Only the softmax term depends on the logits."""
    probabilities = softmax(op.inputs[1])
    return [None, probabilities * (g - reduce_sum(g * probabilities, axis=-1, keepdims=True))]


def _sparse_xent_check(inputs):
    """TF 1's kernel refuses a label outside [0, classes): it would score some other class."""
    return ValueCheck(input=0, bound=lambda shapes: shapes[1][-1], bad=outside_range,
                      message=lambda position, value, bound:
                      f"Received a label value of {value} which is outside the valid range of "
                      f"[0, {bound}).")


register(OpDef("SparseSoftmaxCrossEntropyWithLogits", infer=_sparse_xent_infer,
               check=_sparse_xent_check,
               lower=_sparse_xent_lower, reference=_sparse_xent_reference, grad=_sparse_xent_grad,
               samples=lambda rng, dtype: [
                   Sample((np.array([0, 4, 2, 1], np.int32), rand(rng, (4, 5), dtype, -4, 4))),
                   Sample((np.array([3, 0], np.int64), rand(rng, (2, 4), dtype)))]))
register(OpDef("SparseSoftmaxCrossEntropyWithLogitsGrad", check=_sparse_xent_check,
               infer=lambda inputs: [(inputs[1].shape, inputs[1].dtype)],
               lower=_sparse_xent_backprop_lower, reference=_sparse_xent_backprop_reference,
               grad=_sparse_xent_backprop_grad,
               samples=lambda rng, dtype: [
                   Sample((np.array([0, 4, 2, 1], np.int32), rand(rng, (4, 5), dtype, -4, 4))),
                   Sample((np.array([3, 0], np.int64), rand(rng, (2, 4), dtype)))]))


def _sigmoid_xent_infer(inputs):
    labels, logits = inputs
    _same_dtype(labels, logits)
    return [(_same_shape(labels, logits), logits.dtype)]


def _sigmoid_xent_lower(labels, logits):
    # TF's form: exp never sees a positive argument, so no overflow for any logit.
    return jnp.maximum(logits, 0) - logits * labels + jnp.log1p(jnp.exp(-jnp.abs(logits)))


def _sigmoid_xent_samples(rng, dtype):
    return [Sample((rand(rng, s, dtype, 0, 1), rand(rng, s, dtype, -4, 4)))
            for s in float_sample_shapes]


register(OpDef("SigmoidCrossEntropyWithLogits", infer=_sigmoid_xent_infer,
               lower=_sigmoid_xent_lower,
               reference=lambda labels, logits: _np_logistic_loss(labels, logits),
               samples=_sigmoid_xent_samples,
               grad=lambda op, g: [-(g * op.inputs[1]), g * (sigmoid(op.inputs[1]) - op.inputs[0])]))


def _l2_loss_infer(inputs):
    check_dtype(inputs[0], "float")
    return [(TensorShape([]), inputs[0].dtype)]


register(OpDef("L2Loss", infer=_l2_loss_infer, lower=lambda t: jnp.sum(jnp.square(t)) / 2,
               reference=lambda t: (np.sum(np.square(t)) / 2).astype(t.dtype),
               samples=_activation_samples, grad=lambda op, g: [g * op.inputs[0]]))


# ----- bias_add -----------------------------------------------------------------------------
def _channel_axis(data_format: str) -> int:
    require(data_format in ("NHWC", "NCHW"),
            f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}", ValueError)
    return -1 if data_format == "NHWC" else 1


def _bias_add_infer(inputs, data_format="NHWC"):
    value, bias = inputs
    if value.dtype != bias.dtype:
        raise DTypeError(f"value ('{value.name}', {value.dtype}) and bias ('{bias.name}', "
                         f"{bias.dtype}) must have one dtype")
    check_dtype(value, "numeric")
    axis = _channel_axis(data_format)
    require(bias.shape.ndims in (1, None), f"bias must be 1-D, got shape {bias.shape}")
    if value.shape.ndims is None:
        return [(value.shape, value.dtype)]
    require(value.shape.ndims >= (1 if axis == -1 else 2),
            f"bias_add with {data_format} needs a value of rank >= {1 if axis == -1 else 2}, "
            f"got shape {value.shape}")
    dims = list(value.shape.dims)
    size = bias.shape[0] if bias.shape.ndims == 1 else None
    require(dims[axis] is None or size is None or dims[axis] == size,
            f"bias of size {size} does not match the {dims[axis]} channels of {value.shape} "
            f"({data_format})")
    dims[axis] = dims[axis] if dims[axis] is not None else size
    return [(TensorShape(dims), value.dtype)]


def _bias_add(value, bias, data_format="NHWC"):
    """numpy or jax: the bias along the channel axis."""
    if data_format == "NCHW":
        bias = bias.reshape((-1,) + (1,) * (value.ndim - 2))
    return value + bias


def _bias_add_samples(rng, dtype):
    return [Sample((rand(rng, (3, 4), dtype), rand(rng, (4,), dtype))),
            Sample((rand(rng, (2, 3, 4), dtype), rand(rng, (4,), dtype))),
            Sample((rand(rng, (2, 3, 4, 2), dtype), rand(rng, (3,), dtype)),
                   {"data_format": "NCHW"}),
            Sample((rand(rng, (2, 3), dtype), rand(rng, (3,), dtype)), {"data_format": "NCHW"}),
            Sample((rand(rng, (3, 4), dtypes.int32), rand(rng, (4,), dtypes.int32)))]


def _bias_add_grad(op, g):
    """The bias gets g summed over every axis but the channel axis (shapes read at run time,
    so any rank works)."""
    dims = shape(g)
    if op.attrs.get("data_format", "NHWC") == "NCHW":
        per_channel = reshape(g, [dims[0], dims[1], reduce_prod(dims[2:])])
        return [g, reduce_sum(per_channel, axis=[0, 2])]
    per_channel = reshape(g, [reduce_prod(dims[:-1]), dims[-1]])
    return [g, reduce_sum(per_channel, axis=0)]


register(OpDef("BiasAdd", infer=_bias_add_infer, lower=_bias_add,
               reference=lambda value, bias, data_format="NHWC":
                   _bias_add(value, bias, data_format).astype(value.dtype),
               samples=_bias_add_samples, grad=_bias_add_grad))


# ----- public functions -------------------------------------------------------------
def relu(features: Any, name: Optional[str] = None) -> Tensor:
    """max(x, 0).

    Example:
        >>> h = gn.nn.relu(gn.matmul(x, W) + b)
    """
    return apply("Relu", [to_tensor(features)], name=name)


def leaky_relu(features: Any, alpha: float = 0.2, name: Optional[str] = None) -> Tensor:
    """x for x > 0, alpha * x otherwise."""
    return apply("LeakyRelu", [to_tensor(features)], {"alpha": float(alpha)}, name=name)


def elu(features: Any, name: Optional[str] = None) -> Tensor:
    """x for x > 0, exp(x) - 1 otherwise."""
    return apply("Elu", [to_tensor(features)], name=name)


def softplus(features: Any, name: Optional[str] = None) -> Tensor:
    """log(1 + exp(x)), computed without overflow."""
    return apply("Softplus", [to_tensor(features)], name=name)


def softmax(logits: Any, axis: int = -1, name: Optional[str] = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, computed stably.

    Example:
        >>> probabilities = gn.nn.softmax(logits)
    """
    return apply("Softmax", [to_tensor(logits)], {"axis": int(axis)}, name=name)


def log_softmax(logits: Any, axis: int = -1, name: Optional[str] = None) -> Tensor:
    """log(softmax(x)) along ``axis``, computed stably."""
    return apply("LogSoftmax", [to_tensor(logits)], {"axis": int(axis)}, name=name)


def softmax_cross_entropy_with_logits(labels: Any, logits: Any, axis: int = -1,
                                      name: Optional[str] = None) -> Tensor:
    """Per-example cross-entropy between label distributions and softmax(logits), the
    classes along ``axis``; gradients reach both labels and logits (TF 1's ``_v2``).

    Example:
        >>> loss = gn.reduce_mean(gn.nn.softmax_cross_entropy_with_logits(labels=y, logits=z))
    """
    labels, logits = pair(labels, logits)
    return apply("SoftmaxCrossEntropyWithLogits", [labels, logits], {"axis": int(axis)},
                 name=name)


def sparse_softmax_cross_entropy_with_logits(labels: Any, logits: Any,
                                             name: Optional[str] = None) -> Tensor:
    """Per-example cross-entropy for integer class labels (no one-hot needed).

    Example:
        >>> loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=z))
    """
    return apply("SparseSoftmaxCrossEntropyWithLogits", [to_tensor(labels), to_tensor(logits)],
                 name=name)


def sigmoid_cross_entropy_with_logits(labels: Any, logits: Any,
                                      name: Optional[str] = None) -> Tensor:
    """Element-wise logistic loss of ``logits`` against probabilities ``labels`` (same
    shape), computed stably as TF does: ``max(x, 0) - x * z + log1p(exp(-|x|))``.

    Example:
        >>> loss = gn.reduce_mean(gn.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))
    """
    labels, logits = pair(labels, logits)
    return apply("SigmoidCrossEntropyWithLogits", [labels, logits], name=name)


def l2_loss(t: Any, name: Optional[str] = None) -> Tensor:
    """sum(t ** 2) / 2, a scalar (weight decay).

    Example:
        >>> penalty = 1e-4 * gn.nn.l2_loss(W)
    """
    return apply("L2Loss", [to_tensor(t)], name=name)


def bias_add(value: Any, bias: Any, data_format: Optional[str] = None,
             name: Optional[str] = None) -> Tensor:
    """Adds a 1-D bias to the channel axis (last for NHWC/None, 1 for NCHW).

    Example:
        >>> z = gn.nn.bias_add(gn.matmul(x, W), b)
    """
    value, bias = pair(value, bias)
    return apply("BiasAdd", [value, bias], {"data_format": data_format or "NHWC"}, name=name)


def dropout(x: Any, rate: Any, training: Any = True, noise_shape: Any = None,
            seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """Zeroes each element with probability ``rate`` and scales the rest by 1 / (1 - rate).

    ``training`` may be a Python bool or a bool tensor (e.g. a
    ``placeholder_with_default``), so one graph serves training and evaluation. The ops
    sit in a ``dropout`` name scope whose last op carries the scope's name, as TF 1.

    Example:
        >>> h = gn.nn.dropout(h, rate=0.5, training=is_training)
    """
    check_seed(seed, "dropout's seed")  # before any op is created
    x = to_tensor(x)
    if training is False:
        return x
    if isinstance(rate, (int, float)) and not 0 <= rate < 1:
        raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
    with x.graph.name_scope(name or "dropout") as scope:
        noise = random_uniform(shape(x) if noise_shape is None else noise_shape,
                               dtype=x.dtype, seed=seed)
        keep = noise >= rate
        if training is True:
            return where(keep, x / (1.0 - rate), zeros_like(x), name=scope)
        dropped = where(keep, x / (1.0 - rate), zeros_like(x))
        return where(training, dropped, x, name=scope)
