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
    # Sum is declared in reduction.py, which builds on this module: hence no reduce_sum here.
    return [apply("Sum", [folded], {"axis": tuple(range(0, 2 * len(multiples), 2)),
                                    "keepdims": False})]


def _pad_grad(op, g):
    if op.attrs.get("mode", "CONSTANT") != "CONSTANT":
        return vjp_gradient(op, g)
    return [g[tuple(slice(before, -after if after else None)
                    for before, after in op.attrs["paddings"])]]


def _concat_grad(op, g):
    axis = op.attrs["axis"]
    sizes = [t.shape[axis] if t.shape.ndims is not None else None for t in op.inputs]
    if None in sizes:
        return vjp_gradient(op, g)
    return split(g, sizes, axis=axis)


def _transpose_infer(inputs, perm=None):
    x = inputs[0]
    if x.shape.ndims is None:
        return [(TensorShape(None if perm is None else [None] * len(perm)), x.dtype)]
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
    if x.shape.ndims is None:
        return [(TensorShape([None] * len(multiples)), x.dtype)]
    rank = x.shape.ndims
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
    require(mode in ("CONSTANT", "REFLECT", "SYMMETRIC"), f"unknown padding mode {mode!r}")
    if x.shape.ndims is None:
        return [(TensorShape([None] * len(paddings)), x.dtype)]
    require(len(paddings) == x.shape.ndims,
            f"paddings {paddings} need one (before, after) pair per axis")
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
    for t in inputs[1:]:
        if t.dtype != first.dtype:
            raise DTypeError(f"all inputs must have one dtype; got {first.dtype} and {t.dtype}")
    ranked = [t for t in inputs if t.shape.ndims is not None]
    if not ranked:
        return [(TensorShape(None), first.dtype)]
    rank = ranked[0].shape.ndims
    axis = normalize_axis(axis, rank)
    dims, total = [None] * rank, 0
    for t in inputs:
        if t.shape.ndims is None:
            total = None
            continue
        require(t.shape.ndims == rank, f"all inputs must have rank {rank}; "
                                       f"'{t.name}' has shape {t.shape}")
        for i, other in enumerate(t.shape.dims):
            if i == axis:
                total = None if total is None or other is None else total + other
            elif dims[i] is not None and other is not None and dims[i] != other:
                raise ShapeError(f"dimension {i} of the inputs differs: {dims[i]} vs {other}")
            elif dims[i] is None:
                dims[i] = other
    dims[axis] = total
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
               grad=lambda op, g: unstack(g, num=len(op.inputs), axis=op.attrs["axis"])))


