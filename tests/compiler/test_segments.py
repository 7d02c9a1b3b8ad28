"""Split compilation (compiler/segments.py, compiler/split_executable.py): a program cut into
segments gives what the whole program gives, and keeps its promises."""
import threading

import numpy as np
import pytest

import graphnn as gn
from graphnn.compiler.plan import make_plan
from graphnn.compiler.segments import schedule
from unrolled import check_run_loop_equals_runs, chain, rnn

# Small thresholds so that small graphs are split (and the tests stay fast); these tests
# are about separately compiled segments, so repeats are not rolled into loops (that is
# tests/compiler/test_rolled.py).
SPLIT = {"split_above": 20, "segment_ops": 12, "roll_loops": False}
SPLIT_RNN = {"split_above": 60, "segment_ops": 30, "roll_loops": False}


def test_chain_and_its_gradient_match_the_whole_program():
    x = gn.placeholder(gn.float32, [5], name="x")
    y = chain(x, 90)
    grad, = gn.gradients(gn.reduce_sum(y), x)
    value = np.linspace(-1, 1, 5).astype(np.float32)
    with gn.Session(split_above=None) as whole, gn.Session(**SPLIT) as split:
        expected = whole.run([y, grad], {x: value})
        got = split.run([y, grad], {x: value})
        report = split.compile_report([y, grad], {x: value})
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5)
    assert report.split is not None and len(report.split.sizes) > 5
    assert max(report.split.sizes) <= 2 * SPLIT["segment_ops"]


def test_a_float64_program_split_matches_the_whole_program():
    x = gn.placeholder(gn.float64, [4], name="x")
    grad, = gn.gradients(gn.reduce_sum(chain(x, 60)), x)
    value = np.linspace(-1, 1, 4)
    with gn.Session(split_above=None) as whole, gn.Session(**SPLIT) as split:
        got = split.run(grad, {x: value})
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, whole.run(grad, {x: value}), rtol=1e-12)


def test_repeated_structure_compiles_each_distinct_segment_once():
    x = gn.placeholder(gn.float32, [4], name="x")
    grad, = gn.gradients(gn.reduce_sum(chain(x, 600)), x)
    with gn.Session(split_above=100, segment_ops=60, roll_loops=False) as sess:
        sess.run(grad, {x: np.ones(4, np.float32)})
        report = sess.compile_report(grad, {x: np.ones(4, np.float32)})
        traced = sess.compilation_count
    split = report.split
    assert len(split.sizes) >= 20
    assert split.distinct <= 8 and split.cache_hits == len(split.sizes) - split.distinct
    assert traced == split.distinct  # a reused segment is not even traced again
    text = str(report)
    assert f"split into {len(split.sizes)} segments" in text and "split_above=100" in text
    assert "distinct compiled segments" in text


def test_a_program_without_repeats_is_cut_where_few_values_cross():
    x = gn.placeholder(gn.float32, [3], name="x")
    rng = np.random.default_rng(3)
    kept, y = [], x
    for i in range(40):  # no period: ops drawn at random, side values kept for the end
        kind = rng.integers(4)
        y = [gn.tanh, gn.sin, lambda t: t * 0.7, lambda t: t + x][kind](y)
        if i % 10 == 0:
            kept.append(y)
    total = gn.add_n([y] + kept)
    grad, = gn.gradients(gn.reduce_sum(total), x)
    value = np.array([0.1, -0.4, 0.8], np.float32)
    with gn.Session(split_above=20, segment_ops=30, roll_loops=False) as split, \
            gn.Session(split_above=None) as whole:
        np.testing.assert_allclose(split.run([total, grad], {x: value}),
                                   whole.run([total, grad], {x: value}), rtol=1e-5)
        report = split.compile_report([total, grad], {x: value}).split
    assert 1 in report.periods and len(report.sizes) >= 3


def test_small_programs_compile_whole():
    x = gn.placeholder(gn.float32, [3])
    with gn.Session() as sess:
        report = sess.compile_report(gn.tanh(x) * 2.0, {x: np.ones(3, np.float32)})
    assert report.split is None and "split into" not in str(report)


def test_unrolled_rnn_training_matches_the_whole_program():
    # Enough steps for the gradient's period (8 ops with TanhGrad) to fill whole segments.
    loss, train, variables, feed = rnn(32, gn.train.GradientDescentOptimizer(0.1))
    results = []
    for options in ({"split_above": None}, SPLIT_RNN):
        with gn.Session(**options) as sess:
            sess.run(gn.global_variables_initializer())
            losses = [sess.run([train, loss], feed)[1] for _ in range(3)]
            results.append((losses, sess.run(variables)))
            split = sess.compile_report([train, loss], feed).split
    (whole_losses, whole_vars), (split_losses, split_vars) = results
    assert split is not None and split.cache_hits > 0
    np.testing.assert_allclose(split_losses, whole_losses, rtol=1e-5)
    for got, expected in zip(split_vars, whole_vars):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_run_loop_on_a_split_program_equals_repeated_runs():
    report = check_run_loop_equals_runs(rnn(12, gn.train.GradientDescentOptimizer(0.1)),
                                        SPLIT_RNN)
    assert report.split is not None and not report.split.loops


