"""Shared building blocks for declaring ops: inference helpers, static values, samples."""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from graphnn.errors import DTypeError, ShapeError
from graphnn.framework import dtypes
from graphnn.framework.dtypes import DType, as_dtype
from graphnn.framework.graph import convert_to_tensor, graph_of
from graphnn.framework.registry import OpDef, Sample, register
from graphnn.framework.shapes import TensorShape, broadcast_shapes
from graphnn.framework.slicing import to_python_index
from graphnn.framework.tensor import Tensor, binary_operands

__all__ = ["OpDef", "Sample", "register", "apply", "apply_multi", "to_tensor", "pair",
           "static_value", "static_shape", "output_shape", "build_time_ints", "require", "check_dtype", "same_as_input", "broadcast_infer", "rand", "positive",
           "float_sample_shapes", "broadcast_pairs", "static_ints", "shape_tensor"]



def to_tensor(value: Any, dtype: Any = None) -> Tensor:
    return convert_to_tensor(value, dtype=dtype)


def pair(x: Any, y: Any, op_type: str = "") -> tuple[Tensor, Tensor]:
    """Operands of a binary op: Python scalars take the other operand's dtype."""
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = convert_to_tensor(x)
    return binary_operands(x, y, op_type)


def apply(op_type: str, inputs: Sequence[Any], attrs: Optional[dict] = None,
          name: Optional[str] = None) -> Tensor:
    """Creates an op with one output in the inputs' graph and returns that output."""
    return apply_multi(op_type, inputs, attrs, name)[0]


def apply_multi(op_type: str, inputs: Sequence[Any], attrs: Optional[dict] = None,
                name: Optional[str] = None) -> tuple:
    graph = graph_of(inputs)
    tensors = [t if isinstance(t, Tensor) else convert_to_tensor(t, graph=graph) for t in inputs]
    return graph.create_op(op_type, tensors, attrs, name=name).outputs


def static_value(tensor: Tensor) -> Optional[np.ndarray]:
    """The value of ``tensor`` when it is known while building the graph, else None.

    Knows constants, shapes of fully defined tensors, and stacks, casts and
    slices of those: enough for shape arguments such as ``gn.shape(x)[0]``.
    """
    op = tensor.op
    if op.type == "Const":
        return op.attrs["value"]
    if op.type == "Shape" and op.inputs[0].shape.is_fully_defined():
        return np.array(op.inputs[0].shape.as_list(), dtype=tensor.dtype.as_numpy_dtype)
    if op.type == "Size" and op.inputs[0].shape.is_fully_defined():
        return np.array(op.inputs[0].shape.num_elements(), dtype=tensor.dtype.as_numpy_dtype)
    if op.type in ("Pack", "Cast", "StridedSlice", "Identity"):
        parts = [static_value(t) for t in op.inputs]
        if any(p is None for p in parts):
            return None
        if op.type == "Pack":
            return np.stack(parts, axis=op.attrs["axis"])
        if op.type == "Cast":
            return parts[0].astype(tensor.dtype.as_numpy_dtype)
        if op.type == "StridedSlice":
            return np.asarray(parts[0][to_python_index(op.attrs["index"])])
        return parts[0]
    return None


def build_time_ints(value: Any, what: str) -> tuple:
    """A tuple of ints from a number, a list, or a tensor whose value is known while building
    (a constant, ``gn.shape`` of a fully defined tensor ...)."""
    if isinstance(value, Tensor):
        known = static_value(value)
        if known is None:
            raise ValueError(f"{what} must be known when the graph is built; Tensor "
                             f"'{value.name}' is only known at run time")
        value = known
    return tuple(int(v) for v in np.reshape(value, -1))


def output_shape(shape: Tensor) -> TensorShape:
    """The static shape of an op that creates a tensor of the shape held in ``shape``
    (Fill, random ops): every known dimension must be a size, not -1 or None."""
    known = static_value(shape)
    if known is not None and np.any(np.asarray(known) < 0):
        raise ShapeError(f"the requested shape {np.asarray(known).tolist()} has a negative or "
                         f"unknown (None) dimension; every dimension must be known and >= 0")
    return static_shape(shape)


