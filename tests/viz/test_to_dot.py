"""gn.viz.to_dot: clusters, collapsed scopes, node styles, edge labels, pruning, escaping."""
import re

import numpy as np
import pytest

import graphnn as gn
from graphnn.viz import NODE_STYLES, node_kind

_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_NODE = re.compile(rf"^{_QUOTED} \[(.*)\];$")
_EDGE = re.compile(rf"^{_QUOTED} -> {_QUOTED}(?: \[(.*)\])?;$")
_ATTR = re.compile(rf"(\w+)={_QUOTED}|(\w+)=(\w+)")


def _unquote(text):
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), text)


def _attrs(text):
    return {m.group(1) or m.group(3): _unquote(m.group(2)) if m.group(1) else m.group(4)
            for m in _ATTR.finditer(text or "")}


def parse(dot):
    """{node id: attrs}, [(source, target, attrs)], {node id: enclosing cluster ids}."""
    nodes, edges, clusters, stack = {}, [], {}, []
    for line in dot.splitlines():
        cluster = re.match(rf"^subgraph {_QUOTED} {{$", line)
        if cluster:
            stack.append(_unquote(cluster.group(1)))
        elif line == "}":
            if stack:
                stack.pop()
        elif _EDGE.match(line):
            source, target, attrs = _EDGE.match(line).groups()
            edges.append((_unquote(source), _unquote(target), _attrs(attrs)))
        elif _NODE.match(line):
            name, attrs = _NODE.match(line).groups()
            nodes[_unquote(name)] = _attrs(attrs)
            clusters[_unquote(name)] = list(stack)
    return nodes, edges, clusters


@pytest.fixture
def model():
    """A one-layer classifier with gradients, an SGD step, a control dependency and an unused op."""
    x = gn.placeholder(gn.float32, [None, 784], name="x")
    with gn.name_scope("dense"):
        W = gn.Variable(gn.zeros([784, 10]), name="W")
        b = gn.Variable(gn.zeros([10]), name="b")
        logits = gn.matmul(x, W) + b
        with gn.name_scope("act"):
            y = gn.nn.relu(logits)
    with gn.name_scope("loss"):
        loss = gn.reduce_mean(gn.square(y - 1.0))
    train = gn.train.GradientDescentOptimizer(0.1).minimize(loss)
    with gn.control_dependencies([train]):
        step = gn.no_op(name="after_train")
    unrelated = gn.constant(3.0, name="unrelated") * 2.0
    return dict(x=x, W=W, b=b, logits=logits, y=y, loss=loss, train=train, step=step,
                unrelated=unrelated)


def _style_matches(attrs, kind):
    return all(attrs.get(key) == value for key, value in NODE_STYLES[kind].items())


def test_name_scopes_are_nested_clusters(model):
    nodes, _, clusters = parse(gn.viz.to_dot(model["loss"]))
    assert clusters["dense/MatMul"] == ["cluster_dense"]
    assert clusters["dense/act/Relu"] == ["cluster_dense", "cluster_dense/act"]
    assert clusters["x"] == []
    assert nodes["dense/act/Relu"]["label"] == "Relu"


def test_variable_is_drawn_inside_its_own_scope_cluster(model):
    _, _, clusters = parse(gn.viz.to_dot(gn.get_default_graph()))
    assert clusters["dense/W"] == ["cluster_dense", "cluster_dense/W"]
    assert clusters["dense/W/Assign"] == ["cluster_dense", "cluster_dense/W"]


def test_each_kind_of_node_has_its_own_style(model):
    nodes, _, _ = parse(gn.viz.to_dot(gn.get_default_graph()))
    grad = next(name for name in nodes if name.startswith("gradients/"))
    const = next(name for name, attrs in nodes.items() if attrs["shape"] == "box")
    expected = {"x": "placeholder", "dense/W": "variable", const: "constant",
                "dense/MatMul": "op", grad: "gradient"}
    for name, kind in expected.items():
        assert _style_matches(nodes[name], kind), (name, nodes[name])
    looks = {(NODE_STYLES[k]["shape"], NODE_STYLES[k]["fillcolor"]) for k in NODE_STYLES}
    assert len(looks) == len(NODE_STYLES)


