"""Fed values: converted to the fed tensor's dtype only when that keeps every value.

DESIGN.md section 2: a feed is converted as ``np.asarray(value, dtype)`` does when that
changes no value (float rounding aside). ``None``, strings, integers outside the
target's range, non-integral or non-finite numbers into an integer type, numbers other
than 0 and 1 into a bool, complex numbers with an imaginary part into a real type, and
finite numbers that overflow a float type are refused with an ``InvalidArgumentError``
naming the tensor, the first value that would change, and where the user created the
op. A numpy array that already has the tensor's dtype is used as it is, unchecked.
"""
from __future__ import annotations

from typing import Any, Optional

import ml_dtypes
import numpy as np

from graphnn.errors import InvalidArgumentError
from graphnn.framework.dtypes import DType
from graphnn.framework.graph import Graph
from graphnn.framework.tensor import Tensor

_BFLOAT16 = np.dtype(ml_dtypes.bfloat16)


def as_feed_tensor(graph: Graph, key: Any) -> Tensor:
    """The Tensor a feed_dict key names: a Tensor, ``"x:0"``, or ``"x"`` (output 0)."""
    if isinstance(key, str):
        element = graph.as_graph_element(key if ":" in key else key + ":0")
    else:
        element = graph.as_graph_element(key)
    if not isinstance(element, Tensor):
        raise TypeError(f"Cannot feed Operation '{element.name}': feed_dict keys must be Tensors")
    return element


def check_fed_once(tensors: list, keys: Any) -> None:
    """Refuses a feed_dict whose ``keys`` (in order) feed one of ``tensors`` twice."""
    if len(set(tensors)) == len(tensors):
        return
    first: dict = {}
    for key, tensor in zip(keys, tensors):
        if tensor in first:
            raise InvalidArgumentError(
                f"feed_dict feeds Tensor '{tensor.name}' twice, as {_key_text(first[tensor])} "
                f"and as {_key_text(key)} (op created at {tensor.op.where})", tensor.op)
        first[tensor] = key


def convert_feed(tensor: Tensor, value: Any) -> np.ndarray:
    """``value`` as an array of ``tensor``'s dtype and an accepted shape.

    Raises:
        InvalidArgumentError: converting would change a value, or the shape does not fit.
        TypeError: the value is a graph Tensor.
    """
    dtype = tensor.dtype.as_numpy_dtype
    array = value if type(value) is np.ndarray and value.dtype == dtype \
        else lossless_array(tensor, value)
    if not shape_accepts(tensor.shape.dims, array.shape):
        raise InvalidArgumentError(
            f"Cannot feed value of shape {tuple(array.shape)} for Tensor '{tensor.name}', which "
            f"has shape {tensor.shape} (op created at {tensor.op.where})", tensor.op)
    return array


def convert_feed_sequence(tensor: Tensor, value: Any) -> np.ndarray:
    """A ``run_loop`` feed: a step axis followed by a value ``tensor`` accepts."""
    dtype = tensor.dtype.as_numpy_dtype
    array = value if type(value) is np.ndarray and value.dtype == dtype \
        else lossless_array(tensor, value)
    if array.ndim == 0:
        raise InvalidArgumentError(
            f"run_loop feeds need a leading step axis, but the value fed for Tensor "
            f"'{tensor.name}' is a scalar (op created at {tensor.op.where})", tensor.op)
    if not shape_accepts(tensor.shape.dims, array.shape[1:]):
        raise InvalidArgumentError(
            f"Cannot feed value of shape {tuple(array.shape[1:])} (each of {array.shape[0]} "
            f"steps) for Tensor '{tensor.name}', which has shape {tensor.shape} (op created at "
            f"{tensor.op.where})", tensor.op)
    return array


def shape_accepts(dims: Optional[tuple], shape: tuple) -> bool:
    """A value of ``shape`` fits a tensor of static ``dims`` (None: unknown)."""
    if dims is None:
        return True
    if len(dims) != len(shape):
        return False
    for want, got in zip(dims, shape):
        if want is not None and want != got:
            return False
    return True


