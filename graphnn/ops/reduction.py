"""Reductions (sum, mean, max, min, prod, logsumexp, all, any) and arg-reductions.

Each reduction the user calls is one op with its own lowering and gradient rule, as in
TensorFlow 1's graphs. Gradient rules work for inputs of unknown rank: what depends on
the input's shape is computed by graph ops (``shape``, ``ReducedShape``) that the
compiler folds once a run's shapes are known.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from graphnn.framework import dtypes
from graphnn.framework.shapes import TensorShape, normalize_axes, normalize_axis
from graphnn.framework.tensor import Tensor
from graphnn.ops.array import broadcast_to, expand_dims, reshape
from graphnn.ops.creation import cast, ones_like, shape, size, where, zeros_like
from graphnn.ops.declare import (OpDef, Sample, apply, build_time_ints, check_dtype, rand,
                                 register, require, static_ints, to_tensor)
from graphnn.ops.math import equal, exp, floordiv, logical_and, maximum


def reduced_shape(shape: TensorShape, axes: Optional[tuple], keepdims: bool) -> TensorShape:
    if shape.ndims is None:
        return TensorShape(None)
    axes = normalize_axes(axes, shape.ndims)
    if keepdims:
        return TensorShape([1 if i in axes else d for i, d in enumerate(shape.dims)])
    return TensorShape([d for i, d in enumerate(shape.dims) if i not in axes])


def _reduce_infer(kind: str) -> Callable:
    def infer(inputs, axis=None, keepdims=False):
        x = inputs[0]
        check_dtype(x, kind)
        return [(reduced_shape(x.shape, axis, keepdims), x.dtype)]
    return infer


def _reduce_samples(kind: str) -> Callable:
    def samples(rng, dtype):
        if kind == "bool":
            return [Sample((rand(rng, (3, 4), dtypes.bool_),), {"axis": (1,), "keepdims": False})]
        x = rand(rng, (2, 3, 4), dtype)
        cases = [Sample((x,), {"axis": None, "keepdims": False}),
                 Sample((x,), {"axis": (1,), "keepdims": False}),
                 Sample((x,), {"axis": (0, 2), "keepdims": True}),
                 Sample((x,), {"axis": (-1,), "keepdims": False}),
                 Sample((x,), {"axis": (0, -1), "keepdims": False}),
                 Sample((rand(rng, (), dtype),), {"axis": None, "keepdims": False})]
        if kind == "numeric":
            cases.append(Sample((rand(rng, (3, 4), dtypes.int32, -3, 3),),
                                {"axis": (0,), "keepdims": False}))
        return cases
    return samples


def _reduced_shape_reference(shape, axis):
    """``shape`` with the reduced axes set to 1 (all of them when ``axis`` is None)."""
    dims = np.array(shape, copy=True).reshape(-1)
    dims[slice(None) if axis is None else list(axis)] = 1
    return dims


def _reduced_shape_infer(inputs, axis):
    shape = inputs[0]
    check_dtype(shape, "int")
    require(shape.shape.ndims in (1, None), f"ReducedShape takes a 1-D shape, got {shape.shape}")
    return [(TensorShape([shape.shape[0] if shape.shape.ndims == 1 else None]), shape.dtype)]


# TensorFlow's reduced_shape as one small op: the shape a reduction keeps with keepdims, for
# the gradient of a reduction over an input of unknown rank (negative axes count from an
# end that only a run knows). Its input is a shape, so it folds once the run's shapes are known.
register(OpDef("ReducedShape", infer=_reduced_shape_infer,
               lower=lambda shape, axis: _reduced_shape_reference(
                   np.array(static_ints(shape, "ReducedShape's shape"), shape.dtype), axis),
               reference=_reduced_shape_reference, differentiable=False, numpy_exact=True,
               samples=lambda rng, dtype: [
                   Sample((np.array([2, 3, 4], np.int32),), {"axis": a}, static=(0,))
                   for a in ((1,), (0, -1), None)]))


def _keep_reduced_dims(op, value: Tensor) -> Tensor:
    """``value`` (shaped like the reduction's output) with the reduced axes put back as 1s,
    so that it broadcasts against the reduction's input."""
    x, axis = op.inputs[0], op.attrs.get("axis")
    if op.attrs.get("keepdims") or axis is None:
        return value  # already of the input's rank, or a scalar: both broadcast
    if x.shape.ndims is not None:
        axes = sorted(a % x.shape.ndims for a in axis)
    elif all(a >= 0 for a in axis):
        axes = sorted(axis)
    elif all(a < 0 for a in axis):
        axes = sorted(axis, reverse=True)  # -1 first: each counts from the result's end
    else:  # both signs and a rank that only a run knows: the run computes the kept shape
        return reshape(value, apply("ReducedShape", [shape(x)], {"axis": tuple(axis)}))
    for a in axes:
        value = expand_dims(value, a)
    return value


def _back_to_input(op, value: Tensor) -> Tensor:
    """``value``, shaped like the reduction's output, broadcast to the input's shape."""
    return broadcast_to(_keep_reduced_dims(op, value), shape(op.inputs[0]))


def _sum_grad(op, g):
    return [_back_to_input(op, g)]


def _extremum_grad(op, g):
    """Shared equally between the elements that attain the max (or min), as TF."""
    x = op.inputs[0]
    hit = cast(equal(x, _back_to_input(op, op.outputs[0])), x.dtype)
    count = reduce_sum(hit, op.attrs.get("axis"), keepdims=True)
    return [_back_to_input(op, g) * hit / count]


def _prod_grad(op, g):
    """Product of the other elements, exact with zeros: y / x without zeros; with one zero
    the product of the rest at that zero and 0 elsewhere; with two or more, 0."""
    x, axis = op.inputs[0], op.attrs.get("axis")
    is_zero = equal(x, 0.0)
    safe_x = where(is_zero, ones_like(x), x)
    product_nonzero = broadcast_to(reduce_prod(safe_x, axis, keepdims=True), shape(x))
    zeros = broadcast_to(reduce_sum(cast(is_zero, x.dtype), axis, keepdims=True), shape(x))
    others = where(equal(zeros, 0.0), product_nonzero / safe_x,
                   where(logical_and(equal(zeros, 1.0), is_zero), product_nonzero,
                         zeros_like(x)))
    return [_back_to_input(op, g) * others]


def _declare_reduction(op_type: str, jax_fn: Callable, numpy_fn: Callable,
                       grad: Optional[Callable], kind: str = "numeric") -> None:
    def lower(x, axis=None, keepdims=False):
        return jax_fn(x, axis=axis, keepdims=keepdims).astype(x.dtype)

    def reference(x, axis=None, keepdims=False):
        return np.asarray(numpy_fn(x, axis=axis, keepdims=keepdims)).astype(x.dtype)

    register(OpDef(op_type, infer=_reduce_infer(kind), lower=lower, reference=reference,
                   samples=_reduce_samples(kind), grad=grad, differentiable=grad is not None))


def _reduced_count(op, dtype: dtypes.DType) -> Tensor:
    """How many input elements each output element of the reduction summarizes."""
    x, y = op.inputs[0], op.outputs[0]
    known_in, known_out = x.shape.num_elements(), y.shape.num_elements()
    if known_in is not None and known_out is not None:
        return to_tensor(known_in // max(known_out, 1), dtype)
    return cast(floordiv(size(x), maximum(size(y), 1)), dtype)


def _mean_grad(op, g):
    return [_back_to_input(op, g) / _reduced_count(op, g.dtype)]


def _logsumexp_grad(op, g):
    """g times softmax(x) along the reduced axes: exp(x - logsumexp(x))."""
    x, y = op.inputs[0], op.outputs[0]
    return [_keep_reduced_dims(op, g) * exp(x - _keep_reduced_dims(op, y))]


def _mean(xp, x, axis, keepdims):
    """Integer means divide the integer sum, truncating toward zero (TensorFlow's kernel)."""
    if not np.issubdtype(x.dtype, np.integer):
        return xp.mean(x, axis=axis, keepdims=keepdims)
    total = xp.sum(x, axis=axis, keepdims=keepdims)
    count = x.size // max(total.size, 1)
    return xp.sign(total) * (xp.abs(total) // count)


def _logsumexp_reference(x, axis=None, keepdims=False):
    shift = np.max(x, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift
    return out if keepdims else np.squeeze(out, axis=axis)


_declare_reduction("Sum", jnp.sum, np.sum, _sum_grad)
_declare_reduction("Mean", lambda x, axis, keepdims: _mean(jnp, x, axis, keepdims),
                   lambda x, axis, keepdims: _mean(np, x, axis, keepdims), _mean_grad)
_declare_reduction("Prod", jnp.prod, np.prod, _prod_grad)
_declare_reduction("Max", jnp.max, np.max, _extremum_grad)
_declare_reduction("Min", jnp.min, np.min, _extremum_grad)
_declare_reduction("ReduceLogSumExp", jax.nn.logsumexp, _logsumexp_reference, _logsumexp_grad,
                   "float")
_declare_reduction("All", jnp.all, np.all, None, "bool")
_declare_reduction("Any", jnp.any, np.any, None, "bool")


def _arg_infer(inputs, axis: int, output_type: dtypes.DType = dtypes.int64):
    x = inputs[0]
    check_dtype(x, "numeric")
    if x.shape.ndims is None:
        return [(TensorShape(None), output_type)]
    require(x.shape.ndims > 0, "arg-reductions need a tensor of rank >= 1")
    axis = normalize_axis(axis, x.shape.ndims)
    return [(TensorShape([d for i, d in enumerate(x.shape.dims) if i != axis]), output_type)]


def _arg_samples(rng, dtype):
    x = rng.permutation(24).reshape(2, 3, 4).astype(dtypes.as_dtype(dtype).as_numpy_dtype)
    return [Sample((x,), {"axis": 1, "output_type": dtypes.int64}),
            Sample((x,), {"axis": -1, "output_type": dtypes.int32})]


for _op_type, _jax_fn, _numpy_fn in (("ArgMax", jnp.argmax, np.argmax),
                                     ("ArgMin", jnp.argmin, np.argmin)):
    register(OpDef(
        _op_type, infer=_arg_infer,
        lower=lambda x, axis, output_type=dtypes.int64, f=_jax_fn:
            f(x, axis=axis).astype(output_type.as_numpy_dtype),
        reference=lambda x, axis, output_type=dtypes.int64, f=_numpy_fn:
            f(x, axis=axis).astype(output_type.as_numpy_dtype),
        samples=_arg_samples, differentiable=False))


# ----- public functions -------------------------------------------------------------
def _axes(axis: Any) -> Optional[tuple]:
    return None if axis is None else build_time_ints(axis, "Reduction axes")


def _reduce(op_type: str, x: Any, axis: Any, keepdims: bool, name: Optional[str]) -> Tensor:
    x = to_tensor(x)
    axes = _axes(axis)
    if axes is not None and x.shape.ndims is not None:
        axes = normalize_axes(axes, x.shape.ndims)
    return apply(op_type, [x], {"axis": axes, "keepdims": bool(keepdims)}, name=name)


def reduce_sum(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: Optional[str] = None) -> Tensor:
    """Sum over ``axis`` (all axes when None).

    Example:
        >>> gn.reduce_sum(gn.constant([[1.0, 2.0], [3.0, 4.0]]), axis=1)  # [3., 7.]
    """
    return _reduce("Sum", input_tensor, axis, keepdims, name)


def reduce_prod(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                name: Optional[str] = None) -> Tensor:
    """Product over ``axis`` (all axes when None)."""
    return _reduce("Prod", input_tensor, axis, keepdims, name)


def reduce_max(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: Optional[str] = None) -> Tensor:
    """Maximum over ``axis`` (all axes when None)."""
    return _reduce("Max", input_tensor, axis, keepdims, name)


def reduce_min(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: Optional[str] = None) -> Tensor:
    """Minimum over ``axis`` (all axes when None)."""
    return _reduce("Min", input_tensor, axis, keepdims, name)


def reduce_all(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: Optional[str] = None) -> Tensor:
    """Logical AND over ``axis`` of a bool tensor."""
    return _reduce("All", input_tensor, axis, keepdims, name)


def reduce_any(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: Optional[str] = None) -> Tensor:
    """Logical OR over ``axis`` of a bool tensor."""
    return _reduce("Any", input_tensor, axis, keepdims, name)


def reduce_mean(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                name: Optional[str] = None) -> Tensor:
    """Mean over ``axis`` (all axes when None), one ``Mean`` op.

    Integer inputs give an integer mean, truncated toward zero, as in TensorFlow 1.

    Example:
        >>> gn.reduce_mean(gn.constant([1.0, 2.0, 3.0]))  # 2.0
    """
    return _reduce("Mean", input_tensor, axis, keepdims, name)


def reduce_logsumexp(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                     name: Optional[str] = None) -> Tensor:
    """log(sum(exp(x))) over ``axis``, one op computed stably (shifted by the maximum).

    Example:
        >>> gn.reduce_logsumexp(gn.constant([1000.0, 1000.0]))  # 1000.6931
    """
    return _reduce("ReduceLogSumExp", input_tensor, axis, keepdims, name)


def argmax(input: Any, axis: Any = None, output_type: Any = dtypes.int64,  # noqa: A002 (TF)
           name: Optional[str] = None) -> Tensor:
    """Index of the largest value along ``axis`` (0 when None), int64 by default as TF 1.

    Example:
        >>> gn.argmax(logits, axis=1)
    """
    return apply("ArgMax", [to_tensor(input)], {"axis": 0 if axis is None else int(axis),
                                                "output_type": dtypes.as_dtype(output_type)},
                 name=name)


def argmin(input: Any, axis: Any = None, output_type: Any = dtypes.int64,  # noqa: A002 (TF)
           name: Optional[str] = None) -> Tensor:
    """Index of the smallest value along ``axis`` (0 when None), int64 by default as TF 1."""
    return apply("ArgMin", [to_tensor(input)], {"axis": 0 if axis is None else int(axis),
                                                "output_type": dtypes.as_dtype(output_type)},
                 name=name)