def static_shape(shape: Tensor) -> TensorShape:
    """What is known while building about the shape held in 1-D int tensor ``shape``.

    ``gn.shape(x)`` gives x's static shape (None dims included); a stack of
    scalars gives one dim each; otherwise only the length may be known.
    """
    known = static_value(shape)
    if known is not None:
        return TensorShape([int(d) for d in np.reshape(known, -1)])
    op = shape.op
    if op.type == "Shape":
        return op.inputs[0].shape
    if op.type == "Pack" and op.attrs["axis"] == 0:
        parts = [static_value(t) for t in op.inputs]
        return TensorShape([None if p is None else int(p) for p in parts])
    rank = shape.shape[0] if shape.shape.ndims == 1 else None
    return TensorShape(None if rank is None else [None] * rank)


def require(condition: bool, message: str, error: type = ShapeError) -> None:
    if not condition:
        raise error(message)


def check_dtype(tensor: Tensor, allowed: str) -> None:
    """Raises DTypeError unless ``tensor``'s dtype is of kind ``allowed``."""
    dtype = tensor.dtype
    ok = {"float": dtype.is_floating,
          "numeric": not dtype.is_bool,
          "int": dtype.is_integer,
          "bool": dtype.is_bool,
          "any": True}[allowed]
    if not ok:
        raise DTypeError(f"expected a {allowed} tensor, but Tensor '{tensor.name}' has "
                         f"dtype {dtype}")


def same_as_input(kind: str = "any") -> Callable:
    def infer(inputs, **attrs):
        x = inputs[0]
        check_dtype(x, kind)
        return [(x.shape, x.dtype)]
    return infer


def broadcast_infer(kind: str = "numeric", out_dtype: Optional[DType] = None) -> Callable:
    def infer(inputs, **attrs):
        x, y = inputs
        if x.dtype != y.dtype:
            raise DTypeError(f"Incompatible dtypes {x.dtype} ('{x.name}') and {y.dtype} "
                             f"('{y.name}')")
        check_dtype(x, kind)
        return [(broadcast_shapes(x.shape, y.shape), out_dtype or x.dtype)]
    return infer


# ----- sample inputs for the op harness ---------------------------------------
float_sample_shapes = [(3, 4), (), (2, 1, 3)]
broadcast_pairs = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (2, 3))]


def rand(rng: np.random.Generator, shape: Sequence[int], dtype: Any, low: float = -2.0,
         high: float = 2.0) -> np.ndarray:
    """Random values of a graphnn or numpy dtype; ints and bools drawn to match."""
    dtype = as_dtype(dtype)
    if dtype.is_bool:
        return rng.random(shape) < 0.5
    if dtype.is_integer:
        return rng.integers(int(low), int(high) + 1, size=shape).astype(dtype.as_numpy_dtype)
    return rng.uniform(low, high, size=shape).astype(dtype.as_numpy_dtype)


def positive(rng: np.random.Generator, shape: Sequence[int], dtype: Any) -> np.ndarray:
    return rand(rng, shape, dtype, 0.2, 3.0)



def static_ints(value: Any, what: str) -> tuple:
    """The ints of a value the lowering needs at compile time (a shape, for instance).

    Shapes computed from fed values are still known at compile time, since a
    program is compiled for each feed shape; only values that depend on fed
    *contents* are not.
    """
    try:
        array = np.asarray(value)
    except Exception:  # jax raises several tracer-conversion error types here
        raise ValueError(f"{what} must be known when the graph is compiled, but it depends "
                         f"on the contents of a fed value or variable") from None
    return tuple(int(v) for v in array.reshape(-1))


def shape_tensor(shape: Any) -> Tensor:
    """A shape argument as an int32 tensor; lists may mix ints and scalar tensors."""
    if isinstance(shape, Tensor):
        return shape
    items = list(shape) if not np.isscalar(shape) else [shape]
    if any(isinstance(d, Tensor) for d in items):
        parts = [d if isinstance(d, Tensor) else to_tensor(int(d), dtypes.int32) for d in items]
        parts = [apply("Cast", [p], {"DstT": dtypes.int32}) if p.dtype != dtypes.int32 else p
                 for p in parts]
        return apply("Pack", parts, {"axis": 0})
    return to_tensor(np.array([-1 if d is None else int(d) for d in items], np.int32))
