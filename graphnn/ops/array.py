"""Shape and layout ops: reshape, transpose, concat, stack, split, slicing, gather, fill ..."""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import jax.numpy as jnp
import numpy as np

from graphnn.errors import DTypeError, ShapeError
from graphnn.framework import dtypes
from graphnn.framework.registry import ValueCheck, outside_range
from graphnn.framework.shapes import TensorShape, normalize_axis
from graphnn.framework.slicing import sliced_shape, to_python_index
from graphnn.framework.tensor import Tensor
from graphnn.ops.declare import (OpDef, Sample, apply, apply_multi, build_time_ints, check_dtype,
                                 rand, register, require, shape_tensor, static_ints, static_shape,
                                 static_value, to_tensor)
from graphnn.ops.vjp import vjp_gradient


def _known_rank(x: Tensor) -> int:
    require(x.shape.ndims is not None, f"Tensor '{x.name}' must have a known rank here")
    return x.shape.ndims


# ----- Reshape ----------------------------------------------------------------------
def _reshape_infer(inputs):
    x, shape = inputs
    check_dtype(shape, "int")
    known = static_value(shape)
    if known is None:
        return [(static_shape(shape), x.dtype)]
    dims = [int(d) for d in np.reshape(known, -1)]
    require(sum(d == -1 for d in dims) <= 1, f"at most one dimension of {dims} may be -1")
    total = x.shape.num_elements()
    known = math.prod(d for d in dims if d != -1)
    if -1 in dims:
        inferred = None if total is None or known == 0 else total // known
        require(total is None or (known and total % known == 0),
                f"cannot reshape a tensor of {total} elements into shape {dims}")
        dims = [inferred if d == -1 else d for d in dims]
    else:
        require(total is None or total == known,
                f"cannot reshape a tensor with {total} elements to shape {dims} "
                f"({known} elements)")
    return [(TensorShape(dims), x.dtype)]


def _reshape_samples(rng, dtype):
    x = rand(rng, (2, 3, 4), dtype)
    return [Sample((x, np.array(s, np.int32)), static=(1,)) for s in ([6, 4], [-1], [4, -1, 2])]


register(OpDef("Reshape", infer=_reshape_infer,
               lower=lambda x, shape: jnp.reshape(x, static_ints(shape, "Reshape's shape")),
               reference=lambda x, shape: np.reshape(x, shape), samples=_reshape_samples,
               numpy_exact=True,
               grad=lambda op, g: [reshape(g, shape_of(op.inputs[0])), None]))


# ----- Transpose, Squeeze, ExpandDims, Tile, Pad ----------------------------------------
def shape_of(x: Tensor) -> Tensor:
    return apply("Shape", [x], {"out_type": dtypes.int32})


def _transpose_grad(op, g):
    perm = op.attrs.get("perm")
    return [transpose(g, None if perm is None else tuple(np.argsort(perm)))]


def _tile_grad(op, g):
    """Folds g to (m0, d0, m1, d1, ...) and sums the multiples' axes."""
    x = op.inputs[0]
    multiples = op.attrs["multiples"]
    dims = shape_of(x)
    folded = reshape(g, [part for i, m in enumerate(multiples) for part in (m, dims[i])])
    return [apply("Sum", [folded], {"axis": tuple(range(0, 2 * len(multiples), 2)),
                                    "keepdims": False})]


def _pad_grad(op, g):
    if op.attrs.get("mode", "CONSTANT") != "CONSTANT":
        return vjp_gradient(op, g)
    index = tuple(("slice", before, -after if after else None, None)
                  for before, after in op.attrs["paddings"])
    return [apply("StridedSlice", [g], {"index": index})]


def _concat_grad(op, g):
    axis = op.attrs["axis"]
    sizes = [t.shape[axis] if t.shape.ndims is not None else None for t in op.inputs]
    if None in sizes:
        return vjp_gradient(op, g)
    return list(apply_multi("Split", [g], {"sizes": tuple(sizes), "axis": axis}))


