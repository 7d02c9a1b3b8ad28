"""An interactive, self-contained HTML view of a graph or a model: ``to_html`` and ``show``.

The page needs no network and no server. Graphviz lays the graph out here, in Python,
once per *view* (a set of closed name scopes); the page holds those SVG drawings and a
small hand-written viewer (``viewer.js`` and ``viewer.css`` beside this module, part
of graphnn under its license, no third-party code) that switches between them: a click
on a closed scope's box opens it, a click on an open scope's frame closes it, a click on
an op shows its type, inputs and outputs with dtypes and shapes, the file:line that
created it and, for a gradient node, the forward op it differentiates. The mouse wheel
zooms, dragging pans, and the search box finds a node by name (opening the scopes around
it).

Which views exist is decided before the page is written: starting from the first view,
the views one click away come first, then deeper drills into one scope, then
combinations, until ``max_views`` (Graphviz layouts cannot be made in the browser
without shipping Graphviz itself). Closing a scope puts the scopes inside it back as
they were in the first view, so no two views draw alike. A click that would need a view
beyond the limit says so.

In Jupyter, ``show`` returns a ``GraphView`` whose HTML output carries the first view as
plain SVG inside it, and which also offers ``image/svg+xml``: where scripts are stripped
(GitHub's notebook view), the graph still shows.

Example:
    >>> gn.viz.to_html(model, "model.html")           # open it in any browser
    >>> gn.viz.show(train_op, collapse=True)           # inline in a notebook cell
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import heapq
import html
import importlib.resources
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from graphnn.framework.graph import Operation
from graphnn.viz.dot import Drawing, GraphOrFetches, Scopes, dot_of, layer_label, node_kind
from graphnn.viz.render import GraphImage, run_dot

DEFAULT_MAX_VIEWS = 32
_HEIGHT = "560px"
_SVG_START = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
_SVG_COMMENT = re.compile(r"<!--.*?-->\n?", re.DOTALL)


def _asset(name: str) -> str:
    return importlib.resources.files("graphnn.viz").joinpath(name).read_text(encoding="utf-8")


class GraphView(GraphImage):
    """An interactive drawing: ``_repr_html_`` for Jupyter, ``.html()`` for a page.

    It is also a ``GraphImage`` of its first view (``.source``, ``.svg()``,
    ``_repr_svg_``), so a static SVG travels with it.

    Attributes:
        title: the page's title.
        complete: whether every view reachable by clicks was prerendered.
    """

    def __init__(self, obj: GraphOrFetches, collapse: Scopes = None, expand: Scopes = None,
                 edge_labels: bool = True, rankdir: str = "TB", legend: bool = False,
                 title: Optional[str] = None, max_views: int = DEFAULT_MAX_VIEWS):
        if max_views < 1:
            raise ValueError(f"max_views must be at least 1, got {max_views}")
        first = Drawing(obj, collapse, expand, edge_labels)
        self._style = (rankdir, legend, title)
        super().__init__(dot_of(first, rankdir, legend, title))
        self.title = title or _default_title(obj, first)
        self._drawings, self.complete = _explore(first, max_views)
        self._first = first
        self._payload: Optional[str] = None

    @property
    def views(self) -> int:
        """The number of drawings (Graphviz layouts) the page holds."""
        return len(self._drawings)

    def payload(self) -> str:
        """The page's data as JSON: which closed scopes show which view, and the views
        with every node's details (gzip, base64). Rendered once, then cached."""
        if self._payload is None:
            keys = list(self._drawings)
            sources = [dot_of(self._drawings[key], *self._style) for key in keys]
            with ThreadPoolExecutor(max_workers=min(len(sources), os.cpu_count() or 1)) as pool:
                svgs = list(pool.map(lambda source: run_dot(source, "svg").decode("utf-8"),
                                     sources))
            self._svg = svgs[0]  # the first view is the static picture
            views = [_svg_markup(svg) for svg in svgs]
            states = {_key(key): index for index, key in enumerate(keys)}
            # SVG and details compress 6 to 8 times; mtime=0 keeps the output reproducible.
            contents = {"views": views, "nodes": _node_details(self._first)}
            packed = gzip.compress(json.dumps(contents).encode("utf-8"), mtime=0)
            data = {"title": self.title, "packed": base64.b64encode(packed).decode("ascii"),
                    "states": states, "initial": _key(keys[0]), "complete": self.complete}
            # "</" inside a <script> element would end it: JSON allows "\/" for "/".
            self._payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
        return self._payload

    def fragment(self, height: str = _HEIGHT) -> str:
        """The viewer as an HTML element with its style, script and data (for notebooks)."""
        data = self.payload()
        # An id from the content, not a random one: a notebook's outputs stay reproducible.
        element_id = f"gnviz-{hashlib.sha1(data.encode('utf-8')).hexdigest()[:12]}"
        static_svg = _svg_markup(self.svg())
        return (f'<div class="gnviz" id="{element_id}" data-height="{html.escape(height)}">'
                f"<style>{_asset('viewer.css')}</style>"
                f'<div class="gnviz-canvas">{static_svg}</div>'
                f'<script type="application/json" class="gnviz-data">{data}</script>'
                f"<script>{_asset('viewer.js')}\n"
                f'graphnnViz.mount("{element_id}");</script></div>')

    def html(self) -> str:
        """A complete, self-contained HTML page (no network, no server)."""
        return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f"<title>{html.escape(self.title)}</title>"
                "<style>html,body{margin:0;height:100%}</style></head><body>"
                f"{self.fragment(height='100vh')}</body></html>\n")

    def _repr_html_(self) -> str:
        return self.fragment()

    def save(self, path: str | os.PathLike, format: Optional[str] = None) -> str:  # noqa: A002
        """Writes the page (``.html``, ``.htm``, ``format="html"``), else an image (``render``)."""
        path = os.fspath(path)
        if format == "html" or (format is None and path.lower().endswith((".html", ".htm"))):
            with open(path, "w", encoding="utf-8") as file:
                file.write(self.html())
            return path
        return super().save(path, format)

    def __repr__(self) -> str:
        return (f"<gn.viz.GraphView {self.title!r}: {len(self._first.ops)} ops, "
                f"{len(self._drawings)} views; .html() is the page, .source the DOT text>")