def test_a_check_failing_in_a_late_segment_changes_no_variable():
    x = gn.placeholder(gn.float32, [3], name="x")
    v = gn.Variable(np.ones(3, np.float32), name="v")
    w = gn.Variable(np.ones(3, np.float32), name="w")
    table = gn.constant(np.arange(12, dtype=np.float32).reshape(4, 3))
    update_v = v.assign_add(x)  # early: the first segment
    y = chain(x, 60)
    # Late: an index computed from the chain, checked inside the program.
    index = gn.cast(gn.reduce_sum(y) * 0.0 + gn.reduce_max(x), gn.int32)
    picked = gn.gather(table, gn.reshape(index, [1]))
    with gn.control_dependencies([update_v]):
        step = gn.group(w.assign_add(gn.reduce_sum(picked) * gn.ones([3])), update_v)
    with gn.Session(**SPLIT) as sess:
        sess.run(gn.global_variables_initializer())
        assert sess.compile_report(step, {x: np.zeros(3, np.float32)}).split is not None
        with pytest.raises(gn.errors.InvalidArgumentError, match=r"indices\[0\] = 7 is not"):
            sess.run(step, {x: np.array([7, 0, 0], np.float32)})
        np.testing.assert_array_equal(sess.run(v), np.ones(3))
        np.testing.assert_array_equal(sess.run(w), np.ones(3))
        sess.run(step, {x: np.array([2, 0, 0], np.float32)})
        np.testing.assert_array_equal(sess.run(v), [3, 1, 1])
        np.testing.assert_array_equal(sess.run(w), np.ones(3) + 6 + 7 + 8)


def test_a_check_failing_at_a_later_step_of_run_loop_restores_every_variable():
    x = gn.placeholder(gn.float32, [3], name="x")
    v = gn.Variable(np.ones(3, np.float32), name="v")
    table = gn.constant(np.arange(12, dtype=np.float32).reshape(4, 3))
    y = chain(x + v, 60)
    index = gn.cast(gn.reduce_sum(y) * 0.0 + gn.reduce_max(x), gn.int32)
    step = v.assign_add(gn.reduce_sum(gn.gather(table, gn.reshape(index, [1]))) * gn.ones([3]))
    good, bad = np.array([1, 0, 0], np.float32), np.array([9, 0, 0], np.float32)
    with gn.Session(**SPLIT) as sess:
        sess.run(gn.global_variables_initializer())
        with pytest.raises(gn.errors.InvalidArgumentError, match=r"indices\[0\] = 9.*step 1"):
            sess.run_loop(step, {x: np.stack([good, bad, good])})
        np.testing.assert_array_equal(sess.run(v), np.ones(3))
        sess.run_loop(step, {x: np.stack([good, good])})
        np.testing.assert_array_equal(sess.run(v), np.ones(3) + 2 * (3 + 4 + 5))


def test_check_numerics_names_the_op_in_a_split_program():
    x = gn.placeholder(gn.float32, [3], name="x")
    z = gn.log(chain(x, 20) - 100.0, name="bad_log")
    w = chain(z, 10)
    with gn.Session(check_numerics=True, split_above=20, segment_ops=40) as sess:
        assert sess.compile_report(w, {x: np.ones(3, np.float32)}).split is not None
        with pytest.raises(gn.errors.InvalidArgumentError, match="bad_log"):
            sess.run(w, {x: np.ones(3, np.float32)})


def test_random_ops_draw_what_the_whole_program_draws():
    graph = gn.Graph()
    with graph.as_default():
        gn.get_default_graph().seed = 7
        x = gn.placeholder(gn.float32, [8], name="x")
        y = x
        for i in range(8):
            y = gn.tanh(y) + gn.random_normal([8], stddev=0.1) if i % 2 else y * 0.9
        value = np.ones(8, np.float32)
        with gn.Session(graph=graph, split_above=None) as whole, \
                gn.Session(graph=graph, split_above=10, segment_ops=10, roll_loops=False) as split:
            expected = [whole.run(y, {x: value}) for _ in range(2)]
            got = [split.run(y, {x: value}) for _ in range(2)]
            assert split.compile_report(y, {x: value}).split.cache_hits > 0
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert not np.allclose(got[0], got[1])  # each run draws anew


