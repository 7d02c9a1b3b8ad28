"""The pass pipeline: each rule fires where it should and only there, results never change,
and the user's graph is never touched."""
import sys

import numpy as np
import pytest

import graphnn as gn
from graphnn.compiler import rules
from graphnn.compiler.passes import run_pipeline
from graphnn.compiler.plan import make_plan
from graphnn.compiler.subgraph import copy_for_run


def optimized(fetches, feed_dict=None):
    """(report, optimized value, unoptimized value) for one run."""
    with gn.Session() as sess:
        report = sess.compile_report(fetches, feed_dict)
        value = sess.run(fetches, feed_dict)
    with gn.Session(optimize=False) as sess:
        reference = sess.run(fetches, feed_dict)
    return report, value, reference


def fired(report):
    counts = {}
    for record in report.passes:
        for name, times in record.rewrites.items():
            counts[name] = counts.get(name, 0) + times
    return counts


def op_types(report):
    return [op.type for op in report.optimized_graph.get_operations()]


X = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)


def _gradient_of_sum(x, other_shape):
    """d sum(x * other) / d other. With ``other`` of unknown static shape the driver
    un-broadcasts with a SumToShape, which is a no-op once the fed shapes are known."""
    if other_shape is None:
        other = gn.reshape(x, gn.stack([gn.shape(x)[0], gn.shape(x)[1]])) + 1.0
    else:
        other = gn.placeholder_with_default(np.ones(other_shape, np.float32), other_shape)
    return gn.gradients(gn.reduce_sum(x * other), other)[0]


@pytest.fixture
def x():
    return gn.placeholder(gn.float32, shape=[None, 4], name="x")


# (name of the rule, builder that must make it fire, builder where it must not fire)
RULE_CASES = {
    "x * 1 -> x": (lambda x: x * 1.0, lambda x: x * 2.0),
    "x + 0 -> x": (lambda x: 0.0 + x, lambda x: x + gn.zeros([2, 1, 4])),  # broadcasting: stays
    "x - 0 -> x": (lambda x: x - 0.0, lambda x: 0.0 - x),
    "x / 1 -> x": (lambda x: x / 1.0, lambda x: 1.0 / x),
    "--x -> x": (lambda x: -(-x), lambda x: -gn.abs(x)),
    "identity(x) -> x": (lambda x: gn.identity(x) * 2.0, lambda x: x * 2.0),
    "stop_gradient(x) -> x": (lambda x: gn.stop_gradient(x) * 2.0, lambda x: x * 2.0),
    "cast to the same dtype -> x": (lambda x: gn.cast(x, gn.float32) * 2.0,
                                    lambda x: gn.cast(gn.cast(x, gn.int32), gn.float32)),
    "transpose(transpose(x)) -> transpose(x) or x": (
        lambda x: gn.transpose(gn.transpose(x)) * 2.0, lambda x: gn.transpose(x) * 2.0),
    "reshape(reshape(x)) -> reshape(x)": (lambda x: gn.reshape(gn.reshape(x, [-1]), [2, 6]),
                                          lambda x: gn.reshape(x, [2, 6])),
    "reshape to its own shape -> x": (lambda x: gn.reshape(x, [3, 4]) * 2.0,
                                      lambda x: gn.reshape(x, [4, 3])),
    "sum over size-1 axes -> reshape": (
        lambda x: gn.reduce_sum(gn.expand_dims(x, 1), axis=1),
        lambda x: gn.reduce_sum(x, axis=1)),
    "select(c, x, x) -> x": (lambda x: gn.where(x > 0, x, x) * 2.0,
                             lambda x: gn.where(x > 0, x, -x)),
    "sum to its own shape -> x": (lambda x: _gradient_of_sum(x, None),
                                  lambda x: _gradient_of_sum(x, [4])),
    "element-wise op of broadcast_to(x) -> implicit broadcast": (
        lambda x: gn.broadcast_to(gn.reduce_sum(x, axis=0), [3, 4]) * x,
        lambda x: gn.broadcast_to(gn.reduce_sum(x, axis=0), [2, 3, 4]) * x),
    "unfed placeholder_with_default -> default": (
        lambda x: gn.placeholder_with_default(x, [3, 4]) * 2.0, lambda x: x * 2.0),
    "log(softmax(x)) -> log_softmax(x)": (lambda x: gn.log(gn.nn.softmax(x)),
                                          lambda x: gn.log(gn.nn.softmax(x) + 1.0)),
    "log(sigmoid(x)) -> -softplus(-x)": (lambda x: gn.log(gn.sigmoid(x)),
                                         lambda x: gn.log(gn.sigmoid(x) + 1.0)),
    "log(1 + x) -> log1p(x)": (lambda x: gn.log(1.0 + gn.abs(x)),
                               lambda x: gn.log(2.0 + gn.abs(x))),
    "sum(labels * log_softmax(logits)) -> -softmax_cross_entropy": (
        lambda x: -gn.reduce_sum(gn.nn.softmax(x * 0.5) * gn.log(gn.nn.softmax(x)), axis=1),
        lambda x: -gn.reduce_sum(gn.nn.softmax(x * 0.5) * gn.log(gn.nn.softmax(x)), axis=0)),
}