def _transpose_infer(inputs, perm=None):
    x = inputs[0]
    if x.shape.ndims is None:
        return [(TensorShape(None), x.dtype)]
    perm = tuple(reversed(range(x.shape.ndims))) if perm is None else perm
    require(sorted(perm) == list(range(x.shape.ndims)),
            f"perm {list(perm)} is not a permutation of the {x.shape.ndims} axes")
    return [(TensorShape([x.shape[p] for p in perm]), x.dtype)]


register(OpDef("Transpose", infer=_transpose_infer,
               lower=lambda x, perm=None: jnp.transpose(x, perm),
               reference=lambda x, perm=None: np.transpose(x, perm),
               numpy_exact=True,
               samples=lambda rng, dtype: [Sample((rand(rng, (2, 3, 4), dtype),), {"perm": p})
                                           for p in ((2, 0, 1), None)],
               grad=_transpose_grad))


def _squeeze_infer(inputs, axis=None):
    x = inputs[0]
    if x.shape.ndims is None:
        return [(TensorShape(None), x.dtype)]
    dims = x.shape.dims
    if axis is None:
        if None in dims:
            return [(TensorShape(None), x.dtype)]
        return [(TensorShape([d for d in dims if d != 1]), x.dtype)]
    axes = {normalize_axis(a, len(dims)) for a in axis}
    for a in axes:
        require(dims[a] in (1, None), f"cannot squeeze axis {a} of size {dims[a]} (must be 1)")
    return [(TensorShape([d for i, d in enumerate(dims) if i not in axes]), x.dtype)]


register(OpDef("Squeeze", infer=_squeeze_infer,
               lower=lambda x, axis=None: jnp.squeeze(x, axis),
               reference=lambda x, axis=None: np.squeeze(x, axis),
               numpy_exact=True,
               samples=lambda rng, dtype: [Sample((rand(rng, (1, 3, 1), dtype),), {"axis": a})
                                           for a in (None, (0,), (-1,))],
               grad=lambda op, g: [reshape(g, shape_of(op.inputs[0]))]))


def _expand_dims_infer(inputs, axis):
    x = inputs[0]
    if x.shape.ndims is None:
        return [(TensorShape(None), x.dtype)]
    axis = normalize_axis(axis, x.shape.ndims + 1)
    dims = list(x.shape.dims)
    dims.insert(axis, 1)
    return [(TensorShape(dims), x.dtype)]


register(OpDef("ExpandDims", infer=_expand_dims_infer,
               lower=lambda x, axis: jnp.expand_dims(x, axis),
               reference=lambda x, axis: np.expand_dims(x, axis),
               numpy_exact=True,
               samples=lambda rng, dtype: [Sample((rand(rng, (2, 3), dtype),), {"axis": a})
                                           for a in (0, -1, 1)],
               grad=lambda op, g: [reshape(g, shape_of(op.inputs[0]))]))


def _tile_infer(inputs, multiples):
    x = inputs[0]
    rank = _known_rank(x)
    require(len(multiples) == rank, f"multiples {list(multiples)} must have one entry per axis "
                                    f"of the rank-{rank} input")
    return [(TensorShape([None if d is None else d * m for d, m in zip(x.shape.dims, multiples)]),
             x.dtype)]


register(OpDef("Tile", infer=_tile_infer,
               lower=lambda x, multiples: jnp.tile(x, multiples),
               reference=lambda x, multiples: np.tile(x, multiples),
               samples=lambda rng, dtype: [Sample((rand(rng, (2, 3), dtype),),
                                                  {"multiples": (2, 1)})],
               grad=_tile_grad))


def _pad_infer(inputs, paddings, mode="CONSTANT", constant_values=0):
    x = inputs[0]
    rank = _known_rank(x)
    require(len(paddings) == rank, f"paddings {paddings} need one (before, after) pair per axis")
    require(mode in ("CONSTANT", "REFLECT", "SYMMETRIC"), f"unknown padding mode {mode!r}")
    return [(TensorShape([None if d is None else d + a + b
                          for d, (a, b) in zip(x.shape.dims, paddings)]), x.dtype)]


