"""Reductions (sum, max, min, prod; mean and logsumexp as compositions) and arg-reductions."""
from __future__ import annotations

from typing import Any, Callable, Optional

import jax.numpy as jnp
import numpy as np

from graphnn.framework import dtypes
from graphnn.framework.shapes import TensorShape, normalize_axes, normalize_axis
from graphnn.framework.tensor import Tensor
from graphnn.ops.declare import (OpDef, Sample, apply, build_time_ints, check_dtype, rand,
                                 register, require, to_tensor)


def reduced_shape(shape: TensorShape, axes: Optional[tuple], keepdims: bool) -> TensorShape:
    if shape.ndims is None:
        return TensorShape(None)
    if axes is None:
        axes = tuple(range(shape.ndims))
    if keepdims:
        return TensorShape([1 if i in axes else d for i, d in enumerate(shape.dims)])
    return TensorShape([d for i, d in enumerate(shape.dims) if i not in axes])


def _reduce_infer(kind: str) -> Callable:
    def infer(inputs, axis=None, keepdims=False):
        x = inputs[0]
        check_dtype(x, kind)
        if x.shape.ndims is not None and axis is not None:
            normalize_axes(axis, x.shape.ndims)  # range check
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
                 Sample((rand(rng, (), dtype),), {"axis": None, "keepdims": False})]
        if kind == "numeric":
            cases.append(Sample((rand(rng, (3, 4), dtypes.int32, -3, 3),),
                                {"axis": (0,), "keepdims": False}))
        return cases
    return samples


def _reduced_axes(op) -> tuple:
    axis = op.attrs.get("axis")
    rank = op.inputs[0].shape.ndims
    if axis is None:
        if rank is None:
            raise ValueError(f"the gradient of {op.describe()} needs its input's rank")
        return tuple(range(rank))
    return tuple(sorted(a % rank for a in axis)) if rank is not None else tuple(axis)


def _keep_reduced_dims(op, value: Tensor) -> Tensor:
    """``value`` (shaped like the reduction's output) with the reduced axes put back as 1s."""
    if op.attrs.get("keepdims"):
        return value
    for axis in _reduced_axes(op):
        value = apply("ExpandDims", [value], {"axis": axis})
    return value


def _back_to_input(op, value: Tensor) -> Tensor:
    return apply("BroadcastTo", [_keep_reduced_dims(op, value),
                                 apply("Shape", [op.inputs[0]], {"out_type": dtypes.int32})])


def _sum_grad(op, g):
    return [_back_to_input(op, g)]


def _extremum_grad(op, g):
    """Shared equally between the elements that attain the max (or min), as TF."""
    x = op.inputs[0]
    hit = apply("Cast", [apply("Equal", [x, _back_to_input(op, op.outputs[0])])], {"DstT": x.dtype})
    count = apply("Sum", [hit], {"axis": _reduced_axes(op), "keepdims": True})
    return [apply("RealDiv", [apply("Mul", [_back_to_input(op, g), hit]), count])]


def _prod_grad(op, g):
    """Product of the other elements, exact with zeros: y / x without zeros; with one zero
    the product of the rest at that zero and 0 elsewhere; with two or more, 0."""
    x = op.inputs[0]
    is_zero = apply("Equal", [x, apply("ZerosLike", [x])])
    safe_x = apply("Select", [is_zero, apply("OnesLike", [x]), x])
    axes = {"axis": _reduced_axes(op), "keepdims": True}
    product_nonzero = apply("BroadcastTo", [apply("Prod", [safe_x], axes),
                                            apply("Shape", [x], {"out_type": dtypes.int32})])
    zeros = apply("BroadcastTo", [apply("Sum", [apply("Cast", [is_zero], {"DstT": x.dtype})], axes),
                                  apply("Shape", [x], {"out_type": dtypes.int32})])
    no_zero = apply("Equal", [zeros, apply("ZerosLike", [zeros])])
    one_zero = apply("Equal", [zeros, apply("OnesLike", [zeros])])
    others = apply("Select", [no_zero, apply("RealDiv", [product_nonzero, safe_x]),
                              apply("Select", [apply("LogicalAnd", [one_zero, is_zero]),
                                               product_nonzero, apply("ZerosLike", [x])])])
    return [apply("Mul", [_back_to_input(op, g), others])]


def _declare_reduction(op_type: str, jax_fn: Callable, numpy_fn: Callable,
                       grad: Optional[Callable], kind: str = "numeric") -> None:
    def lower(x, axis=None, keepdims=False):
        return jax_fn(x, axis=axis, keepdims=keepdims).astype(x.dtype)

    def reference(x, axis=None, keepdims=False):
        return np.asarray(numpy_fn(x, axis=axis, keepdims=keepdims)).astype(x.dtype)

    register(OpDef(op_type, infer=_reduce_infer(kind), lower=lower, reference=reference,
                   samples=_reduce_samples(kind), grad=grad, differentiable=grad is not None))


_declare_reduction("Sum", jnp.sum, np.sum, _sum_grad)
_declare_reduction("Prod", jnp.prod, np.prod, _prod_grad)
_declare_reduction("Max", jnp.max, np.max, _extremum_grad)
_declare_reduction("Min", jnp.min, np.min, _extremum_grad)
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
    """Mean over ``axis``: a Sum divided by the number of reduced elements.

    The count comes from the static shape when known, else from ``gn.size``
    at run time, so batches of any size work. Integer inputs give an integer
    mean, as in TensorFlow 1.

    Example:
        >>> gn.reduce_mean(gn.constant([1.0, 2.0, 3.0]))  # 2.0
    """
    x = to_tensor(input_tensor)
    total = _reduce("Sum", x, axis, keepdims, None)
    known_in, known_out = x.shape.num_elements(), total.shape.num_elements()
    if known_in is not None and known_out is not None:
        count = to_tensor(known_in // max(known_out, 1), x.dtype)
    else:
        sizes = [apply("Size", [t], {"out_type": dtypes.int32}) for t in (x, total)]
        count = apply("Cast", [apply("FloorDiv", sizes)], {"DstT": x.dtype})
    return apply("FloorDiv" if x.dtype.is_integer else "RealDiv", [total, count],
                 name=name or "Mean")


def reduce_logsumexp(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                     name: Optional[str] = None) -> Tensor:
    """log(sum(exp(x))) over ``axis``, computed stably by shifting with the maximum.

    Example:
        >>> gn.reduce_logsumexp(gn.constant([1000.0, 1000.0]))  # 1000.6931
    """
    x = to_tensor(input_tensor)
    shift = apply("StopGradient", [_reduce("Max", x, axis, True, None)])
    total = _reduce("Sum", apply("Exp", [apply("Sub", [x, shift])]), axis, keepdims, None)
    if not keepdims:
        shift = apply("Reshape", [shift, apply("Shape", [total], {"out_type": dtypes.int32})])
    return apply("Add", [apply("Log", [total]), shift], name=name or "LogSumExp")


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
