"""Shared building blocks for declaring ops: inference helpers, static values, samples."""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from graphnn.errors import DTypeError, ShapeError
from graphnn.framework import dtypes
from graphnn.framework.dtypes import DType, as_dtype
from graphnn.framework.graph import CONST_OP, Operation, convert_to_tensor, graph_of
from graphnn.framework.registry import OpDef, Sample, register
from graphnn.framework.shapes import TensorShape, broadcast_shapes
from graphnn.framework.slicing import to_python_index
from graphnn.framework.tensor import Tensor, binary_operands

__all__ = ["OpDef", "Sample", "register", "apply", "apply_multi", "to_tensor", "pair",
           "static_value", "static_shape", "exact_numpy_value", "evaluate_static", "output_shape", "build_time_ints",
           "require", "check_dtype", "same_as_input", "broadcast_infer", "rand", "positive",
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


# Dtypes whose arithmetic numpy rounds exactly as XLA does (half floats it may not).
_EXACT_DTYPES = frozenset({"float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                           "bool"})
STATIC_LIMIT = 1 << 16  # elements: build-time evaluation is for shape arithmetic, not data


def exact_numpy_value(op: Operation, values: Sequence[np.ndarray]) -> Optional[tuple]:
    """``op``'s outputs for input ``values`` from its numpy reference, when the op declares
    (``OpDef.numpy_exact``) that this gives its lowering's results bit for bit; else None."""
    opdef = op.op_def
    exact = opdef.numpy_exact
    if not exact or opdef.reference is None:
        return None
    if any(t.dtype.name not in _EXACT_DTYPES for t in list(op.inputs) + list(op.outputs)):
        return None
    if callable(exact) and not exact(op, values):
        return None
    try:
        with np.errstate(all="ignore"):
            result = opdef.reference(*values, **op.attrs)
    except (ValueError, TypeError, IndexError):
        return None  # left to the lowering, which reports it with the op's name
    results = tuple(np.asarray(r) for r in (result if isinstance(result, tuple) else (result,)))
    if len(results) != len(op.outputs) or any(
            r.dtype != t.dtype.as_numpy_dtype or not t.shape.is_compatible_with(r.shape)
            for r, t in zip(results, op.outputs)):
        return None
    if _any_subnormal(values) or _any_subnormal(results):
        return None
    return results


def _any_subnormal(values: Sequence[np.ndarray]) -> bool:
    """Whether a float value is subnormal: XLA's CPU code flushes them to zero (numpy keeps
    them), so arithmetic that meets one is left to the compiled program."""
    for value in values:
        value = np.asarray(value)
        if value.dtype.kind == "f" and value.size:
            magnitude = np.abs(value)
            if np.any((magnitude < np.finfo(value.dtype).tiny) & (magnitude > 0)):
                return True
    return False


def evaluate_static(op: Operation, values: Sequence) -> tuple:
    """Runs ``op``'s JAX lowering now, on values known at compile time (numpy in and out).

    The values become JAX arrays first, so the result is exactly what the compiled
    program would compute (numpy would apply its own promotion rules).
    """
    wide = any(t.dtype.is_64bit for t in list(op.inputs) + list(op.outputs))
    with jax.enable_x64(wide), jax.ensure_compile_time_eval():
        result = op.op_def.lower(*[jnp.asarray(v) for v in values], **op.attrs)
        results = result if isinstance(result, tuple) else (result,)
        return tuple(np.asarray(r) for r in results)


def _follows_from_shapes(op: Operation) -> bool:
    return op.op_def.from_shapes is not None and all(t.shape.is_fully_defined()
                                                     for t in op.inputs)


def _evaluable_from_inputs(op: Operation) -> bool:
    """Whether ``op``'s value may be computed from its inputs' values while building."""
    sizes = [t.shape.num_elements() for t in op.outputs]
    return bool(op.op_def.numpy_exact and op.inputs and not _follows_from_shapes(op)
                and all(n is not None and n <= STATIC_LIMIT for n in sizes))


def _known_outputs(op: Operation, known: dict) -> Optional[tuple]:
    """``op``'s outputs when known while building, given ``known`` for the ops it reads."""
    if op.type == CONST_OP:
        return (op.attrs["value"],)
    if _follows_from_shapes(op):
        return op.op_def.from_shapes(op)
    if not _evaluable_from_inputs(op):
        return None
    values = [known[t.op] for t in op.inputs]
    if any(v is None for v in values):
        return None
    return exact_numpy_value(op, [v[t.value_index] for v, t in zip(values, op.inputs)])


def static_value(tensor: Tensor) -> Optional[np.ndarray]:
    """The value of ``tensor`` when it is known while building the graph, else None.

    Knows constants, ops whose value follows from static shapes (``OpDef.from_shapes``:
    ``gn.shape`` of a fully defined tensor ...) and small results of ops that numpy
    computes exactly (``OpDef.numpy_exact``: stacks, casts, slices, integer arithmetic)
    on known values: enough for shape arguments such as ``gn.shape(x)[0] * 2``.
    """
    known: dict = {}
    stack = [tensor.op]
    while stack:  # post-order without recursion: shape arithmetic chains can be long
        op = stack[-1]
        if op in known:
            stack.pop()
            continue
        pending = [t.op for t in op.inputs if t.op not in known] \
            if _evaluable_from_inputs(op) else []
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        known[op] = _known_outputs(op, known)
    outputs = known[tensor.op]
    return None if outputs is None else outputs[tensor.value_index]


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

    A fully known value gives every dim; otherwise the op's ``OpDef.value_as_shape``
    says what it knows (``gn.shape(x)`` gives x's static shape, None dims included; a
    stack of scalars one dim each); otherwise only the length may be known.
    """
    as_shape = shape.op.op_def.value_as_shape
    partial = as_shape(shape.op) if as_shape is not None else None
    if partial is not None and partial.is_fully_defined():
        return partial  # every dim, as its value would give, without computing that value
    known = static_value(shape)
    if known is not None:
        flat = np.reshape(known, -1)
        # (tolist gives an int array's Python ints at once: a gradient asks this per step)
        return TensorShape(flat.tolist() if flat.dtype.kind in "iu" else [int(d) for d in flat])
    if partial is not None:
        return partial
    rank = shape.shape[0] if shape.shape.ndims == 1 else None
    return TensorShape(None if rank is None else [None] * rank)


def require(condition: bool, message: str, error: type = ShapeError) -> None:
    if not condition:
        raise error(message)


# Each kind's test, asked of one dtype only (every inference checks its inputs' dtypes).
_DTYPE_KINDS: dict[str, Callable[[DType], bool]] = {
    "float": lambda dtype: dtype.is_floating,
    "numeric": lambda dtype: not dtype.is_bool,
    "int": lambda dtype: dtype.is_integer,
    "bool": lambda dtype: dtype.is_bool,
    "any": lambda dtype: True,
}


def check_dtype(tensor: Tensor, allowed: str) -> None:
    """Raises DTypeError unless ``tensor``'s dtype is of kind ``allowed``."""
    if not _DTYPE_KINDS[allowed](tensor.dtype):
        dtype = tensor.dtype
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