_PAD_MODES = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}


def _pad_lower(x, paddings, mode="CONSTANT", constant_values=0):
    if mode == "CONSTANT":
        return jnp.pad(x, paddings, constant_values=constant_values)
    return jnp.pad(x, paddings, mode=_PAD_MODES[mode])


def _pad_reference(x, paddings, mode="CONSTANT", constant_values=0):
    if mode == "CONSTANT":
        return np.pad(x, paddings, constant_values=constant_values)
    return np.pad(x, paddings, mode=_PAD_MODES[mode])


register(OpDef("Pad", infer=_pad_infer, lower=_pad_lower, reference=_pad_reference,
               samples=lambda rng, dtype: [
                   Sample((rand(rng, (3, 4), dtype),), {"paddings": ((1, 2), (0, 1)), "mode": m})
                   for m in ("CONSTANT", "REFLECT", "SYMMETRIC")],
               grad=_pad_grad))


# ----- Concat, Pack, Unpack, Split ---------------------------------------------------
def _concat_infer(inputs, axis):
    first = inputs[0]
    rank = _known_rank(first)
    axis = normalize_axis(axis, rank)
    dims = list(first.shape.dims)
    for t in inputs[1:]:
        if t.dtype != first.dtype:
            raise DTypeError(f"all inputs must have one dtype; got {first.dtype} and {t.dtype}")
        require(t.shape.ndims in (None, rank), f"all inputs must have rank {rank}; "
                                               f"'{t.name}' has shape {t.shape}")
        for i in range(rank):
            other = t.shape[i]
            if i == axis:
                dims[i] = None if dims[i] is None or other is None else dims[i] + other
            elif dims[i] is not None and other is not None and dims[i] != other:
                raise ShapeError(f"dimension {i} of the inputs differs: {dims[i]} vs {other}")
            elif dims[i] is None:
                dims[i] = other
    return [(TensorShape(dims), first.dtype)]


register(OpDef("ConcatV2", infer=_concat_infer,
               lower=lambda *xs, axis: jnp.concatenate(xs, axis=axis),
               reference=lambda *xs, axis: np.concatenate(xs, axis=axis),
               numpy_exact=True,
               samples=lambda rng, dtype: [
                   Sample((rand(rng, (2, 3), dtype), rand(rng, (2, 1), dtype)), {"axis": 1}),
                   Sample((rand(rng, (1, 3), dtype), rand(rng, (2, 3), dtype),
                           rand(rng, (1, 3), dtype)), {"axis": 0})],
               grad=_concat_grad))


def _pack_infer(inputs, axis):
    first = inputs[0]
    shape = first.shape
    for t in inputs[1:]:
        if t.dtype != first.dtype:
            raise DTypeError(f"all inputs must have one dtype; got {first.dtype} and {t.dtype}")
        require(t.shape.is_compatible_with(shape),
                f"all inputs must have one shape; got {shape} and {t.shape}")
        shape = shape.merge_with(t.shape)
    if shape.ndims is None:
        return [(TensorShape(None), first.dtype)]
    axis = normalize_axis(axis, shape.ndims + 1)
    dims = list(shape.dims)
    dims.insert(axis, len(inputs))
    return [(TensorShape(dims), first.dtype)]


def _pack_as_shape(op) -> Optional[TensorShape]:
    """A stack of scalars read as a shape: one dim per scalar, None where it is unknown."""
    if op.attrs["axis"] != 0 or any(t.shape.ndims != 0 for t in op.inputs):
        return None
    parts = [static_value(t) for t in op.inputs]
    return TensorShape([None if p is None else int(p) for p in parts])


register(OpDef("Pack", infer=_pack_infer,
               lower=lambda *xs, axis: jnp.stack(xs, axis=axis),
               reference=lambda *xs, axis: np.stack(xs, axis=axis),
               numpy_exact=True, value_as_shape=_pack_as_shape,
               samples=lambda rng, dtype: [
                   Sample((rand(rng, (2, 3), dtype), rand(rng, (2, 3), dtype)), {"axis": a})
                   for a in (0, -1)],
               grad=lambda op, g: unstack(g, axis=op.attrs["axis"])))


