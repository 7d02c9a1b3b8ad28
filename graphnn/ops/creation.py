"""Ops that make tensors or change their type: cast, where, fill, range, shape, one_hot ..."""
from __future__ import annotations

import builtins
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from graphnn.errors import DTypeError
from graphnn.framework import dtypes
from graphnn.framework.shapes import TensorShape, broadcast_shapes, normalize_axis
from graphnn.framework.tensor import Tensor
from graphnn.ops.declare import (OpDef, Sample, apply, check_dtype, output_shape, pair, rand,
                                 register, require, shape_tensor, static_ints, static_value,
                                 to_tensor)


# ----- OneHot ----------------------------------------------------------------------
def _one_hot_infer(inputs, depth, on_value, off_value, axis, dtype):
    indices = inputs[0]
    check_dtype(indices, "int")
    if indices.shape.ndims is None:
        return [(TensorShape(None), dtype)]
    dims = list(indices.shape.dims)
    dims.insert(normalize_axis(axis, len(dims) + 1), depth)
    return [(TensorShape(dims), dtype)]


def _one_hot_lower(indices, depth, on_value, off_value, axis, dtype):
    hot = jax.nn.one_hot(indices, depth, axis=axis, dtype=jnp.bool_)
    return jnp.where(hot, on_value, off_value).astype(dtype.as_numpy_dtype)


def _one_hot_reference(indices, depth, on_value, off_value, axis, dtype):
    hot = np.moveaxis(indices[..., None] == np.arange(depth), -1, axis)
    return np.where(hot, on_value, off_value).astype(dtype.as_numpy_dtype)


register(OpDef("OneHot", infer=_one_hot_infer, lower=_one_hot_lower,
               reference=_one_hot_reference, differentiable=False,
               samples=lambda rng, dtype: [
                   Sample((np.array([0, 2, -1, 5, 1], np.int32),),
                          {"depth": 4, "on_value": 1.0, "off_value": 0.0, "axis": -1,
                           "dtype": dtypes.as_dtype(dtype)}),
                   Sample((np.array([[1, 0], [3, 3]], np.int32),),
                          {"depth": 4, "on_value": 5.0, "off_value": -1.0, "axis": 0,
                           "dtype": dtypes.as_dtype(dtype)})]))


# ----- Cast, Select, Fill, Range, Shape, Size, ZerosLike, OnesLike --------------------------
def _cast_infer(inputs, DstT):  # noqa: N803 (TF's attribute name)
    return [(inputs[0].shape, DstT)]


def _cast_grad(op, g):
    source = op.inputs[0].dtype
    return [apply("Cast", [g], {"DstT": source}) if source.is_floating and g.dtype.is_floating
            else None]


def _select_grad(op, g):
    zeros = apply("ZerosLike", [g])
    condition = op.inputs[0]
    return [None, apply("Select", [condition, g, zeros]), apply("Select", [condition, zeros, g])]


def _cast_is_exact(op, values) -> bool:
    # Float to integer: NaN, infinities and out-of-range values convert differently.
    source, target = op.inputs[0].dtype, op.attrs["DstT"]
    if not (source.is_floating and target.is_integer):
        return True
    whole = np.trunc(values[0])
    info = np.iinfo(target.as_numpy_dtype)
    return bool(np.all(np.isfinite(whole)) and np.all(whole >= info.min)
                and np.all(whole <= info.max))


register(OpDef("Cast", infer=_cast_infer,
               lower=lambda x, DstT: x.astype(DstT.as_numpy_dtype),
               reference=lambda x, DstT: x.astype(DstT.as_numpy_dtype),
               samples=lambda rng, dtype: [
                   Sample((rand(rng, (3, 4), dtype),), {"DstT": dtypes.int32}),
                   Sample((rand(rng, (3,), dtypes.int32),), {"DstT": dtypes.as_dtype(dtype)}),
                   Sample((rand(rng, (3,), dtypes.bool_),), {"DstT": dtypes.as_dtype(dtype)})],
               grad=_cast_grad, numpy_exact=_cast_is_exact))


