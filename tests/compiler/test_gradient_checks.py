"""What the gradient driver checks and the conventions its rules follow: rules returning a
gradient that cannot be their input's are rejected when built; multi-output ops; ties in
maximum, minimum and clip_by_value go where TensorFlow 1 sends them."""
import dataclasses
import inspect
import threading

import numpy as np
import pytest

import graphnn as gn
from graphnn.framework.registry import OP_TABLE


def _with_rule(monkeypatch, op_type, rule):
    monkeypatch.setitem(OP_TABLE, op_type, dataclasses.replace(OP_TABLE[op_type], grad=rule))


def _transposed_rule(op, g):
    return [gn.transpose(g)]


def _float32_rule(op, g):
    return [gn.cast(g, gn.float32)]


def test_ops_of_a_rule_of_the_users_own_are_located_in_it_and_the_others_at_the_call(
        monkeypatch):
    # graphnn's rules build at the user's gn.gradients line; a rule the user wrote builds
    # where its own code makes the op, as any user code does.
    x = gn.placeholder(gn.float64, shape=[3], name="x")
    y = gn.reduce_sum(gn.square(gn.sin(x)))
    rule_line = []

    def user_rule(op, g):
        rule_line.append(inspect.currentframe().f_lineno + 1)
        return [g * (2.0 * op.inputs[0])]
    _with_rule(monkeypatch, "Square", user_rule)
    before = gn.get_default_graph().num_ops
    dx, = gn.gradients(y, x)
    call_line = inspect.currentframe().f_lineno - 1
    added = gn.get_default_graph().get_operations()[before:]
    by_rule = {op.gradient_of.type: op.location for op in added
               if op.gradient_of is not None and op.type == "Mul"}
    assert by_rule["Square"] == (__file__, rule_line[0])
    cos = [op for op in added if op.type == "Cos"]
    assert len(cos) == 1 and cos[0].location == (__file__, call_line)
    with gn.Session() as sess:
        got = sess.run(dx, {x: np.array([0.1, 0.5, 1.0])})
    np.testing.assert_allclose(got, np.sin(2 * np.array([0.1, 0.5, 1.0])))


def test_the_known_user_line_of_one_thread_does_not_locate_another_threads_ops():
    graph = gn.get_default_graph()
    entered, done = threading.Event(), threading.Event()

    def other_thread():
        with graph.user_code_known((("elsewhere.py", 1), None)):
            entered.set()
            done.wait(10)

    thread = threading.Thread(target=other_thread)
    thread.start()
    entered.wait(10)
    try:
        x = gn.placeholder(gn.float32, [2], name="x")
        line = inspect.currentframe().f_lineno - 1
    finally:
        done.set()
        thread.join()
    assert x.op.location == (__file__, line)
    y = gn.identity(x)  # after the other thread left, as before it came
    assert y.op.location == (__file__, inspect.currentframe().f_lineno - 1)


@pytest.mark.parametrize("rule, wrong", [(_transposed_rule, "shape"),
                                         (_float32_rule, "dtype")])
def test_a_rule_returning_a_gradient_unfit_for_its_input_is_rejected_when_built(
        monkeypatch, rule, wrong):
    x = gn.placeholder(gn.float64, shape=[3, 4], name="x")
    y = gn.square(x, name="sq")
    _with_rule(monkeypatch, "Square", rule)
    with pytest.raises(ValueError) as info:
        gn.gradients(y, x)
    message = str(info.value)
    assert "gradient rule of Square" in message and rule.__qualname__ in message
    assert "'sq'" in message and "test_gradient_checks.py" in message  # the op and its line
    assert "(3, 4)" in message and ("(4, 3)" in message if wrong == "shape" else "float32" in message)


def test_a_rule_may_return_a_gradient_its_input_broadcasts_to(monkeypatch):
    x = gn.placeholder(gn.float64, shape=[3, 1])
    y = gn.square(x)
    _with_rule(monkeypatch, "Square", lambda op, g: [g * np.ones((2, 3, 4))])
    dx, = gn.gradients(y, x)
    assert dx.shape == (3, 1)
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(dx, {x: np.ones((3, 1))}), np.full((3, 1), 8.0))