def test_concurrent_runs_of_a_split_program_lose_no_update():
    counter = gn.Variable(np.zeros(2, np.float32), name="counter")
    x = gn.placeholder(gn.float32, [2], name="x")
    increment = counter.assign_add(gn.ones([2]) + 0.0 * gn.reduce_sum(chain(x, 60)))
    with gn.Session(**SPLIT) as sess:
        sess.run(gn.global_variables_initializer())
        feed = {x: np.ones(2, np.float32)}
        assert sess.compile_report(increment, feed).split is not None

        def work():
            for _ in range(10):
                sess.run(increment, feed)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        np.testing.assert_array_equal(sess.run(counter), [40, 40])


def test_fetching_feeds_variables_constants_and_new_values_of_a_split_program():
    x = gn.placeholder(gn.float32, [2], name="x")
    v = gn.Variable(np.array([1.0, 2.0], np.float32), name="v")
    big = gn.constant(np.ones(70000, np.float32))  # passed to the program, not embedded
    y = chain(x + v, 60)
    new = v.assign(y)
    fetches = [x, v, gn.constant(3.0), big, y, new]
    with gn.Session(**SPLIT) as split, gn.Session(split_above=None) as whole:
        for sess in (split, whole):
            sess.run(gn.global_variables_initializer())
        feed = {x: np.array([0.5, -0.5], np.float32)}
        assert split.compile_report(fetches, feed).split is not None
        for _ in range(2):
            got, expected = split.run(fetches, feed), whole.run(fetches, feed)
            for a, b in zip(got, expected):
                np.testing.assert_allclose(a, b, rtol=1e-6)
        np.testing.assert_allclose(split.run(v), whole.run(v), rtol=1e-6)


def test_invalid_split_options_are_refused():
    with pytest.raises(gn.errors.InvalidArgumentError, match="segment_ops"):
        gn.Session(segment_ops=0)


def test_compile_report_of_a_split_program_names_its_shardings_also_under_a_strategy():
    # (several devices: tests/distribute/test_split_mirrored.py)
    x = gn.placeholder(gn.float32, [4], name="x")
    y = chain(x, 60)
    feed = {x: np.ones(4, np.float32)}
    with gn.Session(**SPLIT) as sess:
        report = sess.compile_report(y, feed)
    assert report.split is not None and set(report.shardings) == {"x:0"}
    strategy = gn.distribute.MirroredStrategy()
    with gn.Session(strategy=strategy, **SPLIT) as sess:
        np.testing.assert_allclose(sess.run(y, feed), gn.Session(**SPLIT).run(y, feed))
        report = sess.compile_report(y, feed)
    assert report.split is not None and report.split.devices == len(strategy.devices)
    assert report.shardings["x:0"].mesh == strategy.mesh


def test_a_variable_read_and_assigned_in_one_segment_can_be_fetched():
    x = gn.placeholder(gn.float32, [2], name="x")
    v = gn.Variable(np.array([1.0, 2.0], np.float32), name="v")
    y = chain(x, 60)
    step = v.assign(v * 2.0 + 0.0 * gn.reduce_sum(y))  # v's reads and write: the last segment
    with gn.Session(**SPLIT) as sess:
        sess.run(gn.global_variables_initializer())
        feed = {x: np.ones(2, np.float32)}
        old, new = sess.run([v, step], feed)
        np.testing.assert_array_equal(old, [1, 2])
        np.testing.assert_array_equal(new, [2, 4])
        np.testing.assert_array_equal(sess.run(v), [2, 4])


def test_the_cut_follows_creation_order_where_it_is_topological_and_inputs_where_not():
    # The user's ops as the origin of a run graph's ops: "late" was created after "early",
    # yet the run op standing for "early" reads the one standing for "late".
    user = gn.Graph()
    with user.as_default():
        u = gn.placeholder(gn.float32, [2])
        early, late, last = gn.sin(u).op, gn.cos(u).op, gn.exp(u).op
    run = gn.Graph()
    with run.as_default():
        x = gn.placeholder(gn.float32, [2], name="x")
        made_late = gn.tanh(x)
        reads_it = gn.negative(made_late)
        other = gn.abs(x)
    plan = make_plan(run, [reads_it, other], [x])
    origin = {made_late.op: late, reads_it.op: early, other.op: last}
    order, reads, _ = schedule(plan, origin)
    assert order == [made_late.op, reads_it.op, other.op]
    assert reads[reads_it.op] == [made_late]
    origin[other.op] = early  # of the ops ready, the one created first goes first
    assert schedule(plan, origin)[0] == [other.op, made_late.op, reads_it.op]
