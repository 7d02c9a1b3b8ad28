"""Rewrite rules whose preconditions are subtle: each is checked where it must fire, where
it must not, for the structure it leaves and for the numbers (optimized == unoptimized)."""
import numpy as np
import pytest

import graphnn as gn
from graphnn.ops.declare import apply

RNG = np.random.default_rng(7)


def compile_and_run(fetch, feed_dict=None):
    """(rules fired, optimized graph's ops, optimized value, unoptimized value)."""
    with gn.Session() as sess:
        report = sess.compile_report(fetch, feed_dict)
        value = sess.run(fetch, feed_dict)
    with gn.Session(optimize=False) as sess:
        reference = sess.run(fetch, feed_dict)
    fired = {}
    for record in report.passes:
        for name, times in record.rewrites.items():
            fired[name] = fired.get(name, 0) + times
    return fired, report.optimized_graph.get_operations(), value, reference


@pytest.mark.parametrize("inner, outer", [((1, 2, 0), (0, 2, 1)), ((2, 0, 1), (1, 0, 2)),
                                          ((1, 2, 0), (2, 0, 1)), (None, (1, 0, 2))])
def test_transpose_of_transpose_composes_rank_3_perms(inner, outer):
    data = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    x = gn.placeholder(gn.float32, [2, 3, 4])
    y = gn.transpose(gn.transpose(x, inner), outer)
    fired, ops, value, reference = compile_and_run(y, {x: data})
    assert fired.get("transpose(transpose(x)) -> transpose(x) or x") == 1
    np.testing.assert_array_equal(value, reference)
    np.testing.assert_array_equal(value, np.transpose(np.transpose(data, inner), outer))
    transposes = [op for op in ops if op.type == "Transpose"]
    if inner == (1, 2, 0) and outer == (2, 0, 1):  # inverse perms: nothing left to do
        assert not transposes
    else:
        assert len(transposes) == 1 and transposes[0].inputs[0].op.type == "Placeholder"


@pytest.mark.parametrize("axes, keepdims, fires", [
    ((0, 1), False, False), ((1, 2), False, False), ((1,), False, True), ((-3,), False, True), ((-2,), False, False),
    ((1,), True, True), ((0, 1, 2), True, False), ((1, 3), False, True)])
def test_sum_drops_only_reductions_over_size_1_axes(axes, keepdims, fires):
    data = RNG.standard_normal((2, 1, 3, 1)).astype(np.float32)
    x = gn.placeholder(gn.float32, [2, 1, 3, 1])
    fired, ops, value, reference = compile_and_run(
        gn.reduce_sum(x, axis=list(axes), keepdims=keepdims) * 2.0, {x: data})
    assert bool(fired.get("sum over size-1 axes -> reshape")) == fires
    assert ("Sum" in [op.type for op in ops]) != fires
    np.testing.assert_allclose(value, reference, rtol=1e-6)
    np.testing.assert_allclose(value, data.sum(axis=axes, keepdims=keepdims) * 2, rtol=1e-6)


def test_sum_of_a_broadcast_back_to_its_source_is_a_product():
    x = gn.placeholder(gn.float32, [3, 1])
    data = RNG.standard_normal((3, 1)).astype(np.float32)
    summed = apply("SumToShape", [gn.broadcast_to(x, [2, 3, 4]), gn.shape(x)])
    fired, ops, value, reference = compile_and_run(summed, {x: data})
    assert fired.get("sum of a broadcast back to the source shape -> x * count") == 1
    assert {"SumToShape", "BroadcastTo"}.isdisjoint(op.type for op in ops)
    np.testing.assert_allclose(value, reference, rtol=1e-6)
    np.testing.assert_allclose(value, data * 8, rtol=1e-6)


def test_sum_of_an_integer_broadcast_is_left_alone():
    x = gn.placeholder(gn.int32, [3, 1])
    summed = apply("SumToShape", [gn.broadcast_to(x, [2, 3, 4]), gn.shape(x)])
    fired, _, value, reference = compile_and_run(summed, {x: np.arange(3).reshape(3, 1)})
    assert "sum of a broadcast back to the source shape -> x * count" not in fired
    np.testing.assert_array_equal(value, reference)
    np.testing.assert_array_equal(value, np.arange(3).reshape(3, 1) * 8)


X = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)