def _split_infer(inputs, sizes, axis):
    x = inputs[0]
    rank = _known_rank(x)
    axis = normalize_axis(axis, rank)
    total = x.shape[axis]
    require(total is None or sum(sizes) == total,
            f"split sizes {list(sizes)} must add up to dimension {axis} of size {total}")
    outs = []
    for size in sizes:
        dims = list(x.shape.dims)
        dims[axis] = size
        outs.append((TensorShape(dims), x.dtype))
    return outs


def _split_lower(x, sizes, axis):
    return tuple(jnp.split(x, np.cumsum(sizes)[:-1].tolist(), axis=axis))


def _split_reference(x, sizes, axis):
    return tuple(np.split(x, np.cumsum(sizes)[:-1].tolist(), axis=axis))


register(OpDef("Split", infer=_split_infer, lower=_split_lower, reference=_split_reference,
               samples=lambda rng, dtype: [
                   Sample((rand(rng, (2, 6), dtype),), {"sizes": (2, 2, 2), "axis": 1}),
                   Sample((rand(rng, (5, 2), dtype),), {"sizes": (1, 4), "axis": 0})],
               grad=lambda op, *grads: [concat(list(grads), axis=op.attrs["axis"])]))


def _unpack_infer(inputs, axis):
    x = inputs[0]
    rank = _known_rank(x)
    axis = normalize_axis(axis, rank)
    require(x.shape[axis] is not None, f"cannot unstack along axis {axis} of unknown size")
    dims = [d for i, d in enumerate(x.shape.dims) if i != axis]
    return [(TensorShape(dims), x.dtype)] * x.shape[axis]


register(OpDef("Unpack", infer=_unpack_infer,
               lower=lambda x, axis: tuple(jnp.moveaxis(x, axis, 0)),
               reference=lambda x, axis: tuple(np.moveaxis(x, axis, 0)),
               samples=lambda rng, dtype: [Sample((rand(rng, (2, 3), dtype),), {"axis": a})
                                           for a in (0, 1)],
               grad=lambda op, *grads: [stack(list(grads), axis=op.attrs["axis"])]))


# ----- StridedSlice, Gather -----------------------------------------------------
register(OpDef("StridedSlice",
               infer=lambda inputs, index: [(sliced_shape(inputs[0].shape, index),
                                             inputs[0].dtype)],
               lower=lambda x, index: x[to_python_index(index)],
               reference=lambda x, index: np.asarray(x[to_python_index(index)]),
               numpy_exact=True,
               samples=lambda rng, dtype: [
                   Sample((rand(rng, (4, 5, 3), dtype),), {"index": spec}) for spec in (
                       (("int", 1),),
                       (("slice", 1, None, None), ("newaxis",), ("ellipsis",), ("int", -1)),
                       (("slice", None, None, -2), ("slice", 1, 4, 2)))],
               grad=vjp_gradient))


def _gather_infer(inputs, axis=0):
    params, indices = inputs
    check_dtype(indices, "int")
    if params.shape.ndims is None or indices.shape.ndims is None:
        return [(TensorShape(None), params.dtype)]
    axis = normalize_axis(axis, params.shape.ndims)
    dims = params.shape.dims
    return [(TensorShape(list(dims[:axis]) + list(indices.shape.dims) + list(dims[axis + 1:])),
             params.dtype)]


def _gather_check(inputs, axis=0):
    """TF 1's kernel refuses an index outside [0, rows); jnp.take would clamp or give NaN."""
    return ValueCheck(input=1, bound=lambda shapes: shapes[0][axis], bad=outside_range,
                      message=lambda position, value, bound:
                      f"indices{position} = {value} is not in [0, {bound})")


