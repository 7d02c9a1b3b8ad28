"""Downloading a data file from a list of mirrors, checked by its MD5 sum, saved atomically.

A file is streamed into a temporary file beside its target while its MD5 sum is
computed; only a file whose sum matches is renamed into place (``graphnn.io.files.
atomic_write``), so an interrupted download, a damaged copy or a wrong file never sits
in the cache under the real name. Mirrors are tried in order until one delivers a good
copy. Connection errors surface at once (an offline machine fails in about the time
its resolver takes to say so; a silent server after ``timeout`` seconds), and the error
lists every URL tried with its reason. Progress goes to stderr: a redrawn line on a
terminal, a line at the start and one at the end otherwise (logs get no carriage returns).
"""
from __future__ import annotations

import hashlib
import http.client
import os
import sys
import time
import urllib.request
from collections.abc import Sequence
from typing import BinaryIO

from graphnn.io.files import atomic_write

_CHUNK_BYTES = 1 << 16
_REDRAW_SECONDS = 0.2


class DownloadError(OSError):
    """No mirror delivered the file (offline, unreachable, or no such file there)."""


class ChecksumError(DownloadError):
    """A download's MD5 sum is not the expected one; nothing was saved."""


def download(file_name: str, directory: str | os.PathLike, mirrors: Sequence[str], md5: str,
             timeout: float = 30.0) -> str:
    """Downloads ``file_name`` from the first mirror that has a copy with MD5 sum ``md5``.

    Args:
        file_name: the file's name on the mirrors and in ``directory``.
        directory: where to save it (created if needed).
        mirrors: base URLs, tried in order; the file's URL is base + "/" + ``file_name``.
        md5: the expected MD5 sum, as hexadecimal digits.
        timeout: seconds to wait for a mirror to connect or send more data.

    Returns:
        The path of the saved file.

    Raises:
        ChecksumError: some mirror delivered a copy with another MD5 sum and none
            delivered a good one; nothing is saved.
        DownloadError: no mirror delivered the file; the message lists each URL and why.

    Example:
        >>> download("t10k-labels-idx1-ubyte.gz", "/tmp/mnist",
        ...          ["https://ossci-datasets.s3.amazonaws.com/mnist"],
        ...          "ec29112dd5afa0611ce80d1b7f02629c")
    """
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, file_name)
    failures: list[tuple[str, Exception]] = []
    for mirror in mirrors:
        url = f"{mirror.rstrip('/')}/{file_name}"
        try:
            _fetch(url, path, md5.lower(), timeout)
            return path
        except (OSError, http.client.HTTPException) as error:
            failures.append((url, error))
    if not failures:
        raise DownloadError(f"cannot download {file_name!r}: no mirror URLs were given")
    tried = "\n".join(f"  {url}: {error}" for url, error in failures)
    error_class = (ChecksumError if any(isinstance(e, ChecksumError) for _, e in failures)
                   else DownloadError)
    raise error_class(f"could not download {file_name!r} into {os.fspath(directory)!r}; "
                      f"tried:\n{tried}")


def _fetch(url: str, path: str, md5: str, timeout: float) -> None:
    """Streams ``url`` into ``path`` atomically; raises ChecksumError on a wrong MD5 sum."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = response.headers.get("Content-Length")
        progress = _Progress(os.path.basename(path), url,
                             int(total) if total and total.isdigit() else None)

        def write_checked(file: BinaryIO) -> None:
            digest = hashlib.md5(usedforsecurity=False)
            while chunk := response.read(_CHUNK_BYTES):
                digest.update(chunk)
                file.write(chunk)
                progress.advance(len(chunk))
            progress.finish()
            if digest.hexdigest() != md5:
                raise ChecksumError(f"the download has MD5 sum {digest.hexdigest()}, expected "
                                    f"{md5}: damaged or not the official file; not saved")

        atomic_write(path, write_checked)


class _Progress:
    """Reports a download's progress on stderr, redrawn in place only on a terminal."""

    def __init__(self, name: str, url: str, total: int | None) -> None:
        self._name, self._total, self._done = name, total, 0
        self._terminal = sys.stderr.isatty()
        self._last_draw = 0.0
        size = f" ({_megabytes(total)})" if total is not None else ""
        sys.stderr.write(f"Downloading {name} from {url}{size}\n")
        sys.stderr.flush()

    def advance(self, count: int) -> None:
        self._done += count
        now = time.monotonic()
        if self._terminal and now - self._last_draw >= _REDRAW_SECONDS:
            self._last_draw = now
            share = f" {100 * self._done // self._total}%" if self._total else ""
            sys.stderr.write(f"\rDownloading {self._name}:{share} {_megabytes(self._done)}\033[K")
            sys.stderr.flush()

    def finish(self) -> None:
        line = f"Downloaded {self._name}: {_megabytes(self._done)}"
        sys.stderr.write(f"\r{line}\033[K\n" if self._terminal else f"{line}\n")
        sys.stderr.flush()


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"
