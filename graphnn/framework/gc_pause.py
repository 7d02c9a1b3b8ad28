"""Pausing Python's cyclic garbage collector while a large graph is built or compiled.

Building gradients or compiling a run allocates many long-lived objects (ops, tensors,
shapes, traced values). CPython then runs a full collection each time the number of
objects grows by a quarter, and each full collection walks every object of the process
(JAX's included): on a 10,000-op chain that was about half the time of ``gn.gradients``
and of compiling a run. Reference counting still frees what these phases discard at
once; the cycles they leave are collected when the collector runs again after them.

Pauses nest and may overlap between threads: the collector is switched back on when the
last pause ends, and only if it was on when the first began.
"""
from __future__ import annotations

import contextlib
import gc
import threading
from typing import Iterator

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Inside the block, the cyclic garbage collector does not run."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
