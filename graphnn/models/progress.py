"""What ``fit`` prints: a progress bar per epoch where one can redraw, else one line.

- ``verbose=0``: nothing.
- ``verbose=1`` on a terminal: a ``tqdm`` bar per epoch that advances a chunk of
  batches at a time and ends with the epoch's values; in a Jupyter notebook, tqdm's
  widget bar (it needs ``ipywidgets``).
- ``verbose=2``, output that is not a terminal (files, CI logs, pipes), a notebook
  without ``ipywidgets``, or ``tqdm`` not installed (the ``progress`` extra): one line
  per epoch, written when the epoch ends, never a carriage return:
  ``Epoch 1/3 - loss: 0.5120 - accuracy: 0.8400 - val_loss: 0.4410 - val_accuracy: 0.9000``.
"""
from __future__ import annotations

from typing import Any, Optional, TextIO

try:
    from tqdm import std as tqdm_std
except ImportError:  # the optional "progress" extra is not installed: plain lines
    tqdm_std = None


def format_logs(logs: dict[str, float]) -> str:
    """``loss: 0.5120 - accuracy: 0.8400``: the values Keras prints, in the logs' order."""
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


def _in_notebook(out: TextIO) -> bool:
    """Whether ``out`` is a Jupyter kernel's output stream (it is no terminal, yet redraws)."""
    return type(out).__module__.split(".")[0] == "ipykernel"


def _notebook_bar_class() -> Optional[type]:
    """tqdm's widget bar, or None when tqdm or ipywidgets (which it needs) is missing."""
    if tqdm_std is None:
        return None
    try:
        from tqdm import notebook  # imports IPython: only ever inside a notebook kernel
    except ImportError:
        return None
    return notebook.tqdm if getattr(notebook, "IProgress", None) is not None else None


def bar_class(out: TextIO, verbose: int) -> Optional[type]:
    """The tqdm class that draws ``fit``'s bars on ``out``, or None for one line per epoch."""
    if verbose != 1:
        return None
    if _in_notebook(out):
        return _notebook_bar_class()
    return tqdm_std.tqdm if tqdm_std is not None and out.isatty() else None


class EpochProgress:
    """Reports one epoch: a bar advanced per chunk of batches, or one closing line."""

    def __init__(self, out: TextIO, verbose: int, bar: Optional[type], epoch: int, epochs: int,
                 steps: int):
        self._out, self._verbose = out, verbose
        self._title = f"Epoch {epoch + 1}/{epochs}"
        self._bar: Any = None
        if bar is not None:
            # At most MAX_CHUNKS updates an epoch: draw each one (no rate limiting).
            self._bar = bar(total=steps, desc=self._title, unit="batch", file=out, leave=True,
                            dynamic_ncols=True, mininterval=0, miniters=1)

    def advance(self, batches: int, logs: dict[str, float]) -> None:
        """``batches`` more batches ran; ``logs`` are the epoch's running values."""
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs), refresh=False)
            self._bar.update(batches)

    def finish(self, logs: dict[str, float]) -> None:
        """The epoch ended with ``logs`` (validation values included)."""
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs), refresh=False)
            self._bar.close()
        elif self._verbose:
            self._out.write(f"{self._title} - {format_logs(logs)}\n")
            self._out.flush()

    def abandon(self) -> None:
        """The epoch failed (a NaN loss): close the bar where it stands."""
        if self._bar is not None:
            self._bar.close()
