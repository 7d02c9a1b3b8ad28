"""Where user code created something: the innermost stack frame outside graphnn."""
from __future__ import annotations

import contextlib
import os
import sys
from types import CodeType
from typing import Any, Optional

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_SKIPPED_FILES = (_PACKAGE_DIR, contextlib.__file__.rsplit(".", 1)[0])


def user_location() -> tuple[str, int]:
    """(file, line) of the innermost stack frame outside graphnn: where the user created an op."""
    return user_code_location()[0]


def user_code_location() -> tuple[tuple[str, int], Optional[CodeType]]:
    """``user_location()`` and the code object running there (None when unknown).

    Code compiled again from the same file (a notebook cell run a second time, a
    reloaded module) is a new code object at the same (file, line).
    """
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_SKIPPED_FILES):
        frame = frame.f_back
    if frame is None:
        return ("<unknown>", 0), None
    return (frame.f_code.co_filename, frame.f_lineno), frame.f_code


def in_graphnn(function: Any) -> bool:
    """Whether ``function`` is graphnn's own Python code (a frame of it is never the user's)."""
    code = getattr(function, "__code__", None)
    return code is not None and code.co_filename.startswith(_SKIPPED_FILES)