def test_gradient_nodes_are_recognized_by_provenance_or_scope(model):
    graph = gn.get_default_graph()
    with_provenance = [op for op in graph.get_operations() if op.gradient_of is not None]
    computed = [op for op in with_provenance if op.type != "Const"]
    assert computed and all(node_kind(op) == "gradient" for op in computed)
    assert all(node_kind(op) == "constant" for op in with_provenance if op.type == "Const")
    with gn.name_scope("gradients_1"):
        hand_made = gn.identity(model["y"])
    assert hand_made.op.gradient_of is None
    assert node_kind(hand_made.op) == "gradient"
    assert node_kind(model["y"].op) == "op"


def test_edges_carry_dtype_and_static_shape(model):
    _, edges, _ = parse(gn.viz.to_dot(model["loss"]))
    labels = {(s, t): attrs.get("label") for s, t, attrs in edges}
    assert labels[("x", "dense/MatMul")] == "float32 (?, 784)"
    assert labels[("dense/W", "dense/MatMul")] == "float32 (784, 10)"
    assert labels[("dense/b", "dense/Add")] == "float32 (10,)"


def test_second_outputs_are_numbered_on_edges():
    parts = gn.split(gn.placeholder(gn.float32, [4, 6], name="p"), 2, axis=1, name="split")
    total = gn.add(parts[0], parts[1], name="total")
    _, edges, _ = parse(gn.viz.to_dot(total))
    labels = sorted(attrs["label"] for s, t, attrs in edges if t == "total")
    assert labels == [":0 float32 (4, 3)", ":1 float32 (4, 3)"]


def test_control_dependencies_are_dashed(model):
    _, edges, _ = parse(gn.viz.to_dot(model["step"]))
    train_name = model["train"].name
    control = [attrs for s, t, attrs in edges if (s, t) == (train_name, "after_train")]
    assert control and control[0]["style"] == "dashed"
    data = [attrs for s, t, attrs in edges if (s, t) == ("x", "dense/MatMul")]
    assert "style" not in data[0]


def test_fetches_draw_only_their_ancestors(model):
    nodes, _, _ = parse(gn.viz.to_dot(model["y"]))
    assert set(nodes) == {"x", "dense/W", "dense/b", "dense/MatMul", "dense/Add",
                          "dense/act/Relu"}
    assert nodes["dense/act/Relu"]["peripheries"] == "2"
    assert "peripheries" not in nodes["dense/MatMul"]


def test_fetch_subgraph_follows_control_inputs(model):
    nodes, _, _ = parse(gn.viz.to_dot([model["step"]]))
    assert "after_train" in nodes and model["train"].name in nodes
    assert any(name.startswith("gradients/") for name in nodes)
    assert "unrelated" not in nodes and "dense/W/Assign" not in nodes


def test_whole_graph_draws_every_op(model):
    graph = gn.get_default_graph()
    nodes, _, _ = parse(gn.viz.to_dot(graph))
    assert set(nodes) == {op.name for op in graph.get_operations()}


def test_fetches_may_be_nested_lists_dicts_and_variables(model):
    nodes, _, _ = parse(gn.viz.to_dot({"a": [model["W"]], "b": (model["unrelated"].op,)}))
    unrelated = model["unrelated"].op
    assert set(nodes) == {"dense/W", unrelated.name, *(t.op.name for t in unrelated.inputs)}


def test_collapse_draws_each_top_level_scope_as_one_node(model):
    nodes, edges, clusters = parse(gn.viz.to_dot(model["loss"], collapse=True))
    assert set(nodes) == {"x", "dense/", "loss/"}
    assert nodes["dense/"]["label"] == "dense\n(5 ops)"
    assert _style_matches(nodes["dense/"], "scope")
    assert all(path == [] for path in clusters.values())
    assert ("x", "dense/", {"label": "float32 (?, 784)", "tooltip": "x:0"}) in edges
    assert all(source != target for source, target, _ in edges)


