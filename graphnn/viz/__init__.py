"""Pictures of graphs: Graphviz DOT text, SVG/PNG/PDF files, inline notebook display.

Example:
    >>> dot_text = gn.viz.to_dot(loss, collapse=["gradients"])
    >>> gn.viz.render(loss, "model.svg")            # needs the Graphviz `dot` program
    >>> gn.viz.show(train_op)                       # inline SVG in Jupyter
    >>> gn.viz.to_dot_side_by_side(loss, report.optimized_graph,
    ...                            titles=["as written", "optimized"])
"""
from graphnn.viz.dot import (NODE_STYLES, node_kind, select_ops, tensor_label, to_dot,
                             to_dot_side_by_side)
from graphnn.viz.render import FORMATS, GraphImage, GraphvizNotFoundError, render, run_dot, show

__all__ = ["FORMATS", "NODE_STYLES", "GraphImage", "GraphvizNotFoundError", "node_kind", "render",
           "run_dot", "select_ops", "show", "tensor_label", "to_dot", "to_dot_side_by_side"]
