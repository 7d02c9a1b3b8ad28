"""Where user code created something: the innermost stack frame outside graphnn."""
from __future__ import annotations

import contextlib
import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_SKIPPED_FILES = (_PACKAGE_DIR, contextlib.__file__.rsplit(".", 1)[0])


def user_location() -> tuple[str, int]:
    """(file, line) of the innermost stack frame outside graphnn: where the user created an op."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_SKIPPED_FILES):
        frame = frame.f_back
    if frame is None:
        return ("<unknown>", 0)
    return (frame.f_code.co_filename, frame.f_lineno)
