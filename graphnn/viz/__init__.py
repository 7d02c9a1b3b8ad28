"""Pictures of graphs and models: DOT text, SVG/PNG/PDF files, interactive HTML, notebooks.

Example:
    >>> dot_text = gn.viz.to_dot(loss, collapse=["gradients"])
    >>> gn.viz.render(loss, "model.svg")            # needs the Graphviz `dot` program
    >>> gn.viz.render(model, "layers.svg")          # a model: one box per layer
    >>> gn.viz.to_html(train_op, "train.html")      # pan, zoom, open scopes, node details
    >>> gn.viz.show(train_op)                       # the same, inline in Jupyter
    >>> gn.viz.to_dot_side_by_side(loss, report.optimized_graph,
    ...                            titles=["as written", "optimized"])
"""
from graphnn.viz.dot import (NODE_STYLES, node_kind, select_ops, tensor_label, to_dot,
                             to_dot_side_by_side)
from graphnn.viz.html import GraphView, show, to_html
from graphnn.viz.render import FORMATS, GraphImage, GraphvizNotFoundError, render, run_dot

__all__ = ["FORMATS", "NODE_STYLES", "GraphImage", "GraphView", "GraphvizNotFoundError",
           "node_kind", "render", "run_dot", "select_ops", "show", "tensor_label", "to_dot",
           "to_dot_side_by_side", "to_html"]
