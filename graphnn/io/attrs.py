"""Op attributes as tagged JSON, exact in both directions and safe to decode.

JSON's null, booleans, numbers and strings stand for themselves (non-finite
floats excepted); every other value is an object with one tag key:

    {"$tuple": [...]}   {"$list": [...]}   {"$dict": {"key": ...}}
    {"$dtype": "float32"}                  {"$shape": [null, 3]}  ({"$shape": null}: unknown rank)
    {"$array": {"dtype": "float32", "shape": [2, 3], "base64": "..."}}   (little-endian bytes)
    {"$scalar": {"dtype": "int64", "base64": "..."}}                     (a numpy scalar)
    {"$float": "nan" | "inf" | "-inf"}

Decoding builds only these values (no pickle, no eval, no imports) and checks
sizes before allocating: a hostile file gets a GraphFileError, never a huge
allocation.
"""
from __future__ import annotations

import base64
import math
import sys
from typing import Any

import numpy as np

from graphnn.framework.dtypes import ALL_DTYPES, DType, as_dtype
from graphnn.framework.shapes import TensorShape
from graphnn.io.files import GraphFileError

MAX_RANK = 32
MAX_ELEMENTS = 2 ** 36       # of any static shape: beyond the memory of any device
MAX_ARRAY_BYTES = 2 ** 30    # of one array stored in a graph file
MAX_DEPTH = 32               # nesting of tuples, lists and dicts in one attribute

_DTYPES = {d.name: d for d in ALL_DTYPES}
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}

# Attribute names whose value kind is the same in every op that has them (a test
# checks this against the op table), so a file cannot put, say, a string where
# the lowering expects a dtype.
ATTR_KINDS: dict[str, tuple] = {
    "dtype": (DType,), "DstT": (DType,), "out_type": (DType,), "output_type": (DType,),
    "shape": (TensorShape,), "value": (np.ndarray,), "seed": (int, type(None)),
    "keepdims": (bool,), "transpose_a": (bool,), "transpose_b": (bool,),
    "equation": (str,), "padding": (str,), "data_format": (str,), "mode": (str,),
    "of": (str,), "of_attrs": (dict,),
}


# ----- encoding ---------------------------------------------------------------------
def encode_attr(value: Any, where: str, depth: int = 0) -> Any:
    """The JSON form of an attribute value; TypeError for values graph files cannot hold."""
    if depth > MAX_DEPTH:
        raise TypeError(f"{where}: attribute nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, np.generic):  # before float: np.float64 is a float subclass
        dtype, data = _encode_buffer(np.asarray(value), where)
        return {"$scalar": {"dtype": dtype, "base64": data}}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, DType):
        return {"$dtype": value.name}
    if isinstance(value, TensorShape):
        return {"$shape": encode_shape(value)}
    if isinstance(value, np.ndarray):
        dtype, data = _encode_buffer(value, where)
        return {"$array": {"dtype": dtype, "shape": list(value.shape), "base64": data}}
    if isinstance(value, (tuple, list)):
        items = [encode_attr(item, where, depth + 1) for item in value]
        return {"$tuple" if isinstance(value, tuple) else "$list": items}
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"{where}: dict attributes need str keys, got {key!r}")
        return {"$dict": {key: encode_attr(item, where, depth + 1) for key, item in value.items()}}
    kind = type(value).__name__
    if kind == "Graph":
        raise TypeError(f"{where}: sub-graph attributes (gn.Graph) are not supported by graph "
                        f"files yet")
    raise TypeError(f"{where}: a {kind} attribute cannot be written to a graph file; supported: "
                    f"None, bool, int, float, str, DType, TensorShape, numpy arrays and "
                    f"scalars, and tuples, lists and str-keyed dicts of these")


def encode_shape(shape: TensorShape) -> Any:
    return None if shape.dims is None else list(shape.dims)