def lossless_array(tensor: Tensor, value: Any) -> np.ndarray:
    """``value`` converted to ``tensor``'s dtype, refused when that would change a value."""
    if isinstance(value, Tensor):
        raise TypeError(f"The value of a feed cannot be a gn.Tensor object ('{value.name}' fed "
                        f"for '{tensor.name}'). Acceptable feed values are numpy arrays, Python "
                        f"scalars and lists.")
    if value is None:
        raise _refused(tensor, "None is not a value")
    try:
        source = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise _refused(tensor, str(error)) from None
    target = tensor.dtype.as_numpy_dtype
    if source.dtype == target:
        return source
    if source.dtype.kind in "US" and not isinstance(value, np.ndarray):
        source = np.asarray(value, dtype=object)  # [1.0, "two"]: find "two", not "1.0"
    with np.errstate(over="ignore", invalid="ignore"):
        problem = _first_change(source, tensor.dtype)
        if problem is not None:
            raise _refused(tensor, problem)
        if source.dtype.kind == "c":
            source = source.real  # every imaginary part is zero
        try:
            return source.astype(target)
        except (TypeError, ValueError, OverflowError) as error:
            raise _refused(tensor, str(error)) from None


def _first_change(source: np.ndarray, target: DType) -> Optional[str]:
    """Why converting ``source`` to ``target`` would change a value, or None when it keeps all."""
    kind = "f" if source.dtype == _BFLOAT16 else source.dtype.kind
    if kind == "b" or source.size == 0:
        return None
    if kind in "US":
        return f"{source.reshape(-1)[0].item()!r} is a string, not a number"
    if kind == "O":
        return _first_object_change(source, target)
    if kind == "c":
        bad = source.imag != 0
        if bad.any():
            return f"{_first(source, bad)} has an imaginary part{_where(bad)}"
        return _first_change(source.real, target)
    if kind not in "iuf":
        return f"a {source.dtype} value is not a number"
    if np.can_cast(source.dtype, target.as_numpy_dtype):
        return None
    if target.is_bool:
        bad = (source != 0) & (source != 1)
        return f"{_first(source, bad)} is not 0 or 1{_where(bad)}" if bad.any() else None
    if target.is_integer:
        return _integer_change(source, target, kind)
    bad = np.isinf(source.astype(target.as_numpy_dtype)) & np.isfinite(source)
    return f"{_first(source, bad)} overflows {target.name}{_where(bad)}" if bad.any() else None


def _integer_change(source: np.ndarray, target: DType, kind: str) -> Optional[str]:
    info = np.iinfo(target.as_numpy_dtype)
    if kind == "f":
        bad = ~np.isfinite(source) | (source != np.trunc(source))
        if bad.any():
            return f"{_first(source, bad)} is not an integer{_where(bad)}"
        # Bounds exactly representable as floats: -2**(n-1) and 2**(n-1) (or 0 and 2**n).
        bad = (source < float(info.min)) | (source >= float(info.max) + 1.0)
    else:
        bad = (source < info.min) | (source > info.max)
    if bad.any():
        return (f"{_first(source, bad)} is outside the range of {target.name} "
                f"[{info.min}, {info.max}]{_where(bad)}")
    return None


def _first_object_change(source: np.ndarray, target: DType) -> Optional[str]:
    # Object arrays hold Python objects numpy could not type: None, ints beyond 64 bits.
    info = np.iinfo(target.as_numpy_dtype) if target.is_integer else None
    for index, item in enumerate(source.reshape(-1)):
        if item is None:
            return f"None is not a value{_where_flat(source, index)}"
        if isinstance(item, (str, bytes)):
            return f"{item!r} is a string, not a number{_where_flat(source, index)}"
        if info is not None and isinstance(item, int) and not info.min <= item <= info.max:
            return (f"{item} is outside the range of {target.name} [{info.min}, {info.max}]"
                    f"{_where_flat(source, index)}")
    try:
        converted = source.astype(target.as_numpy_dtype)
    except (TypeError, ValueError, OverflowError) as error:
        return str(error)
    if target.is_floating:
        return None
    bad = converted.astype(object) != source
    if np.any(bad):
        return f"{_first(source, bad)} does not fit {target.name}{_where(bad)}"
    return None


def _first(source: np.ndarray, bad: np.ndarray) -> Any:
    return source[bad].reshape(-1)[0].item()


def _where(bad: np.ndarray) -> str:
    if bad.ndim == 0:
        return ""
    return f" (at index {list(int(i) for i in np.argwhere(bad)[0])})"


def _where_flat(source: np.ndarray, flat_index: int) -> str:
    if source.ndim == 0:
        return ""
    return f" (at index {[int(i) for i in np.unravel_index(flat_index, source.shape)]})"


def _key_text(key: Any) -> str:
    return repr(key) if isinstance(key, str) else "the Tensor"


def _refused(tensor: Tensor, problem: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"Cannot feed the value given for Tensor '{tensor.name}' as {tensor.dtype.name} without "
        f"changing it: {problem} (op created at {tensor.op.where})", tensor.op)