def to_html(obj: GraphOrFetches, path: str | os.PathLike, collapse: Scopes = None,
            expand: Scopes = None, edge_labels: bool = True, rankdir: str = "TB",
            legend: bool = False, title: Optional[str] = None,
            max_views: int = DEFAULT_MAX_VIEWS) -> str:
    """Writes a self-contained interactive page of a graph, fetches or a model.

    Pan and zoom, name scopes (a model's layers) that open and close on click, and a
    click on a node shows its op type, shapes, dtypes, the file:line that created it
    and, for a gradient node, the forward op it differentiates. The page works offline.

    Args:
        obj: what ``gn.viz.to_dot`` draws (a graph, fetches, a model).
        path: the ``.html`` file to write.
        collapse, expand, edge_labels, rankdir, legend, title: as ``to_dot``; they set
            the first view.
        max_views: at most this many Graphviz layouts are stored (page size and time
            grow with it). Each view of a large graph is laid out whole, so start one
            with ``collapse=True``: its views are small and quick.

    Returns:
        ``path`` as a string.

    Example:
        >>> gn.viz.to_html(train_op, "train.html", collapse=True)
        'train.html'
    """
    view = GraphView(obj, collapse, expand, edge_labels, rankdir, legend, title, max_views)
    return view.save(path, "html")


def show(obj: Any, **options: Any) -> GraphImage:
    """An inline drawing for Jupyter: interactive for a graph, fetches or a model.

    A graph, fetches or a model gives a ``GraphView`` (HTML viewer plus static SVG);
    DOT text or a ``GraphImage`` gives a static ``GraphImage``. ``options`` are
    ``to_html``'s (``collapse=True``, ``expand=[...]``, ``max_views`` ...).

    Example:
        >>> gn.viz.show(model)        # the last expression of a notebook cell
    """
    if isinstance(obj, (str, GraphImage)):
        if options:
            raise TypeError(f"Drawing options {sorted(options)} cannot apply to DOT text")
        return GraphImage(obj if isinstance(obj, str) else obj.source)
    return GraphView(obj, **options)


def _default_title(obj: Any, drawing: Drawing) -> str:
    name = getattr(obj, "name", None)
    if drawing.layers and isinstance(name, str):
        return f"model {name}"
    return f"graph ({len(drawing.ops)} ops)"


