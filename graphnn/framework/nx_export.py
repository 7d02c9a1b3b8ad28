"""``Graph.to_networkx()``: the graph as a ``networkx.MultiDiGraph`` for analysis and other tools.

One node per op, keyed by the op's name; one edge per input slot (so ``x * x``
gives two parallel edges) and one per control input. Every attribute is a str,
int or bool, so the result can be written as GraphML or node-link JSON as is.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from graphnn.framework.graph import Graph, Operation


def graph_to_networkx(graph: Graph) -> nx.MultiDiGraph:
    """Converts ``graph`` to a MultiDiGraph (see ``Graph.to_networkx``)."""
    result = nx.MultiDiGraph()
    for op in graph.get_operations():
        result.add_node(op.name, **_node_attributes(op))
        for index, tensor in enumerate(op.inputs):
            result.add_edge(tensor.op.name, op.name, input_index=index,
                            output_index=tensor.value_index, shape=str(tensor.shape),
                            dtype=tensor.dtype.name, control=False)
        for control in op.control_inputs:
            result.add_edge(control.name, op.name, control=True)
    return result


def _node_attributes(op: Operation) -> dict:
    # Outputs are joined with "; " because GraphML attributes cannot be lists.
    return {
        "type": op.type,
        "name": op.name,
        "scope": op.name.rpartition("/")[0],
        "location": op.where,
        "output_shapes": "; ".join(str(t.shape) for t in op.outputs),
        "output_dtypes": "; ".join(t.dtype.name for t in op.outputs),
        "num_outputs": len(op.outputs),
        "is_gradient": op.gradient_of is not None,
        "gradient_of": "" if op.gradient_of is None else op.gradient_of.name,
    }
