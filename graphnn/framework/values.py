"""Python and numpy values -> numpy arrays, with TensorFlow 1's dtype rules.

Python floats are float32 and ints int32 (int64 when too large) unless a dtype
is asked for; numpy arrays keep their dtype. Strings (``str`` as UTF-8, or ``bytes``)
become ``string`` arrays: numpy object arrays of ``bytes``, as TF 1 holds them.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphnn.errors import DTypeError
from graphnn.framework import dtypes
from graphnn.framework.dtypes import DType

_INT32 = np.iinfo(np.int32)


def is_numpy_value(value: Any) -> bool:
    return isinstance(value, (np.ndarray, np.generic))


def to_numpy(value: Any, dtype: Optional[DType] = None) -> np.ndarray:
    """Converts ``value`` to a numpy array of graphnn dtype ``dtype`` (or the default one).

    Raises:
        DTypeError: the value cannot be represented in ``dtype`` (1.5 as int32).
    """
    if dtype is None:
        return _default_array(value)
    if dtype.is_string:
        return _string_array(value)
    target = dtype.as_numpy_dtype
    if is_numpy_value(value):
        source = np.asarray(value)
        if source.dtype.kind == "f" and dtype.is_integer:
            raise DTypeError(f"Cannot convert a numpy array of dtype {source.dtype} to {dtype}: "
                             f"conversion would drop the fractional part; cast it explicitly")
        return source.astype(target)
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise DTypeError(f"Cannot convert {value!r} to a tensor of dtype {dtype}: {error}") from None
    if raw.dtype == object or raw.dtype.kind in "USc":
        raise DTypeError(f"Cannot convert {_short(value)} to a tensor of dtype {dtype}")
    converted = raw.astype(target)
    if raw.dtype.kind == "f" and not dtype.is_floating:
        if not np.array_equal(converted.astype(raw.dtype), raw):
            raise DTypeError(f"Expected {dtype}, got {_short(value)} of type "
                             f"'{type(value).__name__}' instead: it is not exactly representable")
    if raw.dtype.kind in "iu" and dtype.is_integer and not np.array_equal(converted, raw):
        raise DTypeError(f"Value {_short(value)} is out of range for dtype {dtype}")
    return converted


def _string_array(value: Any) -> np.ndarray:
    array = np.asarray(value, dtype=object)
    flat = array.reshape(-1)
    for i, item in enumerate(flat):
        if isinstance(item, str):
            flat[i] = item.encode("utf-8")
        elif not isinstance(item, bytes):
            raise DTypeError(f"Cannot convert {_short(value)} to a tensor of dtype string: "
                             f"{item!r} is not a str or bytes")
    return flat.reshape(array.shape)


def _default_array(value: Any) -> np.ndarray:
    if isinstance(value, (str, bytes)) or (is_numpy_value(value)
                                           and np.asarray(value).dtype.kind in "SU"):
        return _string_array(value)
    if is_numpy_value(value):
        array = np.asarray(value)
        dtypes.as_dtype(array.dtype)  # raises for dtypes graphnn does not support
        return array
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise DTypeError(f"Cannot convert {_short(value)} to a tensor: {error}") from None
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    if array.dtype.kind in "iu":
        fits = array.size == 0 or (array.min() >= _INT32.min and array.max() <= _INT32.max)
        return array.astype(np.int32 if fits else np.int64)
    if array.dtype.kind == "b":
        return array
    if array.dtype.kind in "SU":
        return _string_array(value)
    raise DTypeError(f"Cannot convert {_short(value)} (numpy kind {array.dtype}) to a tensor")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
