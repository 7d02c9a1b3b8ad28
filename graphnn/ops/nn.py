"""Neural-network ops: activations, softmax, fused cross-entropies, convolution and pooling.

Softmax, LogSoftmax and the softmax cross-entropies are primitives (fused for
numerical stability and so the compiler can recognise them); sigmoid
cross-entropy, l2_loss, bias_add and dropout are compositions.
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
from graphnn.ops.declare import (OpDef, Sample, apply, check_dtype, float_sample_shapes, pair,
                                 rand, register, require, same_as_input, to_tensor)
from graphnn.ops.random import random_uniform
from graphnn.ops.vjp import vjp_gradient


def _np_log_softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _activation_samples(rng, dtype):
    return [Sample((rand(rng, s, dtype),)) for s in float_sample_shapes]


def _declare_activation(op_type: str, jax_fn: Callable, numpy_fn: Callable,
                        grad: Callable) -> None:
    register(OpDef(op_type, infer=same_as_input("float"), lower=jax_fn,
                   reference=lambda x, **attrs: np.asarray(numpy_fn(x, **attrs)).astype(x.dtype),
                   samples=_activation_samples, grad=grad))


def _positive_part(op, g, otherwise):
    """g where the input is > 0, ``otherwise`` elsewhere."""
    return [apply("Select", [apply("Greater", [op.inputs[0], apply("ZerosLike", [op.inputs[0]])]),
                             g, otherwise])]


_declare_activation("Relu", jax.nn.relu, lambda x: np.maximum(x, 0),
                    lambda op, g: _positive_part(op, g, apply("ZerosLike", [g])))
_declare_activation("Elu", jax.nn.elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
                    lambda op, g: _positive_part(op, g, g * (op.outputs[0] + 1.0)))
_declare_activation("Softplus", jax.nn.softplus, lambda x: np.logaddexp(x, 0),
                    lambda op, g: [g * apply("Sigmoid", [op.inputs[0]])])

register(OpDef("LeakyRelu", infer=same_as_input("float"),
               lower=lambda x, alpha: jnp.where(x > 0, x, x * alpha),
               reference=lambda x, alpha: np.where(x > 0, x, x * alpha).astype(x.dtype),
               grad=lambda op, g: _positive_part(op, g, g * op.attrs["alpha"]),
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
    y, axis = op.outputs[0], op.attrs.get("axis", -1)
    inner = apply("Sum", [g * y], {"axis": _axis_tuple(y, axis), "keepdims": True})
    return [y * (g - inner)]


def _log_softmax_grad(op, g):
    y, axis = op.outputs[0], op.attrs.get("axis", -1)
    total = apply("Sum", [g], {"axis": _axis_tuple(y, axis), "keepdims": True})
    return [g - apply("Exp", [y]) * total]


def _axis_tuple(x: Tensor, axis: int) -> tuple:
    return (axis % x.shape.ndims,) if x.shape.ndims is not None else (axis,)


register(OpDef("Softmax", infer=_softmax_infer,
               lower=lambda x, axis=-1: jax.nn.softmax(x, axis=axis),
               reference=lambda x, axis=-1: np.exp(_np_log_softmax(x, axis)).astype(x.dtype),
               samples=_softmax_samples, grad=_softmax_grad))
register(OpDef("LogSoftmax", infer=_softmax_infer,
               lower=lambda x, axis=-1: jax.nn.log_softmax(x, axis=axis),
               reference=lambda x, axis=-1: _np_log_softmax(x, axis).astype(x.dtype),
               samples=_softmax_samples, grad=_log_softmax_grad))


# ----- fused cross-entropies ------------------------------------------------------------
def _xent_infer(inputs):
    labels, logits = inputs
    check_dtype(logits, "float")
    if labels.dtype != logits.dtype:
        raise DTypeError(f"labels ('{labels.name}', {labels.dtype}) and logits "
                         f"('{logits.name}', {logits.dtype}) must have one dtype")
    require(labels.shape.is_compatible_with(logits.shape),
            f"labels shape {labels.shape} and logits shape {logits.shape} must be equal")
    shape = labels.shape.merge_with(logits.shape)
    return [(TensorShape(None) if shape.ndims is None else shape[:-1], logits.dtype)]


def _xent_lower(labels, logits):
    return -jnp.sum(labels * jax.nn.log_softmax(logits, axis=-1), axis=-1)


def _xent_samples(rng, dtype):
    labels = rng.dirichlet(np.ones(5), size=4).astype(dtypes.as_dtype(dtype).as_numpy_dtype)
    return [Sample((labels, rand(rng, (4, 5), dtype, -4, 4)))]


def _xent_grad(op, g):
    labels, logits = op.inputs
    g = apply("ExpandDims", [g], {"axis": -1})
    log_probs = apply("LogSoftmax", [logits], {"axis": -1})
    return [-(g * log_probs), g * (apply("Exp", [log_probs]) - labels)]


register(OpDef("SoftmaxCrossEntropyWithLogits", infer=_xent_infer, lower=_xent_lower,
               reference=lambda labels, logits: -np.sum(labels * _np_log_softmax(logits), -1),
               samples=_xent_samples, grad=_xent_grad))


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
    labels, logits = op.inputs
    depth = logits.shape[-1] if logits.shape.ndims is not None else None
    if depth is None:
        return vjp_gradient(op, g)
    # After the forward op, as TF 1's gradient reads its kernel's output: its label check
    # then guards a run that fetches only the gradient (one-hot alone maps bad labels to 0).
    with op.graph.control_dependencies([op]):
        one_hot = apply("OneHot", [labels], {"depth": depth, "on_value": 1.0,
                                             "off_value": 0.0, "axis": -1,
                                             "dtype": logits.dtype})
    g = apply("ExpandDims", [g], {"axis": -1})
    return [None, g * (apply("Softmax", [logits], {"axis": -1}) - one_hot)]


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


# ----- convolution and pooling ---------------------------------------------------------
def _pair_of(value: Any, name: str, data_format: str) -> tuple[int, int]:
    """Strides/sizes/dilations given as an int, (h, w) or TF's 4-element form."""
    values = [int(value)] * 2 if np.isscalar(value) else [int(v) for v in value]
    if len(values) == 4:
        values = values[1:3] if data_format == "NHWC" else values[2:4]
    if len(values) != 2:
        raise ValueError(f"{name} must be an int, 2 ints or 4 ints, got {value!r}")
    return values[0], values[1]