def _split_sizes(sizes: Optional[tuple], num: Optional[int], total: Optional[int]) -> tuple:
    """The sizes of Split's parts along its axis of size ``total``: ``num`` equal parts when
    ``sizes`` is None, and a -1 size takes the rest. None where ``total`` is needed but unknown."""
    if sizes is None:
        return (None if total is None else total // num,) * num
    if -1 not in sizes:
        return sizes
    rest = None if total is None else total - (sum(sizes) + 1)
    return tuple(rest if s == -1 else s for s in sizes)


def _split_infer(inputs, sizes, axis, num=None):
    x = inputs[0]
    if sizes is None:
        require(num is not None and num > 0, f"Split needs sizes or a positive num, got {num}")
    else:
        require(len(sizes) > 0 and min(sizes) >= -1 and sizes.count(-1) <= 1,
                f"split sizes {list(sizes)} must be >= 0, with at most one -1")
    count = num if sizes is None else len(sizes)
    if x.shape.ndims is None:
        return [(TensorShape(None), x.dtype)] * count
    axis = normalize_axis(axis, x.shape.ndims)
    total = x.shape[axis]
    require(total is None or sizes is not None or total % num == 0,
            f"cannot split dimension {axis} of size {total} into {num} equal parts")
    parts = _split_sizes(sizes, num, total)
    require(total is None or (sum(parts) == total and min(parts) >= 0),
            f"split sizes {list(sizes or ())} must add up to dimension {axis} of size {total}")
    outs = []
    for size in parts:
        dims = list(x.shape.dims)
        dims[axis] = size
        outs.append((TensorShape(dims), x.dtype))
    return outs


def _split_reference(x, sizes, axis, num=None, xp=np):
    parts = _split_sizes(sizes, num, x.shape[axis])
    return tuple(xp.split(x, np.cumsum(parts)[:-1].tolist(), axis=axis))


register(OpDef("Split", infer=_split_infer,
               lower=lambda x, sizes, axis, num=None: _split_reference(x, sizes, axis, num, jnp),
               reference=_split_reference,
               samples=lambda rng, dtype: [
                   Sample((rand(rng, (2, 6), dtype),), {"sizes": (2, 2, 2), "axis": 1}),
                   Sample((rand(rng, (5, 2), dtype),), {"sizes": (1, 4), "axis": 0}),
                   Sample((rand(rng, (2, 5), dtype),), {"sizes": (-1, 3), "axis": -1}),
                   Sample((rand(rng, (3, 4), dtype),), {"sizes": None, "num": 2, "axis": 1})],
               grad=lambda op, *grads: [concat(list(grads), axis=op.attrs["axis"])]))


def _unpack_infer(inputs, axis, num=None):
    x = inputs[0]
    if x.shape.ndims is None:
        require(num is not None, "cannot unstack a tensor of unknown rank without num", ValueError)
        return [(TensorShape(None), x.dtype)] * num
    axis = normalize_axis(axis, x.shape.ndims)
    size = x.shape[axis]
    require(size is not None or num is not None,
            f"cannot unstack along axis {axis} of unknown size without num")
    require(size is None or num is None or size == num,
            f"num={num} does not match the size {size} of axis {axis}")
    dims = [d for i, d in enumerate(x.shape.dims) if i != axis]
    return [(TensorShape(dims), x.dtype)] * (size if num is None else num)


register(OpDef("Unpack", infer=_unpack_infer,
               lower=lambda x, axis, num=None: tuple(jnp.moveaxis(x, axis, 0)),
               reference=lambda x, axis, num=None: tuple(np.moveaxis(x, axis, 0)),
               samples=lambda rng, dtype: [Sample((rand(rng, (2, 3), dtype),),
                                                  {"axis": a, "num": (2, 3)[a]})
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


def unstack(value: Any, num: Optional[int] = None, axis: int = 0,
            name: Optional[str] = None) -> list[Tensor]:
    """Splits a tensor into the list of its ``num`` slices along ``axis``.

    ``num`` may be left out when the size of ``axis`` is known while building.

    Example:
        >>> a, b, c = gn.unstack(x)  # x of shape (3, ...)
    """
    value = to_tensor(value)
    rank = value.shape.ndims
    size = None if rank is None else value.shape[normalize_axis(axis, rank)]
    if num is None and size is None:
        raise ValueError(f"unstack of Tensor '{value.name}' (shape {value.shape}) along axis "
                         f"{axis} needs num= when the size of that axis is not known")
    return list(apply_multi("Unpack", [value], {"axis": int(axis),
                                                "num": int(size if num is None else num)},
                            name=name))


def split(value: Any, num_or_size_splits: Any, axis: int = 0,
          name: Optional[str] = None) -> list[Tensor]:
    """Splits into ``num_or_size_splits`` equal parts, or parts of the given sizes (one of
    them may be -1: the rest). Sizes that depend on an unknown shape are found at run time.

    Example:
        >>> a, b = gn.split(x, 2, axis=1)
    """
    value = to_tensor(value)
    if not np.isscalar(num_or_size_splits):
        sizes = build_time_ints(num_or_size_splits, "split sizes")
        return list(apply_multi("Split", [value], {"sizes": sizes, "axis": int(axis)}, name=name))
    count = int(num_or_size_splits)
    rank = value.shape.ndims
    size = None if rank is None else value.shape[normalize_axis(axis, rank)]
    if size is None:
        attrs = {"sizes": None, "num": count, "axis": int(axis)}
    elif count <= 0 or size % count:
        raise ValueError(f"Cannot split axis {axis} of size {size} of Tensor '{value.name}' "
                         f"into {count} equal parts")
    else:
        attrs = {"sizes": (size // count,) * count, "axis": int(axis)}
    return list(apply_multi("Split", [value], attrs, name=name))


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
