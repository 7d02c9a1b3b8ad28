"""Graphs with control flow round-trip through graph files and run the same."""
import numpy as np

import graphnn as gn


def _build():
    x = gn.placeholder(gn.float32, [4], name="x")
    p = gn.placeholder(gn.bool, [], name="p")
    w = gn.Variable(np.full(4, 0.5, np.float32), name="w")
    counter = gn.Variable(0.0, name="counter")

    def bump():
        counter.assign_add(1.0)
        return gn.scan(lambda acc, e: gn.cond(e > 0.0, lambda: acc * w[0] + e, lambda: acc), x,
                       initializer=gn.constant(0.0))

    y = gn.cond(p, bump, lambda: x * w, name="choose")
    loss = gn.reduce_sum(y * y, name="loss")
    grad, = gn.gradients(loss, w)
    _, total = gn.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s + x), [0, gn.zeros([4])])
    return [y, grad, total]


def test_control_flow_graph_round_trips_and_runs_the_same(tmp_path):
    graph = gn.Graph()
    with graph.as_default():
        fetches = _build()
        init = gn.global_variables_initializer()
    path = gn.io.write_graph(graph, str(tmp_path / "cf.graph.json"))
    loaded = gn.io.import_graph(path)
    assert [op.name for op in loaded.get_operations()] == \
        [op.name for op in graph.get_operations()]
    feeds = {"x:0": np.array([1.0, -2.0, 3.0, 0.5], np.float32)}
    results = []
    for g, names in ((graph, [t.name for t in fetches]), (loaded, [t.name for t in fetches])):
        with gn.Session(g) as sess:
            sess.run(g.get_operation_by_name(init.name))
            run = [sess.run(names, {**feeds, "p:0": pred}) for pred in (True, False, True)]
            results.append((run, sess.run("counter:0")))
    (run_a, count_a), (run_b, count_b) = results
    assert count_a == count_b == 2.0  # the branch with the assign ran twice
    for a, b in zip(run_a, run_b):
        for left, right in zip(a, b):
            np.testing.assert_array_equal(left, right)
    body = loaded.get_operation_by_name("choose").attrs["then_branch"]
    assert body.outer_graph is loaded and body.captured[0].graph is loaded


def test_tensorboard_graph_nests_bodies_under_their_op():
    graph = gn.Graph()
    with graph.as_default():
        x = gn.placeholder(gn.float32, [3], name="x")
        gn.cond(x[0] > 0.0, lambda: gn.exp(x, name="grow"), lambda: x, name="choose")
    nodes = {node.name: node for node in gn.summary.to_graph_def(graph).node}
    assert "choose/then_branch/grow" in nodes
    stand_in = nodes["choose/then_branch/captured/x"]
    assert list(stand_in.input) == ["x"]  # the captured tensor's edge into the body
    assert list(nodes["choose/then_branch/grow"].input) == ["choose/then_branch/captured/x"]


def test_viz_draws_each_body_as_a_cluster_labelled_with_its_op():
    graph = gn.Graph()
    with graph.as_default():
        x = gn.placeholder(gn.float32, [3], name="x")
        gn.scan(lambda acc, e: gn.cond(e > 0.0, lambda: acc + e, lambda: acc), x,
                initializer=gn.constant(0.0), name="run")
    dot = gn.viz.to_dot(graph)
    assert 'subgraph "cluster_run/Scan/body:"' in dot
    # the cond inside the scan body: a cluster nested in the body's cluster
    assert 'subgraph "cluster_run/Scan/body:cond/then_branch:"' in dot
    assert dot.index("cluster_run/Scan/body:cond/then_branch:") > dot.index(
        "cluster_run/Scan/body:")