def _out_size(size: Optional[int], window: int, stride: int, padding: str) -> Optional[int]:
    if size is None:
        return None
    if padding == "SAME":
        return -(-size // stride)
    return max(-(-(size - window + 1) // stride), 0)


def _spatial_axes(data_format: str) -> tuple[int, int, int]:
    require(data_format in ("NHWC", "NCHW"), f"data_format must be NHWC or NCHW, got {data_format!r}")
    return (1, 2, 3) if data_format == "NHWC" else (2, 3, 1)


def _conv_infer(inputs, strides, padding, data_format, dilations):
    x, w = inputs
    if x.dtype != w.dtype:
        raise DTypeError(f"input ({x.dtype}) and filters ({w.dtype}) must have one dtype")
    check_dtype(x, "float")
    require(padding in ("SAME", "VALID"), f"padding must be 'SAME' or 'VALID', got {padding!r}")
    require(x.shape.ndims in (4, None) and w.shape.ndims in (4, None),
            f"conv2d needs a 4-D input and 4-D filters (kh, kw, in, out); got {x.shape} "
            f"and {w.shape}")
    if x.shape.ndims is None or w.shape.ndims is None:
        return [(TensorShape(None), x.dtype)]
    h_axis, w_axis, c_axis = _spatial_axes(data_format)
    kh, kw, c_in, c_out = w.shape.dims
    if x.shape[c_axis] is not None and c_in is not None:
        require(x.shape[c_axis] == c_in, f"input has {x.shape[c_axis]} channels but the "
                                         f"filters expect {c_in}")
    eff_h = None if kh is None else (kh - 1) * dilations[0] + 1
    eff_w = None if kw is None else (kw - 1) * dilations[1] + 1
    dims = [x.shape[0], None, None, None]
    dims[h_axis] = _out_size(x.shape[h_axis], eff_h or 1, strides[0], padding)
    dims[w_axis] = _out_size(x.shape[w_axis], eff_w or 1, strides[1], padding)
    dims[c_axis] = c_out
    return [(TensorShape(dims), x.dtype)]


def _conv_lower(x, w, strides, padding, data_format, dilations):
    return jax.lax.conv_general_dilated(
        x, w, window_strides=strides, padding=padding, rhs_dilation=dilations,
        dimension_numbers=(data_format, "HWIO", data_format))


def _same_pads(size: int, window: int, stride: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _conv_reference(x, w, strides, padding, data_format, dilations):
    if data_format == "NCHW":
        x = np.transpose(x, (0, 2, 3, 1))
    kh, kw = w.shape[:2]
    eff_h, eff_w = (kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1
    if padding == "SAME":
        pads = (_same_pads(x.shape[1], eff_h, strides[0]), _same_pads(x.shape[2], eff_w, strides[1]))
        x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    out_h = (x.shape[1] - eff_h) // strides[0] + 1
    out_w = (x.shape[2] - eff_w) // strides[1] + 1
    out = np.zeros((x.shape[0], out_h, out_w, w.shape[3]), x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * strides[0]:i * strides[0] + eff_h:dilations[0],
                      j * strides[1]:j * strides[1] + eff_w:dilations[1], :]
            out[:, i, j, :] = np.einsum("nhwc,hwco->no", patch, w)
    return out if data_format == "NHWC" else np.transpose(out, (0, 3, 1, 2))


def _conv_samples(rng, dtype):
    x = rand(rng, (2, 6, 5, 3), dtype)
    w = rand(rng, (3, 2, 3, 4), dtype)
    base = {"data_format": "NHWC", "dilations": (1, 1)}
    return [Sample((x, w), {**base, "strides": (1, 1), "padding": "SAME"}),
            Sample((x, w), {**base, "strides": (2, 2), "padding": "VALID"}),
            Sample((x, w), {**base, "strides": (2, 1), "padding": "SAME", "dilations": (2, 1)}),
            Sample((np.transpose(x, (0, 3, 1, 2)), w),
                   {**base, "strides": (1, 2), "padding": "SAME", "data_format": "NCHW"})]


register(OpDef("Conv2D", infer=_conv_infer, lower=_conv_lower, reference=_conv_reference,
               samples=_conv_samples, grad=vjp_gradient))


def _pool_infer(inputs, ksize, strides, padding, data_format):
    x = inputs[0]
    check_dtype(x, "float")
    require(padding in ("SAME", "VALID"), f"padding must be 'SAME' or 'VALID', got {padding!r}")
    require(x.shape.ndims in (4, None), f"pooling needs a 4-D input, got {x.shape}")
    if x.shape.ndims is None:
        return [(TensorShape(None), x.dtype)]
    h_axis, w_axis, _ = _spatial_axes(data_format)
    dims = list(x.shape.dims)
    dims[h_axis] = _out_size(dims[h_axis], ksize[0], strides[0], padding)
    dims[w_axis] = _out_size(dims[w_axis], ksize[1], strides[1], padding)
    return [(TensorShape(dims), x.dtype)]


def _window(pair_: tuple, data_format: str) -> tuple:
    return (1, *pair_, 1) if data_format == "NHWC" else (1, 1, *pair_)


def _max_pool_lower(x, ksize, strides, padding, data_format):
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, _window(ksize, data_format),
                                 _window(strides, data_format), padding)


def _avg_pool_lower(x, ksize, strides, padding, data_format):
    window, step = _window(ksize, data_format), _window(strides, data_format)
    total = jax.lax.reduce_window(x, 0.0, jax.lax.add, window, step, padding)
    # TF divides by the number of real (unpadded) elements in each window.
    count = jax.lax.reduce_window(jnp.ones(x.shape, x.dtype), 0.0, jax.lax.add, window, step,
                                  padding)
    return total / count


def _pool_reference(reduce: Callable) -> Callable:
    def reference(x, ksize, strides, padding, data_format):
        if data_format == "NCHW":
            x = np.transpose(x, (0, 2, 3, 1))
        x = x.astype(np.float64)
        if padding == "SAME":
            pads = (_same_pads(x.shape[1], ksize[0], strides[0]),
                    _same_pads(x.shape[2], ksize[1], strides[1]))
            x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=np.nan)
        out_h = (x.shape[1] - ksize[0]) // strides[0] + 1
        out_w = (x.shape[2] - ksize[1]) // strides[1] + 1
        out = np.zeros((x.shape[0], out_h, out_w, x.shape[3]))
        for i in range(out_h):
            for j in range(out_w):
                patch = x[:, i * strides[0]:i * strides[0] + ksize[0],
                          j * strides[1]:j * strides[1] + ksize[1], :]
                out[:, i, j, :] = reduce(patch, axis=(1, 2))
        return out if data_format == "NHWC" else np.transpose(out, (0, 3, 1, 2))
    return reference


def _pool_samples(rng, dtype):
    x = rand(rng, (2, 5, 6, 3), dtype)
    base = {"data_format": "NHWC"}
    return [Sample((x,), {**base, "ksize": (2, 2), "strides": (2, 2), "padding": "VALID"}),
            Sample((x,), {**base, "ksize": (3, 3), "strides": (2, 2), "padding": "SAME"}),
            Sample((np.transpose(x, (0, 3, 1, 2)),),
                   {"ksize": (2, 3), "strides": (1, 2), "padding": "SAME", "data_format": "NCHW"})]


register(OpDef("MaxPool", infer=_pool_infer, lower=_max_pool_lower,
               reference=_pool_reference(np.nanmax), samples=_pool_samples, grad=vjp_gradient))
register(OpDef("AvgPool", infer=_pool_infer, lower=_avg_pool_lower,
               reference=_pool_reference(np.nanmean), samples=_pool_samples, grad=vjp_gradient))


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
    """Per-example cross-entropy between label distributions and softmax(logits).

    Example:
        >>> loss = gn.reduce_mean(gn.nn.softmax_cross_entropy_with_logits(labels=y, logits=z))
    """
    labels, logits = pair(labels, logits)
    if axis not in (-1, (logits.shape.ndims or 0) - 1):
        labels = _move_last(labels, axis)
        logits = _move_last(logits, axis)
    return apply("SoftmaxCrossEntropyWithLogits", [labels, logits], name=name)


def _move_last(x: Tensor, axis: int) -> Tensor:
    rank = x.shape.ndims
    if rank is None:
        raise ValueError("softmax cross-entropy over a non-last axis needs a known rank")
    axis = normalize_axis(axis, rank)
    perm = tuple(i for i in range(rank) if i != axis) + (axis,)
    return apply("Transpose", [x], {"perm": perm})


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
    """Element-wise logistic loss, computed stably as TF does:
    ``max(x, 0) - x * z + log1p(exp(-|x|))``.

    Example:
        >>> loss = gn.reduce_mean(gn.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))
    """
    labels, logits = pair(labels, logits)
    relu_logits = apply("Relu", [logits])
    softplus_neg_abs = apply("Log1p", [apply("Exp", [apply("Neg", [apply("Abs", [logits])])])])
    return apply("Add", [apply("Sub", [relu_logits, apply("Mul", [logits, labels])]),
                         softplus_neg_abs], name=name or "logistic_loss")


def l2_loss(t: Any, name: Optional[str] = None) -> Tensor:
    """sum(t ** 2) / 2, a scalar (weight decay).

    Example:
        >>> penalty = 1e-4 * gn.nn.l2_loss(W)
    """
    t = to_tensor(t)
    total = apply("Sum", [apply("Square", [t])], {"axis": None, "keepdims": False})
    return apply("Mul", [total, to_tensor(0.5, t.dtype)], name=name or "L2Loss")


def bias_add(value: Any, bias: Any, data_format: Optional[str] = None,
             name: Optional[str] = None) -> Tensor:
    """Adds a 1-D bias to the channel axis (last for NHWC/None, 1 for NCHW).

    Example:
        >>> z = gn.nn.bias_add(gn.matmul(x, W), b)
    """
    value, bias = pair(value, bias)
    if bias.shape.ndims not in (1, None):
        raise ValueError(f"bias_add needs a 1-D bias, got shape {bias.shape} for '{bias.name}'")
    if data_format == "NCHW":
        rank = value.shape.ndims
        if rank is None:
            raise ValueError("bias_add with NCHW needs an input of known rank")
        bias = apply("Reshape", [bias, to_tensor(np.array([-1] + [1] * (rank - 2), np.int32))])
    return apply("Add", [value, bias], name=name or "BiasAdd")


def dropout(x: Any, rate: Any, training: Any = True, noise_shape: Any = None,
            seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """Zeroes each element with probability ``rate`` and scales the rest by 1 / (1 - rate).

    ``training`` may be a Python bool or a bool tensor (e.g. a
    ``placeholder_with_default``), so one graph serves training and evaluation.

    Example:
        >>> h = gn.nn.dropout(h, rate=0.5, training=is_training)
    """
    check_seed(seed, "dropout's seed")  # before any op is created
    x = to_tensor(x)
    if training is False:
        return x
    if isinstance(rate, (int, float)) and not 0 <= rate < 1:
        raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
    shape = apply("Shape", [x]) if noise_shape is None else noise_shape
    keep_probability = apply("Sub", [to_tensor(1.0, x.dtype), to_tensor(rate, x.dtype)])
    keep = apply("GreaterEqual", [random_uniform(shape, dtype=x.dtype, seed=seed),
                                  to_tensor(rate, x.dtype)])
    dropped = apply("Select", [keep, apply("RealDiv", [x, keep_probability]),
                               apply("ZerosLike", [x])])
    if training is True:
        return apply("Identity", [dropped], name=name or "dropout")
    return apply("Select", [to_tensor(training, dtypes.bool_), dropped, x], name=name or "dropout")


def _pool(op_type: str, input: Any, ksize: Any, strides: Any, padding: str,  # noqa: A002
          data_format: str, name: Optional[str]) -> Tensor:
    return apply(op_type, [to_tensor(input)],
                 {"ksize": _pair_of(ksize, "ksize", data_format),
                  "strides": _pair_of(strides, "strides", data_format),
                  "padding": padding.upper(), "data_format": data_format}, name=name)


def max_pool2d(input: Any, ksize: Any, strides: Any, padding: str,  # noqa: A002
               data_format: str = "NHWC", name: Optional[str] = None) -> Tensor:
    """Maximum over windows of ``ksize`` moved by ``strides`` (ints, pairs or 4-element lists).

    Example:
        >>> gn.nn.max_pool2d(h, ksize=2, strides=2, padding="VALID")
    """
    return _pool("MaxPool", input, ksize, strides, padding, data_format, name)


def avg_pool2d(input: Any, ksize: Any, strides: Any, padding: str,  # noqa: A002
               data_format: str = "NHWC", name: Optional[str] = None) -> Tensor:
    """Mean over windows (padding excluded from the count, as TF)."""
    return _pool("AvgPool", input, ksize, strides, padding, data_format, name)


def conv2d(input: Any, filters: Any, strides: Any, padding: str,  # noqa: A002
           data_format: str = "NHWC", dilations: Any = 1, name: Optional[str] = None) -> Tensor:
    """2-D convolution of ``input`` (NHWC or NCHW) with ``filters`` (kh, kw, in, out).

    Example:
        >>> h = gn.nn.conv2d(images, W, strides=1, padding="SAME")
    """
    input, filters = pair(input, filters)
    return apply("Conv2D", [input, filters],
                 {"strides": _pair_of(strides, "strides", data_format),
                  "padding": padding.upper(), "data_format": data_format,
                  "dilations": _pair_of(dilations, "dilations", data_format)}, name=name)