def test_a_rule_is_checked_against_a_partly_known_shape(monkeypatch):
    x = gn.placeholder(gn.float64, shape=[None, 4])
    y = gn.square(x)
    _with_rule(monkeypatch, "Square", lambda op, g: [gn.ones([5, 3], gn.float64)])
    with pytest.raises(ValueError, match=r"shape \(5, 3\)"):
        gn.gradients(y, x)


def test_broadcasting_along_a_dimension_unknown_while_building_is_summed_back():
    x = gn.placeholder(gn.float64, shape=[None, 3])
    y = gn.placeholder(gn.float64, shape=[None, 3])
    dx, dy = gn.gradients(gn.reduce_sum(x * y), [x, y])
    x_value, y_value = np.array([[1.0, 2.0, 3.0]]), np.arange(15.0).reshape(5, 3)
    with gn.Session() as sess:
        got_dx, got_dy = sess.run([dx, dy], {x: x_value, y: y_value})
    np.testing.assert_array_equal(got_dx, y_value.sum(axis=0, keepdims=True))
    np.testing.assert_array_equal(got_dy, np.broadcast_to(x_value, (5, 3)))


def test_split_outputs_that_do_not_reach_the_loss_get_zero_gradient():
    x = gn.placeholder(gn.float64, shape=[2, 6])
    first, _, third = gn.split(x, 3, axis=1)
    dx, = gn.gradients(gn.reduce_sum(first * 2.0) + gn.reduce_sum(third), x)
    with gn.Session() as sess:
        got = sess.run(dx, {x: np.ones((2, 6))})
    np.testing.assert_array_equal(got, [[2, 2, 0, 0, 1, 1]] * 2)


def test_split_with_only_one_output_used():
    x = gn.placeholder(gn.float64)  # unknown rank: the parts' sizes are found at run time
    _, second = gn.split(x, [-1, 2], axis=0)
    dx, = gn.gradients(gn.reduce_sum(gn.square(second)), x)
    with gn.Session() as sess:
        got = sess.run(dx, {x: np.array([1.0, 2.0, 3.0, 4.0])})
    np.testing.assert_array_equal(got, [0, 0, 6, 8])


def _run_gradients(y, xs):
    with gn.Session() as sess:
        return sess.run(gn.gradients(y, xs))


def test_maximum_and_minimum_send_a_tie_to_their_first_operand_as_tensorflow_1():
    # TF 1 math_grad._MaximumMinimumGrad: x's mask is x >= y (Maximum), x <= y (Minimum).
    x = gn.constant([1.0, 2.0, 3.0])
    y = gn.constant([1.0, 3.0, 2.0])
    dx, dy = _run_gradients(gn.maximum(x, y), [x, y])
    np.testing.assert_array_equal(dx, [1, 0, 1])
    np.testing.assert_array_equal(dy, [0, 1, 0])
    dx, dy = _run_gradients(gn.minimum(x, y), [x, y])
    np.testing.assert_array_equal(dx, [1, 1, 0])
    np.testing.assert_array_equal(dy, [0, 0, 1])


def test_clip_by_value_at_its_bounds_passes_the_gradient_to_the_clipped_tensor():
    # TF 1 clips as maximum(minimum(t, max), min): at either bound, the tie goes to t.
    t = gn.constant([0.0, 0.5, 1.0, -1.0, 2.0])
    low, high = gn.constant(0.0), gn.constant(1.0)
    dt, dlow, dhigh = _run_gradients(gn.clip_by_value(t, low, high), [t, low, high])
    np.testing.assert_array_equal(dt, [1, 1, 1, 0, 0])
    assert (dlow, dhigh) == (1.0, 1.0)


def test_clip_by_value_with_crossed_bounds_gives_the_lower_bound_as_tensorflow_1():
    t = gn.constant([5.0, -5.0])
    low, high = gn.constant(3.0), gn.constant(1.0)
    clipped = gn.clip_by_value(t, low, high)
    dt, dlow, dhigh = _run_gradients(clipped, [t, low, high])
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(clipped), [3.0, 3.0])
    np.testing.assert_array_equal(dt, [0, 0])
    assert (dlow, dhigh) == (2.0, 0.0)


def test_clip_by_value_refuses_bounds_that_would_broadcast_the_tensor():
    with pytest.raises(ValueError, match="clip_by_value"):
        gn.clip_by_value(gn.constant([1.0, 2.0]), gn.constant([[0.0], [1.0]]), 5.0)
