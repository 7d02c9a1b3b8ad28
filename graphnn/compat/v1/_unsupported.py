"""What a TF1 name that graphnn does not support does: raise, naming the symbol.

Each module of ``graphnn.compat.v1`` ends with ``__getattr__ = missing_names("nn", ...)``.
Python calls that hook only for names the module does not define, so every supported
name stays a real attribute (in ``dir()`` and ``__all__``). A TF1 public name gets an
``UnsupportedTF1Error``, which is both a ``NotImplementedError`` (what it means) and an
``AttributeError`` (so ``hasattr(tf, "contrib")`` is False and ``getattr(tf, n, default)``
returns the default); any other name gets the usual ``AttributeError``.
"""
from __future__ import annotations

from typing import Callable

from graphnn.compat.v1._tf1_names import TF1_NAMES

__all__ = ["UnsupportedTF1Error", "missing_names"]


class UnsupportedTF1Error(NotImplementedError, AttributeError):
    """A TensorFlow 1 name that ``graphnn.compat.v1`` does not provide.

    Attributes:
        symbol: the TF1 name, as a program spells it (``"tf.contrib"``).
    """

    def __init__(self, symbol: str, hint: str = ""):
        self.symbol = symbol
        super().__init__(f"{symbol} is part of TensorFlow 1 but not supported by "
                         f"graphnn.compat.v1{': ' + hint if hint else ''}. See the README "
                         f"section 'Coming from TensorFlow 1' for what is supported.")


def missing_names(module: str, hints: dict[str, str] | None = None) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``tf.<module>`` (``""``: the top level).

    Args:
        module: the key of the module's names in ``TF1_NAMES``.
        hints: extra words for some names (what to use instead).
    """
    known = TF1_NAMES[module]
    prefix = "tf." + (module + "." if module else "")
    hints = hints or {}

    def __getattr__(name: str) -> object:
        if name in known:
            raise UnsupportedTF1Error(prefix + name, hints.get(name, ""))
        raise AttributeError(f"module 'graphnn.compat.v1{'.' + module if module else ''}' has "
                             f"no attribute {name!r}")

    return __getattr__
