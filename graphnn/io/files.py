"""Crash-safe file writes and bounded reads, shared by graph files and checkpoints.

A file is written to a temporary file in the same directory, flushed and
fsync'ed, then renamed over the target (``os.replace`` is atomic on POSIX and
Windows) and the directory is fsync'ed so the rename itself survives a power
loss. A process killed at any moment therefore leaves either the old file or
the new one, never a torn mix; at worst a stray ``.<name>.<random>.tmp`` file.
Errors from the file system name the target path, not the temporary file.
"""
from __future__ import annotations

import contextlib
import os
import secrets
from typing import BinaryIO, Callable


class GraphFileError(ValueError):
    """A graph file (or document) is malformed, hostile, or from an unsupported version."""


def atomic_write(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Calls ``write(file)`` on a temporary file, then atomically moves it to ``path``.

    Raises:
        OSError: the file system refused (no such directory, a directory in the way,
            no space ...); the error names ``path``.

    Example:
        >>> atomic_write("model.json", lambda f: f.write(b"{}"))
    """
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory,
                             f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # os.open with mode 0o666 honours the umask, as a plain open() would (mkstemp gives 0600).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(temporary, flags, 0o666)
    except OSError as error:
        raise _naming(error, path) from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(error, OSError) and error.filename == temporary:
            raise _naming(error, path) from None
        raise
    fsync_directory(directory)


def _naming(error: OSError, path: str) -> OSError:
    """The same error (class and errno), about ``path`` instead of the temporary file."""
    return type(error)(error.errno, f"{error.strerror} (writing through a temporary file "
                                    f"in the same directory)", path)


def fsync_directory(directory: str) -> None:
    """Makes renames and deletions in ``directory`` durable (a no-op where unsupported)."""
    if os.name == "nt":  # Windows cannot open a directory; NTFS journals the rename itself.
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_bounded(path: str, max_bytes: int, what: str) -> bytes:
    """The bytes of ``path``; raises GraphFileError when the file is larger than ``max_bytes``."""
    with open(path, "rb") as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise GraphFileError(f"{what} {path!r} is larger than the limit of {max_bytes} bytes")
    return data
