"""TensorShape: static shapes whose dimensions (or rank) may be unknown (None)."""
from __future__ import annotations

from typing import Any, Iterator, Optional, Sequence

from graphnn.errors import ShapeError


class TensorShape:
    """A static shape: a tuple of ints and Nones, or an unknown rank.

    Example:
        >>> s = TensorShape([None, 3])
        >>> s.as_list(), s.ndims, s[1], str(s)
        ([None, 3], 2, 3, '(?, 3)')
    """

    __slots__ = ("_dims",)

    def __init__(self, dims: Any = None):
        if isinstance(dims, TensorShape):
            self._dims = dims._dims
        elif dims is None:
            self._dims = None
        else:
            try:
                items = list(dims)
            except TypeError:
                items = [dims]
            self._dims = tuple([_as_dimension(d) for d in items])

    @classmethod
    def unknown(cls) -> TensorShape:
        return cls(None)

    @property
    def dims(self) -> Optional[tuple]:
        return self._dims

    @property
    def ndims(self) -> Optional[int]:
        return None if self._dims is None else len(self._dims)

    rank = ndims

    def as_list(self) -> list:
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self._dims)

    def is_fully_defined(self) -> bool:
        return self._dims is not None and all(d is not None for d in self._dims)

    def num_elements(self) -> Optional[int]:
        if not self.is_fully_defined():
            return None
        size = 1
        for d in self._dims:
            size *= d
        return size

    def is_compatible_with(self, other: Any) -> bool:
        other = TensorShape(other)
        if self._dims is None or other._dims is None:
            return True
        if len(self._dims) != len(other._dims):
            return False
        return all(a is None or b is None or a == b for a, b in zip(self._dims, other._dims))

    def merge_with(self, other: Any) -> TensorShape:
        other = TensorShape(other)
        if not self.is_compatible_with(other):
            raise ShapeError(f"Shapes {self} and {other} are not compatible")
        if self._dims is None:
            return other
        if other._dims is None:
            return self
        return TensorShape(a if a is not None else b for a, b in zip(self._dims, other._dims))

    def __len__(self) -> int:
        if self._dims is None:
            raise ValueError("Cannot take the length of a shape with unknown rank.")
        return len(self._dims)

    def __iter__(self) -> Iterator:
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter(self._dims)

    def __getitem__(self, key):
        if self._dims is None:
            return TensorShape(None) if isinstance(key, slice) else None
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        return self._dims[key]

    def __eq__(self, other: Any) -> bool:
        if type(other) is TensorShape:
            return self._dims == other._dims
        try:
            other = TensorShape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self._dims == other._dims

    def __hash__(self) -> int:
        return hash(self._dims)

    def __str__(self) -> str:
        if self._dims is None:
            return "<unknown>"
        text = ", ".join("?" if d is None else str(d) for d in self._dims)
        return f"({text},)" if len(self._dims) == 1 else f"({text})"

    def __repr__(self) -> str:
        return f"TensorShape({None if self._dims is None else list(self._dims)})"


def _as_dimension(d: Any) -> Optional[int]:
    if type(d) is int and d >= 0:
        return d  # the usual case, decided without looking up __index__
    if d is None:
        return None
    if hasattr(d, "__index__"):
        value = d.__index__()
        if value < 0:
            # -1 is TF's spelling of an unknown dimension in some APIs.
            if value == -1:
                return None
            raise ValueError(f"Dimension {value} must be >= 0")
        return value
    raise TypeError(f"Dimension must be an int or None, got {d!r}")


def broadcast_shapes(a: TensorShape, b: TensorShape) -> TensorShape:
    """Numpy broadcasting of two static shapes; raises ShapeError when impossible."""
    if a._dims is None or b._dims is None:
        return TensorShape(None)
    if a._dims == b._dims:
        return a  # shapes never change, so the result may be the operand itself
    da, db = list(a.dims), list(b.dims)
    rank = max(len(da), len(db))
    da = [1] * (rank - len(da)) + da
    db = [1] * (rank - len(db)) + db
    out = []
    for x, y in zip(da, db):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None:
            out.append(y)
        elif y is None or x == y:
            out.append(x)
        else:
            raise ShapeError(f"Shapes {a} and {b} cannot be broadcast together "
                             f"(dimension {x} vs {y})")
    return TensorShape(out)


def normalize_axis(axis: int, ndims: int, what: str = "axis") -> int:
    """Maps a possibly negative axis into [0, ndims); raises ShapeError when out of range."""
    if not -ndims <= axis < max(ndims, 1):
        raise ShapeError(f"{what} {axis} is out of range for a tensor of rank {ndims}")
    return axis % max(ndims, 1)


def normalize_axes(axis: Any, ndims: Optional[int]) -> Optional[tuple]:
    """Reduction axes as a sorted tuple of non-negative ints; None means all axes."""
    if axis is None:
        return None if ndims is None else tuple(range(ndims))
    axes = [axis] if isinstance(axis, int) else list(axis)
    if ndims is None:
        if any(a < 0 for a in axes):
            return tuple(axes)
        return tuple(sorted(set(axes)))
    return tuple(sorted({normalize_axis(int(a), ndims) for a in axes}))


def as_shape(value: Sequence | TensorShape | None) -> TensorShape:
    return value if isinstance(value, TensorShape) else TensorShape(value)

