"""Rolled loops (compiler/rolled.py): a split program whose segments repeat is compiled as one
program of lax.scan loops, and gives what the whole program gives."""
import numpy as np
import pytest

import graphnn as gn
from unrolled import check_run_loop_equals_runs, chain, rnn

# Programs above 150 ops are split (segments of about 30 ops) and, rolled, compiled whole.
ROLL = {"split_above": 150, "segment_ops": 30}


def test_a_chain_and_its_gradient_roll_into_loops_with_the_whole_programs_values():
    x = gn.placeholder(gn.float64, [5], name="x")
    y = chain(x, 150)
    grad, = gn.gradients(gn.reduce_sum(y), x)
    value = np.linspace(-1, 1, 5)
    with gn.Session(split_above=None) as whole, gn.Session(**ROLL) as rolled:
        got = rolled.run([y, grad], {x: value})
        report = rolled.compile_report([y, grad], {x: value})
        assert rolled.compilation_count == 1  # one program, each loop body traced once
        expected = whole.run([y, grad], {x: value})
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    split = report.split
    assert len(split.loops) == 2 and all(count >= 20 for _, count in split.loops)
    text = str(report)
    assert "rolled into 2 loops" in text and "compiled as one program" in text


def test_unrolled_rnn_training_rolls_and_matches_the_whole_program():
    loss, train, variables, feed = rnn(24, gn.train.AdamOptimizer(0.05))
    results = []
    for options in ({"split_above": None}, ROLL):
        with gn.Session(**options) as sess:
            sess.run(gn.global_variables_initializer())
            losses = [sess.run([train, loss], feed)[1] for _ in range(3)]
            results.append((losses, sess.run(variables)))
            split = sess.compile_report([train, loss], feed).split
    (whole_losses, whole_vars), (rolled_losses, rolled_vars) = results
    # The steps and their gradients, each a loop over (nearly) every time step.
    assert split is not None and len(split.loops) == 2
    assert all(count >= 20 for _, count in split.loops)
    np.testing.assert_allclose(rolled_losses, whole_losses, rtol=1e-5)
    for got, expected in zip(rolled_vars, whole_vars):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_run_loop_on_a_rolled_program_equals_repeated_runs():
    report = check_run_loop_equals_runs(rnn(16, gn.train.AdamOptimizer(0.05)), ROLL)
    assert report.split.loops


def test_random_ops_in_a_loop_draw_what_the_whole_program_draws():
    graph = gn.Graph()
    with graph.as_default():
        graph.seed = 3
        loss, train, variables, feed = rnn(16, gn.train.AdamOptimizer(0.05), dropout=0.3)
        with gn.Session(split_above=None) as whole, gn.Session(**ROLL) as rolled:
            for sess in (whole, rolled):
                sess.run(gn.global_variables_initializer())
            expected = [whole.run([train, loss], feed)[1] for _ in range(2)]
            got = [rolled.run([train, loss], feed)[1] for _ in range(2)]
            assert rolled.compile_report([train, loss], feed).split.loops
            np.testing.assert_allclose(got, expected, rtol=1e-5)
            assert got[0] != got[1]  # each run draws anew (and trains)
            for a, b in zip(rolled.run(variables), whole.run(variables)):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fetching_feeds_variables_and_new_values_of_a_rolled_program():
    x = gn.placeholder(gn.float32, [2], name="x")
    v = gn.Variable(np.array([1.0, 0.5], np.float32), name="v")
    y = chain(x + v, 200)
    new = v.assign(y * 0.01)
    fetches = [x, v, y, new]
    with gn.Session(**ROLL) as rolled, gn.Session(split_above=None) as whole:
        for sess in (rolled, whole):
            sess.run(gn.global_variables_initializer())
        feed = {x: np.array([0.5, -0.5], np.float32)}
        assert rolled.compile_report(fetches, feed).split.loops
        for _ in range(2):  # the variable is updated in place (donated) and read back
            for a, b in zip(rolled.run(fetches, feed), whole.run(fetches, feed)):
                np.testing.assert_allclose(a, b, rtol=1e-6)
        np.testing.assert_allclose(rolled.run(v), whole.run(v), rtol=1e-6)


def test_a_program_too_large_even_rolled_keeps_its_segments_and_says_why():
    x = gn.placeholder(gn.float32, [3], name="x")
    rng = np.random.default_rng(0)
    y = x
    for _ in range(200):  # no repeat: nothing to roll
        y = [gn.tanh, gn.sin, lambda t: t * 0.7][rng.integers(3)](y)
    with gn.Session(**ROLL) as sess, gn.Session(split_above=None) as whole:
        feed = {x: np.ones(3, np.float32)}
        split = sess.compile_report(y, feed).split
        np.testing.assert_allclose(sess.run(y, feed), whole.run(y, feed), rtol=1e-6)
    assert not split.loops and split.distinct > 1
    assert "not rolled into loops" in str(split)