register(OpDef("GatherV2", infer=_gather_infer, check=_gather_check,
               lower=lambda params, indices, axis=0: jnp.take(params, indices, axis=axis),
               reference=lambda params, indices, axis=0: np.take(params, indices, axis=axis),
               samples=lambda rng, dtype: [
                   Sample((rand(rng, (5, 3), dtype), np.array([4, 0, 2, 2], np.int32)), {"axis": 0}),
                   Sample((rand(rng, (2, 5), dtype), np.array([[1], [3]], np.int32)), {"axis": 1})],
               grad=vjp_gradient))


# ----- public functions -------------------------------------------------------------
def reshape(tensor: Any, shape: Any, name: Optional[str] = None) -> Tensor:
    """Gives ``tensor`` a new shape with the same elements; one dimension may be -1.

    Example:
        >>> gn.reshape(x, [-1, 28 * 28])
    """
    return apply("Reshape", [to_tensor(tensor), shape_tensor(shape)], name=name)


def transpose(a: Any, perm: Optional[Sequence[int]] = None, name: Optional[str] = None) -> Tensor:
    """Permutes the axes (reverses them when ``perm`` is None).

    Example:
        >>> gn.transpose(x, [1, 0])
    """
    return apply("Transpose", [to_tensor(a)],
                 {"perm": None if perm is None else tuple(int(p) for p in perm)}, name=name)


def concat(values: Sequence[Any], axis: int, name: Optional[str] = None) -> Tensor:
    """Joins tensors along an existing axis.

    Example:
        >>> gn.concat([a, b], axis=1)
    """
    return apply("ConcatV2", [to_tensor(v) for v in values], {"axis": int(axis)}, name=name)


def stack(values: Sequence[Any], axis: int = 0, name: Optional[str] = None) -> Tensor:
    """Joins tensors of one shape along a new axis.

    Example:
        >>> gn.stack([a, b], axis=0)
    """
    return apply("Pack", [to_tensor(v) for v in values], {"axis": int(axis)}, name=name)


def unstack(value: Any, axis: int = 0, name: Optional[str] = None) -> list[Tensor]:
    """Splits a tensor into the list of its slices along ``axis`` (of known size)."""
    return list(apply_multi("Unpack", [to_tensor(value)], {"axis": int(axis)}, name=name))