def _encode_buffer(array: np.ndarray, where: str) -> tuple[str, str]:
    """(dtype name, base64 of the little-endian bytes)."""
    try:
        dtype = as_dtype(array.dtype)
    except TypeError as error:
        raise TypeError(f"{where}: {error}") from None
    if dtype.is_string:
        raise TypeError(f"{where}: string arrays (host values) are not supported by graphnn "
                        f"graph files")
    data = np.asarray(array, order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
    if sys.byteorder == "big":
        data = data.byteswap()
    return dtype.name, base64.b64encode(data.tobytes()).decode("ascii")


# ----- decoding ---------------------------------------------------------------------
def decode_attr(data: Any, where: str, depth: int = 0) -> Any:
    """The attribute value of its JSON form; GraphFileError for anything malformed."""
    if depth > MAX_DEPTH:
        raise GraphFileError(f"{where}: attribute nested deeper than {MAX_DEPTH} levels")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if not isinstance(data, dict) or len(data) != 1:
        raise GraphFileError(f"{where}: expected a JSON scalar or an object with one tag "
                             f"key such as \"$tuple\", got {_short(data)}")
    (tag, body), = data.items()
    if tag in ("$tuple", "$list"):
        if not isinstance(body, list):
            raise GraphFileError(f"{where}: {tag} holds a JSON array, got {_short(body)}")
        items = [decode_attr(item, where, depth + 1) for item in body]
        return tuple(items) if tag == "$tuple" else items
    if tag == "$dict":
        if not isinstance(body, dict):
            raise GraphFileError(f"{where}: $dict holds a JSON object, got {_short(body)}")
        return {key: decode_attr(item, where, depth + 1) for key, item in body.items()}
    if tag == "$dtype":
        return decode_dtype(body, where)
    if tag == "$shape":
        return decode_shape(body, where)
    if tag == "$array":
        return _decode_array(body, where, scalar=False)
    if tag == "$scalar":
        return _decode_array(body, where, scalar=True)[()]
    if tag == "$float":
        if body not in _NON_FINITE:
            raise GraphFileError(f"{where}: $float is one of {sorted(_NON_FINITE)}, got "
                                 f"{_short(body)}")
        return _NON_FINITE[body]
    raise GraphFileError(f"{where}: unknown attribute tag {_short(tag)}")


def decode_dtype(data: Any, where: str) -> DType:
    if not isinstance(data, str) or data not in _DTYPES:
        raise GraphFileError(f"{where}: unknown dtype {_short(data)}; expected one of "
                             f"{sorted(_DTYPES)}")
    return _DTYPES[data]


def decode_shape(data: Any, where: str, fully_defined: bool = False) -> TensorShape:
    """A TensorShape from a list of ints and nulls (null: unknown rank), within the caps."""
    if data is None and not fully_defined:
        return TensorShape(None)
    if not isinstance(data, list):
        raise GraphFileError(f"{where}: a shape is a JSON array of dimensions, got {_short(data)}")
    if len(data) > MAX_RANK:
        raise GraphFileError(f"{where}: shape of rank {len(data)} exceeds the limit of {MAX_RANK}")
    for dim in data:
        known = isinstance(dim, int) and not isinstance(dim, bool) and dim >= 0
        if not known and (fully_defined or dim is not None):
            raise GraphFileError(f"{where}: invalid dimension {_short(dim)} in shape "
                                 f"{_short(data)}")
    check_shape_size(TensorShape(data), where)
    return TensorShape(data)


def check_shape_size(shape: TensorShape, where: str) -> None:
    """Raises GraphFileError when the known dimensions of ``shape`` hold too many elements."""
    if shape.dims is None:
        return
    elements = 1
    for dim in shape.dims:
        if dim is not None:
            elements *= dim
            if elements > MAX_ELEMENTS:
                raise GraphFileError(f"{where}: shape {shape} has more than {MAX_ELEMENTS} "
                                     f"elements")


def _decode_array(body: Any, where: str, scalar: bool) -> np.ndarray:
    keys = {"dtype", "base64"} if scalar else {"dtype", "shape", "base64"}
    if not isinstance(body, dict) or set(body) != keys:
        raise GraphFileError(f"{where}: an array is an object with keys {sorted(keys)}, got "
                             f"{_short(body)}")
    dtype = decode_dtype(body["dtype"], where).as_numpy_dtype
    shape = () if scalar else tuple(decode_shape(body["shape"], where, fully_defined=True))
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > MAX_ARRAY_BYTES:
        raise GraphFileError(f"{where}: array of shape {shape} ({nbytes} bytes) exceeds the "
                             f"limit of {MAX_ARRAY_BYTES} bytes")
    text = body["base64"]
    if not isinstance(text, str) or len(text) != 4 * math.ceil(nbytes / 3):
        raise GraphFileError(f"{where}: array data does not match its shape {shape} and dtype "
                             f"{dtype.name} ({nbytes} bytes)")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as error:
        raise GraphFileError(f"{where}: array data is not valid base64: {error}") from None
    if len(raw) != nbytes:
        raise GraphFileError(f"{where}: array data holds {len(raw)} bytes, its shape {shape} "
                             f"and dtype {dtype.name} need {nbytes}")
    array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    return array.byteswap() if sys.byteorder == "big" else array


def check_attr_kinds(attrs: dict, where: str) -> None:
    """Raises GraphFileError when a well-known attribute holds the wrong kind of value."""
    for name, value in attrs.items():
        kinds = ATTR_KINDS.get(name)
        if kinds is None:
            continue
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if wrong_bool or not isinstance(value, kinds):
            expected = " or ".join("None" if k is type(None) else k.__name__ for k in kinds)
            raise GraphFileError(f"{where}: attribute {name!r} must be {expected}, got "
                                 f"{_short(value)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
