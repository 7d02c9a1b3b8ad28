"""graph.to_networkx() and gn.io.write_networkx (GraphML, node-link JSON)."""
import json
import re

import networkx as nx
import pytest

import graphnn as gn


@pytest.fixture
def graph():
    graph = gn.get_default_graph()
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    with gn.name_scope("layer"):
        w = gn.Variable(gn.ones([3, 1]), name="W")
        y = gn.matmul(x, w, name="y")
    square = gn.multiply(y, y, name="square")
    loss = gn.reduce_sum(square, name="loss")
    train = gn.train.GradientDescentOptimizer(0.1).minimize(loss)
    with gn.control_dependencies([train]):
        gn.no_op(name="after")
    return graph


def test_one_node_per_op_with_attributes(graph):
    view = graph.to_networkx()
    assert isinstance(view, nx.MultiDiGraph)
    assert list(view.nodes) == [op.name for op in graph.get_operations()]
    assert view.nodes["layer/y"] == {
        "type": "MatMul", "name": "layer/y", "scope": "layer",
        "location": graph.get_operation_by_name("layer/y").where,
        "output_shapes": "(?, 1)", "output_dtypes": "float32", "num_outputs": 1,
        "is_gradient": False, "gradient_of": ""}
    assert re.search(r"test_networkx_export\.py:\d+$", view.nodes["layer/y"]["location"])
    assert view.nodes["x"]["scope"] == "" and view.nodes["after"]["output_shapes"] == ""
    gradient_nodes = [n for n, data in view.nodes(data=True) if data["is_gradient"]]
    assert gradient_nodes and all(view.nodes[n]["gradient_of"] for n in gradient_nodes)


def test_one_edge_per_input_slot_and_control_edges(graph):
    view = graph.to_networkx()
    edges = view.get_edge_data("layer/y", "square")
    assert sorted(e["input_index"] for e in edges.values()) == [0, 1]  # y * y: two slots
    assert all(e["shape"] == "(?, 1)" and e["dtype"] == "float32" and not e["control"]
               for e in edges.values())
    (control,) = view.get_edge_data("GradientDescent", "after").values()
    assert control == {"control": True}
    data_edges = sum(len(op.inputs) for op in graph.get_operations())
    control_edges = sum(len(op.control_inputs) for op in graph.get_operations())
    assert view.number_of_edges() == data_edges + control_edges
    assert nx.is_directed_acyclic_graph(view)
    assert "x" in nx.ancestors(view, "loss")


@pytest.mark.parametrize("fmt", ["graphml", "node-link"])
def test_write_networkx_round_trips_through_networkx(graph, tmp_path, fmt):
    path = str(tmp_path / f"graph.{fmt}")
    assert gn.io.write_networkx(graph, path, format=fmt) == path
    if fmt == "graphml":
        loaded = nx.read_graphml(path)
    else:
        with open(path) as file:
            loaded = nx.node_link_graph(json.load(file), edges="edges")
    view = graph.to_networkx()
    assert loaded.is_multigraph() and loaded.is_directed()
    assert sorted(loaded.nodes) == sorted(view.nodes)
    assert loaded.number_of_edges() == view.number_of_edges()
    assert loaded.nodes["layer/W"]["type"] == "VariableV2"
    assert loaded.nodes["layer/W"]["is_gradient"] is False


def test_write_networkx_rejects_unknown_formats(graph, tmp_path):
    with pytest.raises(ValueError, match="format must be one of"):
        gn.io.write_networkx(graph, str(tmp_path / "g.gexf"), format="gexf")