def _select_infer(inputs):
    condition, x, y = inputs
    check_dtype(condition, "bool")
    if x.dtype != y.dtype:
        raise DTypeError(f"x and y must have one dtype; got {x.dtype} ('{x.name}') and "
                         f"{y.dtype} ('{y.name}')")
    shape = broadcast_shapes(broadcast_shapes(condition.shape, x.shape), y.shape)
    return [(shape, x.dtype)]


register(OpDef("Select", infer=_select_infer, lower=jnp.where, reference=np.where,
               samples=lambda rng, dtype: [
                   Sample((rand(rng, (3, 4), dtypes.bool_), rand(rng, (3, 4), dtype),
                           rand(rng, (4,), dtype)))],
               grad=_select_grad, numpy_exact=True, broadcasts=True))


def _fill_infer(inputs):
    dims, value = inputs
    check_dtype(dims, "int")
    require(value.shape.ndims in (0, None), f"the fill value must be a scalar, got {value.shape}")
    return [(output_shape(dims), value.dtype)]


register(OpDef("Fill", infer=_fill_infer,
               lower=lambda dims, value: jnp.full(static_ints(dims, "Fill's dims"), value),
               reference=lambda dims, value: np.full(dims, value),
               samples=lambda rng, dtype: [Sample((np.array([2, 3], np.int32),
                                                   rand(rng, (), dtype)), static=(0,))],
               grad=lambda op, g: [None, apply("Sum", [g], {"axis": None, "keepdims": False})],
               numpy_exact=True))


def _range_infer(inputs):
    start, limit, delta = inputs
    for t in inputs:
        require(t.shape.ndims in (0, None), f"range arguments must be scalars, got {t.shape}")
        if t.dtype != start.dtype:
            raise DTypeError(f"range arguments must share one dtype; got {start.dtype} and {t.dtype}")
    known = [static_value(t) for t in inputs]
    if any(k is None for k in known):
        return [(TensorShape([None]), start.dtype)]
    require(np.asarray(known[2]).item() != 0, "range's delta must not be zero")
    return [(TensorShape([len(np.arange(*known))]), start.dtype)]


def _range_lower(start, limit, delta):
    return jnp.arange(*(np.asarray(v).item() for v in (start, limit, delta)),
                      dtype=np.asarray(start).dtype)


register(OpDef("Range", infer=_range_infer, lower=_range_lower,
               reference=lambda start, limit, delta: np.arange(start, limit, delta,
                                                               dtype=np.asarray(start).dtype),
               differentiable=False,
               samples=lambda rng, dtype: [Sample(tuple(np.array(v, dtypes.as_dtype(dtype)
                                                                 .as_numpy_dtype)
                                                        for v in (0.5, 4.0, 0.75)),
                                                  static=(0, 1, 2))]))


def _shape_lower(x, out_type=dtypes.int32):
    # A numpy result is a compile-time constant for the lowering.
    return np.array(x.shape, dtype=out_type.as_numpy_dtype)


def _size_lower(x, out_type=dtypes.int32):
    return np.array(np.size(x), out_type.as_numpy_dtype)


def _from_input_shape(fn: Callable) -> Callable:
    """A ``from_shapes`` hook: ``fn`` applied to a stand-in array of the input's shape."""
    def from_shapes(op):
        x = op.inputs[0]
        stand_in = np.broadcast_to(np.zeros((), x.dtype.as_numpy_dtype), x.shape.as_list())
        return (np.asarray(fn(stand_in, **op.attrs)),)
    return from_shapes


register(OpDef("Shape",
               infer=lambda inputs, out_type=dtypes.int32: [
                   (TensorShape([inputs[0].shape.ndims]), out_type)],
               lower=_shape_lower, reference=_shape_lower, differentiable=False,
               samples=lambda rng, dtype: [Sample((rand(rng, (2, 3), dtype),))],
               from_shapes=_from_input_shape(_shape_lower),
               value_as_shape=lambda op: op.inputs[0].shape))

