"""A run that computes nothing, only storing values known at compile time (an initializer of
variables made from arrays), runs without an XLA program (compiler/lowering.py)."""
import numpy as np
import pytest

import graphnn as gn
from graphnn.compiler import memory


def test_an_initializer_of_known_values_needs_no_xla_program_and_stores_fresh_buffers():
    small = np.arange(6, dtype=np.float64).reshape(2, 3)
    large = np.ones((300, 300), np.float32)  # passed to the program, not embedded in it
    v, w, n = gn.Variable(small, name="v"), gn.Variable(large, name="w"), gn.Variable(3, name="n")
    init = gn.global_variables_initializer()
    with gn.Session() as sess:
        sess.run(init)
        report = sess.compile_report(init)
        assert report.xla_choice.name == "none" and report.xla_compile_seconds == 0.0
        assert "no XLA program" in str(report)
        got = sess.run([v, w, n])
        assert got[0].dtype == np.float64 and got[2].dtype == np.int32
        np.testing.assert_array_equal(got[0], small)
        np.testing.assert_array_equal(got[1], large)
        # Updates donate the stored buffers; initializing again stores the values anew.
        sess.run([v.assign(v * 2.0), w.assign(w + 1.0), n.assign_add(1)])
        np.testing.assert_array_equal(sess.run(w), large + 1.0)
        sess.run(init)
        np.testing.assert_array_equal(sess.run(v), small)
        np.testing.assert_array_equal(sess.run(w), large)
        assert sess.run(n) == 3


def test_fetching_a_constant_needs_no_xla_program_and_a_computation_still_gets_one():
    c = gn.constant([1.0, 2.0])
    x = gn.placeholder(gn.float32, [2])
    random = gn.Variable(gn.random_normal([3], seed=1))
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(c), [1.0, 2.0])
        assert sess.compile_report(c).xla_choice.name == "none"
        assert sess.compile_report(c + x, {x: [1.0, 1.0]}).xla_choice.name != "none"
        sess.run(random.initializer)
        assert sess.compile_report(random.initializer).xla_choice.name != "none"
        assert sess.compile_report(random).xla_choice.name != "none"  # a variable's value


def test_a_run_without_xla_program_reports_its_cost_and_is_refused_when_memory_is_short(
        monkeypatch):
    w = gn.Variable(np.ones((100, 50), np.float32), name="w")
    with gn.Session() as sess:
        cost = sess.compile_report(w.initializer).cost
        assert cost.flops == 0 and cost.output_bytes == 100 * 50 * 4
        monkeypatch.setattr(memory, "available_bytes", lambda device: 1000)
        with pytest.raises(gn.errors.ResourceExhaustedError, match="'w/initial_value'"):
            sess.run(w.initializer)
        monkeypatch.undo()
        with pytest.raises(gn.errors.FailedPreconditionError):
            sess.run(w)  # refused before anything was stored
        sess.run(w.initializer)
        np.testing.assert_array_equal(sess.run(w), np.ones((100, 50)))