def split(value: Any, num_or_size_splits: Any, axis: int = 0,
          name: Optional[str] = None) -> list[Tensor]:
    """Splits into ``num_or_size_splits`` equal parts, or parts of the given sizes.

    Example:
        >>> a, b = gn.split(x, 2, axis=1)
    """
    value = to_tensor(value)
    if np.isscalar(num_or_size_splits):
        count = int(num_or_size_splits)
        rank = value.shape.ndims
        size = None if rank is None else value.shape[normalize_axis(axis, rank)]
        if size is None:
            raise ValueError(f"split of Tensor '{value.name}' into {count} parts needs the size "
                             f"of axis {axis} to be known; pass a list of sizes instead")
        if size % count:
            raise ValueError(f"Cannot split axis {axis} of size {size} of Tensor '{value.name}' "
                             f"into {count} equal parts")
        sizes = (size // count,) * count
    else:
        sizes = build_time_ints(num_or_size_splits, "split sizes")
        if sizes.count(-1) == 1:
            rank = value.shape.ndims
            total = None if rank is None else value.shape[normalize_axis(axis, rank)]
            if total is None:
                raise ValueError(f"split of Tensor '{value.name}' with a -1 size needs the size "
                                 f"of axis {axis} to be known")
            sizes = tuple(total - (sum(sizes) + 1) if s == -1 else s for s in sizes)
    return list(apply_multi("Split", [value], {"sizes": sizes, "axis": int(axis)}, name=name))


def squeeze(input: Any, axis: Any = None, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """Removes axes of size 1 (all of them, or those in ``axis``).

    Example:
        >>> gn.squeeze(x, axis=[1])
    """
    axes = None if axis is None else ((int(axis),) if np.isscalar(axis) else
                                      tuple(int(a) for a in axis))
    return apply("Squeeze", [to_tensor(input)], {"axis": axes}, name=name)


def expand_dims(input: Any, axis: int, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """Inserts an axis of size 1 at ``axis``.

    Example:
        >>> gn.expand_dims(x, -1)
    """
    return apply("ExpandDims", [to_tensor(input)], {"axis": int(axis)}, name=name)


def tile(input: Any, multiples: Sequence[int], name: Optional[str] = None) -> Tensor:  # noqa: A002
    """Repeats the tensor ``multiples[i]`` times along axis i.

    Example:
        >>> gn.tile(x, [2, 1])
    """
    return apply("Tile", [to_tensor(input)],
                 {"multiples": build_time_ints(multiples, "multiples")}, name=name)


def pad(tensor: Any, paddings: Any, mode: str = "CONSTANT", constant_values: Any = 0,
        name: Optional[str] = None) -> Tensor:
    """Pads each axis with ``paddings[i] = (before, after)`` values (CONSTANT, REFLECT, SYMMETRIC).

    Example:
        >>> gn.pad(x, [[1, 1], [2, 2]])
    """
    pairs = tuple((int(a), int(b)) for a, b in np.asarray(paddings).tolist())
    return apply("Pad", [to_tensor(tensor)], {"paddings": pairs, "mode": mode.upper(),
                                              "constant_values": constant_values}, name=name)


def gather(params: Any, indices: Any, axis: int = 0, name: Optional[str] = None) -> Tensor:
    """Picks slices of ``params`` along ``axis`` at integer ``indices``.

    Example:
        >>> gn.gather(embeddings, word_ids)
    """
    params = to_tensor(params)
    return apply("GatherV2", [params, to_tensor(indices)], {"axis": int(axis)}, name=name)


# ----- broadcasting and its transpose (the gradient driver un-broadcasts with SumToShape) ----
def _to_shape_infer(inputs):
    x, shape = inputs
    check_dtype(shape, "int")
    return [(static_shape(shape), x.dtype)]


def _broadcast_to_lower(x, shape):
    return jnp.broadcast_to(x, static_ints(shape, "BroadcastTo's shape"))


def _sum_to_shape_lower(x, shape):
    return _sum_to_shape_reference(x, static_ints(shape, "SumToShape's shape"), jnp)


def _sum_to_shape_reference(x, shape, xp=np):
    """Sums the axes along which ``shape`` was broadcast to ``x.shape`` (numpy rules)."""
    shape = tuple(int(d) for d in np.reshape(shape, -1))
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape)
                                      if d == 1 and x.shape[lead + i] != 1)
    summed = xp.sum(x, axis=axes, keepdims=True).astype(x.dtype) if axes else x
    return xp.reshape(summed, shape)


register(OpDef("BroadcastTo", infer=_to_shape_infer, lower=_broadcast_to_lower,
               reference=lambda x, shape: np.broadcast_to(x, tuple(shape)).copy(),
               numpy_exact=True,
               samples=lambda rng, dtype: [
                   Sample((rand(rng, (3, 1), dtype), np.array([2, 3, 4], np.int32)), static=(1,)),
                   Sample((rand(rng, (), dtype), np.array([2], np.int32)), static=(1,))],
               grad=lambda op, g: [apply("SumToShape", [g, shape_of(op.inputs[0])]), None]))
register(OpDef("SumToShape", infer=_to_shape_infer, lower=_sum_to_shape_lower,
               reference=_sum_to_shape_reference,
               samples=lambda rng, dtype: [
                   Sample((rand(rng, (2, 3, 4), dtype), np.array([3, 1], np.int32)), static=(1,)),
                   Sample((rand(rng, (2, 3), dtype), np.array([], np.int32)), static=(1,)),
                   Sample((rand(rng, (2, 3), dtype), np.array([2, 3], np.int32)), static=(1,))],
               grad=lambda op, g: [broadcast_to(g, shape_of(op.inputs[0])), None]))


def broadcast_to(input: Any, shape: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """Broadcasts ``input`` to ``shape`` with numpy rules.

    Example:
        >>> gn.broadcast_to(gn.constant([1.0, 2.0]), [3, 2])
    """
    return apply("BroadcastTo", [to_tensor(input), shape_tensor(shape)], name=name)