register(OpDef("Size",
               infer=lambda inputs, out_type=dtypes.int32: [(TensorShape([]), out_type)],
               lower=_size_lower, reference=_size_lower, differentiable=False,
               samples=lambda rng, dtype: [Sample((rand(rng, (2, 3), dtype),))],
               from_shapes=_from_input_shape(_size_lower)))

register(OpDef("ZerosLike", infer=lambda inputs: [(inputs[0].shape, inputs[0].dtype)],
               lower=jnp.zeros_like, reference=np.zeros_like, differentiable=False,
               samples=lambda rng, dtype: [Sample((rand(rng, (2, 3), dtype),))],
               from_shapes=_from_input_shape(np.zeros_like)))

register(OpDef("OnesLike", infer=lambda inputs: [(inputs[0].shape, inputs[0].dtype)],
               lower=jnp.ones_like, reference=np.ones_like, differentiable=False,
               samples=lambda rng, dtype: [Sample((rand(rng, (2, 3), dtype),))],
               from_shapes=_from_input_shape(np.ones_like)))


# ----- public functions -------------------------------------------------------------
def cast(x: Any, dtype: Any, name: Optional[str] = None) -> Tensor:
    """Converts ``x`` to ``dtype`` (floats to ints truncate toward zero).

    Example:
        >>> gn.cast(gn.argmax(logits, 1), gn.int32)
    """
    x = to_tensor(x)
    dtype = dtypes.as_dtype(dtype)
    return apply("Cast", [x], {"DstT": dtype}, name=name)


def where(condition: Any, x: Any = None, y: Any = None, name: Optional[str] = None) -> Tensor:
    """Element-wise ``x if condition else y``, with numpy broadcasting.

    The one-argument form (coordinates of true elements) has a data-dependent
    shape, which XLA programs cannot have, so it is not provided.

    Example:
        >>> gn.where(x > 0, x, gn.zeros_like(x))
    """
    if x is None or y is None:
        raise ValueError("gn.where needs x and y: the one-argument form returns a tensor whose "
                         "shape depends on the data, which XLA cannot compile")
    x, y = pair(x, y)
    return apply("Select", [to_tensor(condition, dtypes.bool_), x, y], name=name)


def fill(dims: Any, value: Any, name: Optional[str] = None) -> Tensor:
    """A tensor of shape ``dims`` filled with the scalar ``value``.

    Example:
        >>> gn.fill([2, 3], 9.0)
    """
    dims = dims if isinstance(dims, Tensor) else to_tensor(np.asarray(dims, np.int32))
    return apply("Fill", [dims, to_tensor(value)], name=name)


def _filled(shape: Any, dtype: Any, value: float, name: Optional[str]) -> Tensor:
    dtype = dtypes.as_dtype(dtype)
    return apply("Fill", [shape_tensor(shape), to_tensor(value, dtype)], name=name)


def zeros(shape: Any, dtype: Any = dtypes.float32, name: Optional[str] = None) -> Tensor:
    """A tensor of zeros (shape may be a list or an int tensor such as ``gn.shape(x)``).

    Example:
        >>> gn.zeros([3, 4])
    """
    return _filled(shape, dtype, 0, name or "zeros")


def ones(shape: Any, dtype: Any = dtypes.float32, name: Optional[str] = None) -> Tensor:
    """A tensor of ones (shape may be a list or an int tensor).

    Example:
        >>> gn.ones([3], dtype=gn.int32)
    """
    return _filled(shape, dtype, 1, name or "ones")