@pytest.mark.parametrize("options, reason", [
    ({"roll_loops": False}, "turned off"),
    ({"check_numerics": True}, "value checks"),
])
def test_rolling_is_refused_where_the_segments_keep_promises_loops_cannot(options, reason):
    x = gn.placeholder(gn.float32, [3], name="x")
    y = chain(x, 200)
    with gn.Session(**ROLL, **options) as sess:
        split = sess.compile_report(y, {x: np.ones(3, np.float32)}).split
    assert not split.loops and reason in split.not_rolled


def _compare_rolled(fetches, feed):
    with gn.Session(split_above=None) as whole, gn.Session(**ROLL) as rolled:
        got = rolled.run(fetches, feed)
        assert rolled.compile_report(fetches, feed).split.loops
        expected = whole.run(fetches, feed)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_carried_value_known_at_compile_time_that_changes_every_step():
    # A control dependency keeps the passes from folding s, so the loop carries a value
    # known while tracing that differs at every step (and one step's value is fetched).
    x = gn.placeholder(gn.float32, [3], name="x")
    s, h, kept = gn.constant(0.0), x, []
    for _ in range(60):
        with gn.control_dependencies([h]):
            s = s + 1.0
        h = gn.sin(gn.tanh(h * 0.5 + s)) * 0.9
        kept.append(s)
    _compare_rolled([h, kept[5], kept[40]], {x: np.ones(3, np.float32)})


def test_per_step_constants_that_differ_only_in_sign_of_zero_stay_apart():
    x = gn.placeholder(gn.float32, [3], name="x")
    h = x
    for t in range(80):
        c = gn.constant(0.0 if t % 2 == 0 else -0.0)
        h = gn.tanh(h) * 0.5 + gn.tanh(1.0 / (gn.abs(h) * c)) * 0.1
    _compare_rolled([h], {x: np.ones(3, np.float32)})


@pytest.mark.parametrize("mode", ["auto", "default"])
def test_a_rolled_program_is_compiled_for_compile_time_in_auto_mode_only(mode):
    loss, train, variables, feed = rnn(24, gn.train.GradientDescentOptimizer(0.1))
    with gn.Session(xla_options=mode, **ROLL) as sess:
        sess.run(gn.global_variables_initializer())
        report = sess.compile_report([train, loss], feed)
    assert len(report.split.loops) == 2
    options = report.xla_choice.options
    if mode == "auto":
        assert options["xla_backend_optimization_level"] == 1
        assert options["xla_cpu_copy_insertion_use_region_analysis"]
        assert "rolled into loops" in report.xla_choice.reason
    else:
        assert options == {}


@pytest.mark.parametrize("twice, fetched", [(0, None), (1, None), (30, None), (None, 45)])
def test_steps_that_read_inputs_in_another_pattern_or_pass_on_other_values_roll_apart(
        twice, fetched):
    # Every step reads three fed values; one step may read one of them twice, or one
    # step's state be fetched too: the other steps still roll, with the same values.
    x = gn.placeholder(gn.float32, [3], name="x")
    a, b, c = ([gn.placeholder(gn.float32, [3], name=f"{n}{t}") for t in range(60)]
               for n in "abc")
    h, states = x, []
    for t in range(60):
        h = gn.tanh(h * a[t] + b[t] * (b[t] if t == twice else c[t]))
        states.append(h)
    rng = np.random.default_rng(5)
    feed = {x: np.ones(3, np.float32)}
    feed.update((p, rng.normal(size=3).astype(np.float32)) for p in a + b + c)
    _compare_rolled([h] + ([states[fetched]] if fetched else []), feed)


def test_the_first_step_reading_the_initial_state_joins_the_loop():
    # Step 0 reads the zeros h0 where later steps read the step before: it is still a step.
    loss, train, variables, feed = rnn(24, gn.train.GradientDescentOptimizer(0.1))
    grads = gn.gradients(loss, variables)
    with gn.Session(split_above=None) as whole, gn.Session(**ROLL) as rolled:
        for sess in (whole, rolled):
            sess.run(gn.global_variables_initializer())
        got, expected = rolled.run(grads, feed), whole.run(grads, feed)
        split = rolled.compile_report(grads, feed).split
    assert split.loops[0] == (0, 24)  # every forward step, from the first segment
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
