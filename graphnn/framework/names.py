"""Op names and seeds: the checks every created op and random seed goes through.

Names follow TensorFlow's rule: ``[A-Za-z0-9.][A-Za-z0-9_.\\-/>]*``, scope names may also
start with ``_``, and no component between slashes is empty, ``.`` or ``..`` (names end up
in file paths and tensor names ``op:0``).
"""
from __future__ import annotations

import functools
import re
from typing import Any, Optional

import numpy as np

_OP_NAME = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_.\-/>]*")
_SCOPE_NAME = re.compile(r"[A-Za-z0-9._][A-Za-z0-9_.\-/>]*")
# Seeds become JAX PRNG key data and fold_in values, both 32-bit: a larger seed would
# silently collide with a smaller one.
MAX_SEED = 2 ** 32 - 1


def check_name(name: str, scope: bool = False, in_scope: bool = False) -> None:
    """Raises ValueError unless ``name`` is a valid op name (``scope``: name-scope name).

    An op name matches ``[A-Za-z0-9.][A-Za-z0-9_.\\-/>]*`` (TensorFlow's rule); a scope
    name, or a name given inside a scope (``in_scope``), may also start with ``_``; no
    part between slashes may be empty, ``.`` or ``..``.
    """
    kind = "scope name" if scope else "op name"
    if not isinstance(name, str):
        raise TypeError(f"An {kind} must be a string, got {name!r}")
    if not _is_valid_name(name, scope or in_scope):
        raise ValueError(f"{name!r} is not a valid {kind}: names match "
                         f"[A-Za-z0-9.][A-Za-z0-9_.\\-/>]* (a scope name, or a name inside a "
                         f"scope, may also start with '_') and no part between slashes may be "
                         f"empty, '.' or '..'")


def check_seed(seed: Any, what: str) -> Optional[int]:
    """``seed`` as an int, or None; ValueError unless it is an integer in [0, 2**32 - 1]."""
    if seed is None:
        return None
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) \
            and 0 <= seed <= MAX_SEED:
        return int(seed)
    raise ValueError(f"{what} must be None or an integer in [0, {MAX_SEED}] (2**32 - 1), "
                     f"got {seed!r}")


@functools.lru_cache(maxsize=4096)
def _is_valid_name(name: str, scope_rule: bool) -> bool:
    # Cached: most ops are named after their type, so the same few names are checked
    # for every op of a large graph.
    # (A scope per differentiated op makes as many distinct names as a gradient has ops,
    # so misses are common too: the parts are checked by substring search, not a split.)
    pattern = _SCOPE_NAME if scope_rule else _OP_NAME
    if pattern.fullmatch(name) is None:
        return False
    wrapped = f"/{name}/"  # a part that is empty, "." or ".." shows as one of these
    return "//" not in wrapped and "/./" not in wrapped and "/../" not in wrapped
