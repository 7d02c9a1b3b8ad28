"""Rendering DOT text to SVG, PNG or PDF with the Graphviz ``dot`` program.

graphnn calls ``dot`` through ``subprocess`` rather than a Python binding: the
``graphviz`` PyPI package only wraps the same program (so it would add a
dependency and still need the system install), and ``pygraphviz`` must be
compiled against Graphviz's C headers. A missing ``dot`` gets an error that
says how to install it; ``to_dot`` works without it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any, Optional

from graphnn.viz.dot import to_dot

FORMATS = ("svg", "png", "pdf")
_TIMEOUT_SECONDS = 300

_INSTALL_HELP = (
    "Drawing a graph needs the Graphviz `dot` program, which was not found on PATH. "
    "Install Graphviz, then retry:\n"
    "  Debian/Ubuntu:  sudo apt-get install graphviz\n"
    "  macOS:          brew install graphviz\n"
    "  conda:          conda install -c conda-forge graphviz\n"
    "  Windows:        winget install graphviz (or https://graphviz.org/download/)\n"
    "gn.viz.to_dot(...) still returns the DOT text without it.")


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz ``dot`` program is not installed (or not on PATH)."""


def dot_source(obj: Any, **to_dot_options: Any) -> str:
    """DOT text of ``obj``: DOT text itself, a ``GraphImage``, a graph or fetches."""
    if isinstance(obj, GraphImage):
        return obj.source
    if isinstance(obj, str):
        if to_dot_options:
            raise TypeError(f"Drawing options {sorted(to_dot_options)} cannot apply to DOT text")
        return obj
    return to_dot(obj, **to_dot_options)


def run_dot(source: str, format: str = "svg") -> bytes:  # noqa: A002 (Graphviz's word)
    """The bytes that ``dot -T<format>`` makes of ``source``.

    Raises:
        GraphvizNotFoundError: ``dot`` is not installed, with how to install it.
        RuntimeError: ``dot`` rejected the input, with its message.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    executable = shutil.which("dot")
    if executable is None:
        raise GraphvizNotFoundError(_INSTALL_HELP)
    try:
        result = subprocess.run([executable, f"-T{format}"], input=source.encode("utf-8"),
                                capture_output=True, timeout=_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"Graphviz `dot` did not finish within {_TIMEOUT_SECONDS} s; draw "
                           f"less of the graph (fetches, or collapse=True)") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"Graphviz `dot -T{format}` failed (exit {result.returncode}): "
                           f"{message}")
    return result.stdout


def render(obj: Any, path: str | os.PathLike, format: Optional[str] = None,  # noqa: A002
           **to_dot_options: Any) -> str:
    """Draws a graph (or fetches, or DOT text) into an SVG, PNG or PDF file.

    Args:
        obj: what ``gn.viz.to_dot`` accepts, DOT text, or a ``GraphImage``.
        path: the file to write, exactly as given.
        format: ``"svg"``, ``"png"`` or ``"pdf"``; by default the path's extension,
            else ``"svg"``.
        **to_dot_options: passed to ``to_dot`` (``collapse=True``, ...).

    Returns:
        ``path`` as a string.

    Example:
        >>> gn.viz.render(loss, "model.svg", collapse=["gradients"])
        'model.svg'
    """
    path = os.fspath(path)
    if format is None:
        extension = os.path.splitext(path)[1].lstrip(".").lower()
        format = extension if extension in FORMATS else "svg"
    data = run_dot(dot_source(obj, **to_dot_options), format)
    with open(path, "wb") as file:
        file.write(data)
    return path


class GraphImage:
    """A drawing that Jupyter shows inline (``_repr_svg_``); ``.source`` is its DOT text.

    Example:
        >>> gn.viz.show(loss)          # the last expression of a notebook cell
    """

    def __init__(self, source: str):
        self.source = source
        self._svg: Optional[str] = None

    def svg(self) -> str:
        """The SVG markup (rendered once, then cached)."""
        if self._svg is None:
            self._svg = run_dot(self.source, "svg").decode("utf-8")
        return self._svg

    def _repr_svg_(self) -> str:
        return self.svg()

    def save(self, path: str | os.PathLike, format: Optional[str] = None) -> str:  # noqa: A002
        """Writes the drawing to ``path`` (as ``gn.viz.render``)."""
        return render(self.source, path, format)

    def __repr__(self) -> str:
        nodes = sum(1 for line in self.source.splitlines() if line.endswith("];")
                    and "->" not in line and not line.startswith(("graph ", "node ", "edge ")))
        return f"<gn.viz.GraphImage: {nodes} nodes; .source holds the DOT text>"

