"""Numpy basic indexing (``x[1:, None, ..., 0]``) as a serializable spec.

A spec is a tuple of entries: ``("int", i)``, ``("slice", start, stop, step)``,
``("newaxis",)`` and ``("ellipsis",)``; it is the ``index`` attribute of the
StridedSlice op and converts back to a Python index for the JAX lowering.
"""
from __future__ import annotations

from typing import Any

from graphnn.framework.shapes import TensorShape


def normalize_index(index: Any, tensor: Any) -> tuple:
    items = index if isinstance(index, tuple) else (index,)
    spec = []
    for item in items:
        if item is None:
            spec.append(("newaxis",))
        elif item is Ellipsis:
            spec.append(("ellipsis",))
        elif isinstance(item, slice):
            spec.append(("slice", _index_int(item.start, tensor), _index_int(item.stop, tensor),
                         _index_int(item.step, tensor)))
        else:
            spec.append(("int", _index_int(item, tensor)))
    if sum(entry[0] == "ellipsis" for entry in spec) > 1:
        raise IndexError(f"An index of Tensor '{tensor.name}' can only have one ellipsis (...)")
    if any(entry[0] == "slice" and entry[3] == 0 for entry in spec):
        raise ValueError(f"Slice step cannot be zero when indexing Tensor '{tensor.name}'")
    return tuple(spec)


def _index_int(value: Any, tensor: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "__index__") and not hasattr(value, "op"):
        return value.__index__()
    raise TypeError(f"Tensor '{tensor.name}' supports numpy basic indexing with Python ints, "
                    f"slices, None and ...; got {value!r}. For indices held in tensors use "
                    f"gn.gather.")


def to_python_index(spec: tuple) -> tuple:
    index = []
    for entry in spec:
        kind = entry[0]
        if kind == "int":
            index.append(entry[1])
        elif kind == "slice":
            index.append(slice(entry[1], entry[2], entry[3]))
        elif kind == "newaxis":
            index.append(None)
        else:
            index.append(Ellipsis)
    return tuple(index)


def sliced_shape(shape: TensorShape, spec: tuple) -> TensorShape:
    """Static result shape of basic indexing; unknown dims stay unknown."""
    if shape.ndims is None:
        return TensorShape(None)
    consumed = sum(entry[0] in ("int", "slice") for entry in spec)
    if consumed > shape.ndims:
        raise IndexError(f"Too many indices ({consumed}) for a tensor of rank {shape.ndims}")
    expanded = []
    for entry in spec:
        if entry[0] == "ellipsis":
            expanded.extend([("slice", None, None, None)] * (shape.ndims - consumed))
        else:
            expanded.append(entry)
    used = sum(entry[0] in ("int", "slice") for entry in expanded)
    expanded.extend([("slice", None, None, None)] * (shape.ndims - used))
    dims = list(shape.dims)
    out, axis = [], 0
    for entry in expanded:
        if entry[0] == "newaxis":
            out.append(1)
            continue
        size = dims[axis]
        axis += 1
        if entry[0] == "int":
            if size is not None and not -size <= entry[1] < size:
                raise IndexError(f"Index {entry[1]} is out of bounds for axis {axis - 1} "
                                 f"with size {size}")
            continue
        out.append(None if size is None else len(range(*slice(*entry[1:]).indices(size))))
    return TensorShape(out)