# (rule, builder) where the rule must not fire: its result would have another shape or dtype,
# or another value.
NOT_FIRING = [
    ("x * 1 -> x", lambda x: x * gn.ones([2, 3, 4])),
    ("x * 1 -> x", lambda x: x * gn.constant(np.array([1.0, 1.0, 1.0, 2.0], np.float32))),
    ("x / 1 -> x", lambda x: x / gn.ones([2, 1, 1])),
    ("x - 0 -> x", lambda x: x - gn.zeros([2, 3, 4])),
    ("log(1 + x) -> log1p(x)", lambda x: gn.log(gn.ones([2, 3, 4]) + gn.abs(x))),
    ("log(1 + x) -> log1p(x)", lambda x: gn.log(1.0 + gn.abs(x[0]) + gn.zeros([3, 4]))),
    ("select(c, x, x) -> x", lambda x: gn.where(gn.ones([2, 3, 4]) > 0, x, x)),
    ("sum(labels * log_softmax(logits)) -> -softmax_cross_entropy",
     lambda x: -gn.reduce_sum(gn.nn.softmax(x[0] * 0.5) * gn.log(gn.nn.softmax(x)), axis=1)),
    ("sum(labels * log_softmax(logits)) -> -softmax_cross_entropy",
     lambda x: -gn.reduce_sum(gn.nn.softmax(x * 0.5) * gn.log(gn.nn.softmax(x)), axis=1,
                              keepdims=True)),
    ("sum(labels * log_softmax(logits)) -> -softmax_cross_entropy",
     lambda x: -gn.reduce_sum(gn.nn.softmax(x) * gn.log(gn.nn.softmax(x, axis=0)), axis=1)),
    ("element-wise op of broadcast_to(x) -> implicit broadcast",
     lambda x: gn.broadcast_to(x[0:1], [3, 4]) * gn.reduce_sum(x, keepdims=True)),
    ("transpose(transpose(x)) -> transpose(x) or x", lambda x: gn.transpose(-gn.transpose(x))),
]


@pytest.mark.parametrize("name, build", NOT_FIRING,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(NOT_FIRING)])
def test_rule_does_not_fire_where_its_precondition_fails(name, build):
    x = gn.placeholder(gn.float32, [3, 4])
    fired, _, value, reference = compile_and_run(build(x), {x: X})
    assert name not in fired, fired
    np.testing.assert_allclose(value, reference, rtol=1e-6)


@pytest.mark.parametrize("build, kept", [
    (lambda v: gn.identity(v) * 1.0, "Identity"),              # a rule would drop it
    (lambda v: gn.constant(2.0) * 3.0, "Mul"),                 # folding would drop it
    (lambda v: gn.square(v), "Square"),                        # merging would drop it
], ids=["simplify", "fold", "merge"])
def test_no_pass_drops_what_an_op_waits_for(build, kept):
    v = gn.Variable(1.0, name="v")
    twin = gn.square(v)  # an op equal to "merge"'s, but without the control input
    with gn.control_dependencies([v.assign(5.0)]):
        y = build(v)
    with gn.Session() as sess:
        sess.run(v.initializer)
        report = sess.compile_report([twin, y])
        sess.run([twin, y])
        assert sess.run(v) == 5.0  # the assign ran because y waits for it
    waiting = [op for op in report.optimized_graph.get_operations() if op.type == kept]
    assert any(op.control_inputs for op in waiting)


def test_folded_constants_keep_the_users_line():
    x = gn.placeholder(gn.float32, [2])
    y = x * (gn.constant(2.0) + 1.0)
    line = y.op.inputs[1].op.location[1]
    with gn.Session() as sess:
        report = sess.compile_report(y, {x: np.ones(2, np.float32)})
    folded = [op for op in report.optimized_graph.get_operations() if op.name.endswith("/folded")]
    assert folded and all(op.location == (__file__, line) for op in folded)


def test_two_random_ops_are_never_merged():
    a, b = gn.random_normal([64]), gn.random_normal([64])
    with gn.Session() as sess:
        report = sess.compile_report(a - b)
        difference = sess.run(a - b)
    assert np.all(difference != 0)
    assert [op.type for op in report.optimized_graph.get_operations()].count(a.op.type) == 2


def test_integer_division_by_one_keeps_its_float_result():
    n = gn.placeholder(gn.int32, [3])
    fired, _, value, reference = compile_and_run(n / 1, {n: np.array([1, 2, 3], np.int32)})
    assert "x / 1 -> x" not in fired
    assert value.dtype == reference.dtype == np.float64
    np.testing.assert_array_equal(value, [1.0, 2.0, 3.0])


def test_a_fed_variable_needs_no_initial_value():
    v = gn.Variable(np.zeros(3, np.float32), name="v")
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(v * 2.0, {v: np.ones(3, np.float32)}), [2.0] * 3)