def test_every_rule_has_a_test_case():
    names = {name for table in (rules.SIMPLIFY, rules.STABILIZE)
             for entries in table.values() for name, _ in entries}
    assert names - {"sum of a broadcast back to the source shape -> x * count",
                    "broadcast to its own shape -> x"} <= set(RULE_CASES), names - set(RULE_CASES)


@pytest.mark.parametrize("name", sorted(RULE_CASES))
def test_rule_fires_where_it_applies(name, x):
    report, value, reference = optimized(RULE_CASES[name][0](x), {x: X})
    assert fired(report).get(name, 0) >= 1, (name, fired(report))
    np.testing.assert_allclose(value, reference, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(RULE_CASES))
def test_rule_does_not_fire_where_it_would_change_results(name, x):
    report, value, reference = optimized(RULE_CASES[name][1](x), {x: X})
    assert fired(report).get(name, 0) == 0, (name, fired(report))
    np.testing.assert_allclose(value, reference, rtol=1e-5, atol=1e-6)


def test_gradient_broadcasts_are_simplified(x):
    b = gn.Variable(np.ones(4, np.float32), name="b")
    loss = gn.reduce_mean(gn.square(x * b))
    grad, = gn.gradients(loss, b)
    with gn.Session() as sess:
        sess.run(b.initializer)
        report = sess.compile_report(grad, {x: X})
        np.testing.assert_allclose(sess.run(grad, {x: X}), (2 * X * X).sum(0) / X.size,
                                   rtol=1e-5)
    assert "BroadcastTo" not in op_types(report)
    assert report.passes[-1].nodes_after < report.passes[0].nodes_after


def test_no_rule_multiplies_by_zero_away():
    x = gn.placeholder(gn.float32, shape=[3])
    report, value, _ = optimized(x * 0.0, {x: np.array([1.0, np.inf, np.nan], np.float32)})
    assert np.isnan(value[1]) and np.isnan(value[2])
    assert "Mul" in op_types(report)


def test_stabilization_removes_nan_that_the_unoptimized_graph_produces():
    logits = gn.placeholder(gn.float32, shape=[None, 3])
    labels = gn.placeholder(gn.float32, shape=[None, 3])
    loss = -gn.reduce_sum(labels * gn.log(gn.nn.softmax(logits)), axis=1)
    feed = {logits: np.array([[200.0, 0.0, -200.0]], np.float32),
            labels: np.array([[0.0, 0.0, 1.0]], np.float32)}
    report, value, reference = optimized(loss, feed)
    assert not np.isfinite(reference).all()
    np.testing.assert_allclose(value, [400.0], rtol=1e-6)
    assert "SoftmaxCrossEntropyWithLogits" in op_types(report)


def test_constant_folding_and_cse(x):
    c = gn.constant(2.0) * gn.constant(3.0)
    y = (x * c + gn.sin(x)) + (x * c + gn.sin(x))
    report, value, reference = optimized(y, {x: X})
    counts = fired(report)
    assert counts.get("Mul folded", 0) >= 1
    assert counts.get("Sin merged", 0) >= 1 and counts.get("Add merged", 0) >= 1
    assert op_types(report).count("Sin") == 1
    np.testing.assert_allclose(value, reference, rtol=1e-6)


def test_shapes_of_fed_tensors_are_folded(x):
    y = gn.reshape(x, [gn.shape(x)[0] * 4])
    report, value, _ = optimized(y, {x: X})
    assert "Shape" not in op_types(report)
    np.testing.assert_array_equal(value, X.reshape(-1))


def test_report_shape_and_text(x):
    y = gn.log(gn.nn.softmax(x * 1.0))
    with gn.Session() as sess:
        report = sess.compile_report(y, {x: X})
    names = [p.name for p in report.passes]
    assert names[0] == "prune" and names[-1] == "eliminate_dead_code"
    for record in report.passes:
        assert record.nodes_after <= record.nodes_before or record.rewrites
        assert record.seconds >= 0 and isinstance(record.rewrites, dict)
    assert report.xla_compile_seconds > 0
    assert isinstance(report.optimized_graph, gn.Graph)
    assert report.compiled_shapes == [{"x": (3, 4)}]
    text = str(report)
    assert "log(softmax(x)) -> log_softmax(x) x1" in text and "XLA compile" in text