def _key(closed: frozenset) -> str:
    """The page's name for a view: its closed scopes, sorted, one per line."""
    return "\n".join(sorted(closed))


def _toggles(drawing: Drawing) -> list[str]:
    """Scopes a click can open (closed boxes drawn) or close (open clusters drawn)."""
    shown = {node if isinstance(node, str) else node.name for node in drawing.node_of.values()}
    boxes = shown & drawing.closed
    frames = {"/".join(parts[:depth]) for parts in (name.split("/") for name in shown)
              for depth in range(1, len(parts))}
    return sorted(boxes | frames)


def toggled(start: frozenset, closed: frozenset, scope: str) -> frozenset:
    """The closed scopes after a click on ``scope`` (viewer.js does the same).

    Opening a scope removes it; closing one also puts the scopes inside it back as
    they were in the first view, so that views which draw alike are one view.
    """
    if scope in closed:
        return closed - {scope}
    inside = scope + "/"
    return frozenset({s for s in closed if not s.startswith(inside)} | {scope}
                     | {s for s in start if s.startswith(inside)})


def _explore(first: Drawing, max_views: int) -> tuple[dict[frozenset, Drawing], bool]:
    """The views to prerender: fewest clicks first, one scope's drill before combinations."""
    start = frozenset(first.closed)

    def cost(closed: frozenset) -> int:
        changed = start ^ closed
        regions = sum(1 for scope in changed
                      if not any(scope.startswith(other + "/") for other in changed))
        return len(changed) + regions

    found: dict[frozenset, Drawing] = {}
    queue = [(0, 0, start)]
    pushed = 0
    while queue and len(found) < max_views:
        _, _, closed = heapq.heappop(queue)
        if closed in found:
            continue
        drawing = first.with_closed(closed)
        found[closed] = drawing
        for scope in _toggles(drawing):
            successor = toggled(start, closed, scope)
            if successor not in found:
                pushed += 1
                heapq.heappush(queue, (cost(successor), pushed, successor))
    complete = all(closed in found for _, _, closed in queue)
    return found, complete


def _svg_markup(svg: str) -> str:
    """Graphviz's SVG without the XML prolog and comments, ready to sit inside HTML."""
    return _SVG_COMMENT.sub("", _SVG_START.sub("", svg, count=1))


def _tensor(tensor: Any) -> dict[str, str]:
    return {"name": tensor.name, "dtype": tensor.dtype.name, "shape": str(tensor.shape)}


def _op_details(op: Operation) -> dict[str, Any]:
    info: dict[str, Any] = {
        "kind": node_kind(op), "type": op.type, "name": op.name,
        "where": f"{os.path.basename(op.location[0])}:{op.location[1]}",
        "inputs": [_tensor(t) for t in op.inputs],
        "outputs": [_tensor(t) for t in op.outputs],
        "control_inputs": [c.name for c in op.control_inputs]}
    if op.gradient_of is not None:
        info["gradient_of"] = {"name": op.gradient_of.name, "type": op.gradient_of.type}
    if op.type == "Const":
        value = op.attrs.get("value")
        if value is not None and getattr(value, "size", 0) == 1:
            info["value"] = repr(value.reshape(()).item())
    return info


def _scope_details(drawing: Drawing, scope: str) -> dict[str, Any]:
    inside = [op for op in drawing.ops if op.name.startswith(scope + "/")]
    types: dict[str, int] = {}
    for op in inside:
        types[op.type] = types.get(op.type, 0) + 1
    info: dict[str, Any] = {"kind": "scope", "name": scope, "ops": len(inside),
                            "types": sorted(types.items(), key=lambda item: -item[1])}
    layer = drawing.layers.get(scope)
    if layer is not None:
        info.update(kind="layer", layer=layer_label(layer).split("\n"),
                    weights=[f"{v.name} {v.dtype.name} {v.shape}" for v in layer.weights])
    return info


def _node_details(drawing: Drawing) -> dict[str, dict[str, Any]]:
    """{node id in the drawings: details}; a scope's id is its name with a trailing ``/``."""
    details = {op.name: _op_details(op) for op in drawing.ops}
    details.update({f"{scope}/": _scope_details(drawing, scope) for scope in drawing.scopes})
    return details
