"""Reading gzip-compressed IDX files (the format of MNIST and Fashion-MNIST), checked.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the values in C order. Only
unsigned bytes (type code 0x08) are read, the type of every MNIST file. Every fact the
header states is checked against what the caller expects and against the payload, which
must hold exactly the announced number of values: a wrong or damaged file is refused
with a DatasetFileError naming it, never returned as misshapen or partly zero arrays.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from collections.abc import Sequence
from typing import BinaryIO

import numpy as np

_UNSIGNED_BYTE = 0x08
_CHUNK_BYTES = 1 << 20


class DatasetFileError(ValueError):
    """A data file is malformed, damaged, or not the file its name says it is."""


def read_idx_gz(path: str | os.PathLike, dims: Sequence[int | None]) -> np.ndarray:
    """The uint8 array stored in the gzip-compressed IDX file ``path``.

    Args:
        path: a ``.gz`` IDX file.
        dims: the expected dimensions; ``None`` accepts any size (for example the number
            of images), an int must match exactly. Their count is the expected rank.

    Returns:
        A writeable uint8 array of the header's shape.

    Raises:
        DatasetFileError: not gzip data, damaged compressed data, a wrong magic number,
            rank or dimension, or a payload shorter or longer than the header announces;
            the message names ``path``.
        OSError: the file cannot be opened.

    Example:
        >>> labels = read_idx_gz("t10k-labels-idx1-ubyte.gz", [None])
    """
    with open(path, "rb") as raw:
        try:
            with gzip.GzipFile(fileobj=raw) as file:
                return _read_idx(file, os.fspath(path), tuple(dims))
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:
            raise DatasetFileError(f"{os.fspath(path)!r} is not a complete, undamaged gzip "
                                   f"file ({error}); delete it and provide it again") from None


def _read_idx(file: BinaryIO, name: str, expected: tuple[int | None, ...]) -> np.ndarray:
    """Checks the header against ``expected``, then reads exactly the announced payload."""
    magic = _read_exactly(file, 4, name, "the 4-byte magic number")
    if magic[:2] != b"\0\0" or magic[2] != _UNSIGNED_BYTE or magic[3] != len(expected):
        raise DatasetFileError(
            f"{name!r} is not an IDX file of unsigned bytes with {len(expected)} dimension(s): "
            f"its magic number is 0x{magic.hex()}, expected 0x0000{_UNSIGNED_BYTE:02x}"
            f"{len(expected):02x}")
    header = _read_exactly(file, 4 * len(expected), name, "the dimensions")
    shape = tuple(int(d) for d in np.frombuffer(header, dtype=">u4"))
    if any(want is not None and got != want for got, want in zip(shape, expected)):
        shown = ", ".join("N" if want is None else str(want) for want in expected)
        raise DatasetFileError(f"{name!r} holds an array of shape {shape}, expected shape "
                               f"({shown}{',' if len(expected) == 1 else ''})")
    values = np.empty(math.prod(shape), dtype=np.uint8)
    view = memoryview(values)
    filled = 0
    while filled < values.size:
        count = file.readinto(view[filled:filled + _CHUNK_BYTES])
        if not count:
            raise DatasetFileError(f"{name!r} is truncated: its header announces shape {shape} "
                                   f"({values.size} bytes of data) but it holds {filled}")
        filled += count
    if file.read(1):
        raise DatasetFileError(f"{name!r} holds more data than its header announces "
                               f"(shape {shape}, {values.size} bytes)")
    return values.reshape(shape)


def _read_exactly(file: BinaryIO, count: int, name: str, what: str) -> bytes:
    data = file.read(count)
    if len(data) != count:
        raise DatasetFileError(f"{name!r} is too short to hold {what} of an IDX header "
                               f"({len(data)} of {count} bytes)")
    return data
