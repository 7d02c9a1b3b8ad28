"""DType: graphnn's names for numpy dtypes, with TF 1 spellings accepted."""
from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np


class DType:
    """A tensor element type. Compare with ``==`` against DTypes, numpy dtypes or names.

    There is one DType object per type (``as_dtype`` and unpickling give it), so ``is``
    compares two DTypes too.

    Attributes:
        name: "float32", "int64", ...
        as_numpy_dtype: the numpy dtype.
        is_floating, is_integer, is_bool, is_64bit: its kind and width.
        is_string: byte strings: host values (TF 1 string constants, serialized
            summaries), which a Session computes in Python and XLA never sees.
    """

    __slots__ = ("name", "as_numpy_dtype", "is_floating", "is_integer", "is_bool", "is_string",
                 "is_64bit")

    def __init__(self, name: str, numpy_dtype: Any):
        self.name = name
        self.as_numpy_dtype = np.dtype(numpy_dtype)
        # Kinds are fixed per DType and asked of every tensor an op reads: computed once.
        self.is_floating: bool = name in ("float16", "bfloat16", "float32", "float64")
        self.is_integer: bool = name.startswith(("int", "uint"))
        self.is_bool: bool = name == "bool"
        self.is_string: bool = name == "string"
        self.is_64bit: bool = self.as_numpy_dtype.itemsize == 8

    @property
    def size(self) -> int:
        return self.as_numpy_dtype.itemsize

    def __repr__(self) -> str:
        return f"gn.{self.name}"

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if isinstance(other, DType):
            return self is other
        try:
            return self is as_dtype(other)
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self):
        return as_dtype, (self.name,)


float16 = DType("float16", np.float16)
bfloat16 = DType("bfloat16", ml_dtypes.bfloat16)
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
bool_ = DType("bool", np.bool_)
# Elements are Python ``bytes`` in a numpy object array; fetched scalars are ``bytes``.
string = DType("string", object)

ALL_DTYPES = (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, bool_)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
# TF 1 spellings: "float" is float32, "double" float64, "half" float16.
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "string": string})
_BY_NUMPY = {d.as_numpy_dtype: d for d in (*ALL_DTYPES, string)}
_BY_PYTHON_TYPE = {float: float32, int: int32, bool: bool_, str: string, bytes: string}


def as_dtype(value: Any) -> DType:
    """Converts a DType, numpy dtype, Python type or name ("float32", "float") to a DType.

    Example:
        >>> as_dtype("float") is float32
        True
    """
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        if value in _BY_NAME:
            return _BY_NAME[value]
        raise TypeError(f"Unknown dtype name {value!r}; expected one of {sorted(_BY_NAME)}")
    if value in _BY_PYTHON_TYPE:
        return _BY_PYTHON_TYPE[value]
    try:
        numpy_dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"Cannot interpret {value!r} as a graphnn dtype") from None
    if numpy_dtype in _BY_NUMPY:
        return _BY_NUMPY[numpy_dtype]
    if numpy_dtype.kind in "SU":
        return string
    raise TypeError(f"dtype {numpy_dtype} is not supported by graphnn; "
                    f"supported: {[d.name for d in ALL_DTYPES]}")