def zeros_like(tensor: Any, dtype: Any = None, name: Optional[str] = None) -> Tensor:
    """Zeros of ``tensor``'s shape (and dtype, unless given)."""
    tensor = to_tensor(tensor)
    if dtype is not None and dtypes.as_dtype(dtype) != tensor.dtype:
        # TF 1: a Shape and a Fill in a ``zeros_like`` scope, the Fill named as the scope.
        with tensor.graph.name_scope(name or "zeros_like") as scope:
            return zeros(apply("Shape", [tensor]), dtype, name=scope)
    return apply("ZerosLike", [tensor], name=name)


def ones_like(tensor: Any, dtype: Any = None, name: Optional[str] = None) -> Tensor:
    """Ones of ``tensor``'s shape (and dtype, unless given)."""
    tensor = to_tensor(tensor)
    if dtype is not None and dtypes.as_dtype(dtype) != tensor.dtype:
        # TF 1: a Shape and a Fill in a ``ones_like`` scope, the Fill named as the scope.
        with tensor.graph.name_scope(name or "ones_like") as scope:
            return ones(apply("Shape", [tensor]), dtype, name=scope)
    return apply("OnesLike", [tensor], name=name)


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,  # noqa: A001 (TF)
          name: Optional[str] = None) -> Tensor:
    """[start, start + delta, ...) up to ``limit`` (``range(n)`` counts from 0), as TF.

    Example:
        >>> gn.range(5)  # [0, 1, 2, 3, 4]
    """
    if limit is None:
        start, limit = 0, start
    args = [start, limit, delta]
    if dtype is None:
        tensors = [a for a in args if isinstance(a, Tensor)]
        if tensors:
            dtype = tensors[0].dtype
        else:
            floating = builtins.any(isinstance(a, float) or np.asarray(a).dtype.kind == "f"
                                    for a in args)
            dtype = dtypes.float32 if floating else dtypes.int32
    dtype = dtypes.as_dtype(dtype)
    return apply("Range", [to_tensor(a, dtype) for a in args], name=name)


def shape(input: Any, out_type: Any = dtypes.int32, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """The run-time shape of a tensor, as a 1-D int tensor.

    Example:
        >>> batch = gn.shape(x)[0]
    """
    return apply("Shape", [to_tensor(input)], {"out_type": dtypes.as_dtype(out_type)}, name=name)


def size(input: Any, out_type: Any = dtypes.int32, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """The number of elements of a tensor, as a scalar int tensor."""
    return apply("Size", [to_tensor(input)], {"out_type": dtypes.as_dtype(out_type)}, name=name)


def _depth(depth: Any) -> int:
    """one_hot's depth as a non-negative int, also from a constant tensor."""
    value = static_value(depth) if isinstance(depth, Tensor) else depth
    if value is None:
        raise ValueError(f"one_hot needs a depth known when the graph is built; Tensor "
                         f"'{depth.name}' is only known at run time")
    value = int(np.asarray(value))
    if value < 0:
        raise ValueError(f"one_hot's depth must be >= 0, got {value}")
    return value


def one_hot(indices: Any, depth: int, on_value: Any = None, off_value: Any = None,
            axis: int = -1, dtype: Any = None, name: Optional[str] = None) -> Tensor:
    """One-hot vectors of length ``depth``; indices outside [0, depth) give all ``off_value``.

    Example:
        >>> gn.one_hot(labels, 10)  # float32 by default
    """
    if dtype is None:
        known = [v for v in (on_value, off_value) if v is not None]
        dtype = (dtypes.as_dtype(np.asarray(known[0]).dtype) if known and isinstance(
            known[0], np.ndarray) else dtypes.float32)
    dtype = dtypes.as_dtype(dtype)
    python_type = bool if dtype.is_bool else (float if dtype.is_floating else int)
    return apply("OneHot", [to_tensor(indices)],
                 {"depth": _depth(depth), "axis": int(axis), "dtype": dtype,
                  "on_value": python_type(1 if on_value is None else on_value),
                  "off_value": python_type(0 if off_value is None else off_value)}, name=name)
