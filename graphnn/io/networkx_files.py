"""``write_networkx``: the ``to_networkx()`` view of a graph as GraphML or node-link JSON."""
from __future__ import annotations

import io
import json

import networkx as nx

from graphnn.framework.graph import Graph
from graphnn.io.files import atomic_write

FORMATS = ("graphml", "node-link")


def write_networkx(graph: Graph | nx.MultiDiGraph, path: str,
                   format: str = "graphml") -> str:  # noqa: A002 (networkx's word)
    """Writes ``graph.to_networkx()`` for other tools (Gephi, yEd, Cytoscape, d3).

    Returns ``path``.

    ``format="graphml"`` uses ``networkx.write_graphml``; ``"node-link"`` writes
    ``networkx.node_link_data`` as JSON (edges under the key "edges").

    Example:
        >>> gn.io.write_networkx(gn.get_default_graph(), "model.graphml")
    """
    if format not in FORMATS:
        raise ValueError(f"write_networkx: format must be one of {FORMATS}, got {format!r}")
    view = graph.to_networkx() if isinstance(graph, Graph) else graph
    buffer = io.BytesIO()
    if format == "graphml":
        nx.write_graphml(view, buffer)
    else:
        buffer.write(json.dumps(nx.node_link_data(view, edges="edges"), indent=1).encode("utf-8"))
    atomic_write(path, lambda file: file.write(buffer.getvalue()))
    return path
