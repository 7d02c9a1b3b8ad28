"""The default-session stack that ``Tensor.eval`` and ``Operation.run`` use.

Sessions push themselves here (``with gn.Session() as sess``); the framework
never imports the session module.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

_stack: list[Any] = []


def get_default_session() -> Any:
    """The innermost session entered with ``with``, or None."""
    return _stack[-1] if _stack else None


@contextlib.contextmanager
def default_session(session: Any) -> Iterator[Any]:
    _stack.append(session)
    try:
        yield session
    finally:
        _stack.remove(session)


def resolve(session: Any, what: str) -> Any:
    """``session`` itself, else the default session; a clear error when there is none."""
    if session is not None:
        return session
    if not _stack:
        raise ValueError(f"Cannot evaluate {what}: no default session is registered. Use "
                         f"`with gn.Session() as sess:` or pass session=sess.")
    return _stack[-1]