def test_collapsed_gradient_scope_looks_like_gradients(model):
    nodes, _, _ = parse(gn.viz.to_dot(model["train"], collapse=["gradients"]))
    assert _style_matches(nodes["gradients/"], "gradient_scope")
    assert "dense/MatMul" in nodes


def test_edges_between_collapsed_scopes_merge(model):
    _, edges, _ = parse(gn.viz.to_dot(model["train"], collapse=True))
    pairs = [(s, t) for s, t, attrs in edges if attrs.get("style") != "dashed"]
    assert len(pairs) == len(set(pairs))
    labels = {(s, t): attrs.get("label") for s, t, attrs in edges}
    assert re.fullmatch(r"\d+ tensors", labels[("dense/", "gradients/")])


def test_collapsing_a_nested_scope_keeps_its_parent_cluster(model):
    nodes, _, clusters = parse(gn.viz.to_dot(model["loss"], collapse=["dense/act"]))
    assert "dense/act/" in nodes and "dense/act/Relu" not in nodes
    assert clusters["dense/act/"] == ["cluster_dense"]


def test_names_and_titles_are_quoted_and_escaped():
    arrow = gn.constant(1.0, name="a->b")  # DOT's edge operator, in a valid op name
    out = gn.identity(arrow, name="out")
    dot = gn.viz.to_dot(out, title='say "hi"\\there\nnow')
    nodes, edges, _ = parse(dot)
    assert "a->b" in nodes
    assert edges[0][:2] == ("a->b", "out")
    assert '"say \\"hi\\"\\\\there\\nnow"' in dot


def test_optional_edge_labels_legend_title_and_direction(model):
    dot = gn.viz.to_dot(model["y"], edge_labels=False, legend=True, title="my model", rankdir="LR")
    _, edges, clusters = parse(dot)
    assert all("label" not in attrs for _, _, attrs in edges)
    assert clusters["legend/gradient"] == ["cluster_legend"]
    assert "rankdir=LR" in dot and 'label="my model"' in dot


def test_any_graph_can_be_drawn_including_a_compiler_optimized_copy():
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    y = gn.reduce_sum(gn.log(gn.nn.softmax(x * 1.0)))
    with gn.Session() as sess:
        optimized = sess.compile_report(y, {x: np.ones((2, 3), np.float32)}).optimized_graph
    assert isinstance(optimized, gn.Graph) and optimized is not y.graph
    nodes, _, _ = parse(gn.viz.to_dot(optimized))
    assert set(nodes) == {op.name for op in optimized.get_operations()}


def test_side_by_side_frames_each_graph_with_its_own_ids():
    def build():
        with gn.Graph().as_default() as graph:
            x = gn.placeholder(gn.float32, [2], name="x")
            with gn.name_scope("f"):
                gn.exp(x * 1.0)
        return graph
    before, after = build(), build()
    dot = gn.viz.to_dot_side_by_side(before, after, titles=["before", "after"], legend=True)
    nodes, _, clusters = parse(dot)
    assert clusters["0:f/Exp"] == ["cluster_0:", "cluster_0:f"]
    assert clusters["1:f/Exp"] == ["cluster_1:", "cluster_1:f"]
    assert 'label="before (4 ops)"' in dot and 'label="after (4 ops)"' in dot
    assert sum(1 for name in nodes if name.endswith(":x")) == 2


def test_bad_arguments_say_what_is_wrong(model):
    with pytest.raises(ValueError, match="empty"):
        gn.viz.to_dot([])
    with pytest.raises(TypeError, match="gn.Graph"):
        gn.viz.to_dot("x:0")
    with gn.Graph().as_default():
        other = gn.constant(1.0, name="other")
    with pytest.raises(ValueError, match="different graphs"):
        gn.viz.to_dot([model["y"], other])
    with pytest.raises(ValueError, match="rankdir"):
        gn.viz.to_dot(model["y"], rankdir="up")
    with pytest.raises(ValueError, match="titles"):
        gn.viz.to_dot_side_by_side(model["y"], titles=["a", "b"])