def test_rewritten_nodes_keep_provenance(x):
    y = gn.log(gn.nn.softmax(x))
    line = y.op.location[1]
    with gn.Session() as sess:
        report = sess.compile_report(y, {x: X})
    fused = [op for op in report.optimized_graph.get_operations() if op.type == "LogSoftmax"]
    assert fused and fused[0].location == (__file__, line)


def test_running_never_changes_the_users_graph(x):
    w = gn.Variable(np.ones((4, 2), np.float32))
    loss = gn.reduce_mean(gn.log(gn.nn.softmax(gn.matmul(x, w) * 1.0)))
    train = gn.train.AdamOptimizer(0.1).minimize(loss)
    init = gn.global_variables_initializer()
    graph = gn.get_default_graph()
    before = graph.to_networkx() if hasattr(graph, "to_networkx") else None
    ops_before = [(op.name, op.type, tuple(t.name for t in op.inputs)) for op in
                  graph.get_operations()]
    with gn.Session() as sess:
        sess.run(init)
        sess.run([train, loss], {x: X})
        sess.compile_report([train, loss], {x: X})
    assert [(op.name, op.type, tuple(t.name for t in op.inputs)) for op in
            graph.get_operations()] == ops_before
    if before is not None:
        after = graph.to_networkx()
        assert (after.number_of_nodes(), after.number_of_edges()) == \
            (before.number_of_nodes(), before.number_of_edges())


def test_recompiling_for_changing_shapes_warns_naming_the_placeholder(x):
    y = x * 2.0
    with gn.Session() as sess:
        for batch in (4, 5, 6):
            sess.run(y, {x: np.ones((batch, 4))})
        with pytest.warns(UserWarning, match="'x'.*keeps changing|keeps changing"):
            sess.run(y, {x: np.ones((7, 4))})
        report = sess.compile_report(y, {x: np.ones((7, 4))})
    assert [s["x"] for s in report.compiled_shapes] == [(4, 4), (5, 4), (6, 4), (7, 4)]


def test_compile_report_needs_no_initialized_variables(x):
    w = gn.Variable(np.ones((4, 2), np.float32), name="w")
    loss = gn.reduce_sum(gn.matmul(x, w))
    train = gn.train.AdamOptimizer().minimize(loss)
    with gn.Session() as sess:
        report = sess.compile_report([train, loss], {x: X})
        assert report.xla_compile_seconds > 0
        with pytest.raises(gn.errors.FailedPreconditionError, match="uninitialized value w"):
            sess.run([train, loss], {x: X})
        sess.run(gn.global_variables_initializer())
        np.testing.assert_allclose(sess.run([train, loss], {x: X})[1], X.sum() * 2)


def test_each_pass_reports_the_live_ops_it_leaves(x):
    y = (gn.sin(x) * 2.0 + gn.sin(x) * 2.0) * (gn.constant(2.0) + gn.constant(1.0))
    with gn.Session() as sess:
        report = sess.compile_report(y, {x: X})
    records = {r.name: r for r in report.passes}
    for before, after in zip(report.passes, report.passes[1:]):
        assert after.nodes_before == before.nodes_after
    # The merged copies (and nothing else) are gone as soon as the merge pass ends.
    merge = records["merge_common_subexpressions"]
    assert merge.rewrites == {"Const merged": 1, "Sin merged": 1, "Mul merged": 1}
    assert merge.nodes_after == merge.nodes_before - 3
    # Folding 2 + 1 leaves the two constants unused: removed with it, the new one counted.
    fold = records["fold_constants"]
    assert fold.rewrites == {"Add folded": 1}
    assert fold.nodes_after == fold.nodes_before - 2
    assert report.passes[-1].nodes_after == len(report.optimized_graph.get_operations())


def test_a_deep_gradient_is_planned_copied_and_optimized_without_recursion():
    # Planning, the run's copy and every pass walk graphs without recursion: a recursion
    # limit far below the chain's depth (3,000 ops, 9,000 with the gradient) is no
    # obstacle, so neither is Python's default at any depth (XLA is not involved here).
    graph = gn.Graph()
    with graph.as_default():
        x = gn.placeholder(gn.float32, [8], name="x")
        y = x
        for i in range(3_000):
            y = gn.tanh(y) if i % 3 == 0 else y * 0.9 if i % 3 == 1 else y + x
        dx, = gn.gradients(gn.reduce_sum(y), x)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        plan = make_plan(graph, [dx], [x])
        run = copy_for_run(graph, plan, [(8,)])
        run_pipeline(run, optimize=True)
        optimized = make_plan(run.graph, run.fetches, run.feeds)
    finally:
        sys.setrecursionlimit(limit)
    ids = [op._id for op in plan.ops]  # a user graph: in creation order
    assert ids == sorted(ids) and plan.ops[-1] is dx.op
    position = {op: i for i, op in enumerate(optimized.ops)}
    assert all(position.get(t.op, -1) < position[op]  # a fed x is not among them
               for op in optimized.ops for t in op.inputs)
