"""One reachability computation for gn.gradients and gn.explain_gradient: they agree on
which tensors get a gradient, stop_gradients included."""
import inspect

import numpy as np
import pytest

import graphnn as gn
from graphnn.compiler.gradient_paths import gradient_diagnosis


def _line():
    return inspect.currentframe().f_back.f_lineno


def test_explain_gradient_reports_a_variable_cut_by_stop_gradients_as_gradients_returns_none():
    x = gn.placeholder(gn.float32, [2, 3], name="x")
    W = gn.Variable(np.ones((3, 4), np.float32), name="W")
    hidden, line = gn.tanh(gn.matmul(x, W)), _line()
    loss = gn.reduce_sum(hidden * hidden)
    assert gn.gradients(loss, W)[0] is not None
    assert "has a gradient" in gn.explain_gradient(loss, W)

    assert gn.gradients(loss, W, stop_gradients=[hidden]) == [None]
    text = gn.explain_gradient(loss, W, stop_gradients=[hidden])
    assert text.startswith("Variable 'W' reaches")
    assert (f"Tanh '{hidden.op.name}' created at {__file__}:{line} (its output "
            f"'{hidden.name}' is in stop_gradients)") in text


def test_a_stopped_x_still_gets_its_own_gradient_in_both():
    x = gn.placeholder(gn.float32, [3], name="x")
    t = gn.sin(x)
    loss = gn.reduce_sum(t * t)
    assert gn.gradients(loss, t, stop_gradients=[t])[0] is not None
    assert "has a gradient" in gn.explain_gradient(loss, t, stop_gradients=t)
    assert gn.gradients(loss, x, stop_gradients=t) == [None]
    assert "stop_gradients" in gn.explain_gradient(loss, x, stop_gradients=t)


def test_a_stopped_output_of_a_multi_output_op_passes_no_gradient():
    x = gn.placeholder(gn.float64, [4], name="x")
    a, b = gn.split(x, 2)
    loss = gn.reduce_sum(a * b)
    dx, = gn.gradients(loss, x, stop_gradients=[a])
    xv = np.array([1.0, 2.0, 3.0, 4.0])
    with gn.Session() as sess:
        np.testing.assert_allclose(sess.run(dx, {x: xv}), [0.0, 0.0, 1.0, 2.0])
    assert "has a gradient" in gn.explain_gradient(loss, x, stop_gradients=[a])
    assert gn.gradients(loss, x, stop_gradients=[a, b]) == [None]
    assert "Split" in gn.explain_gradient(loss, x, stop_gradients=[a, b])


def _branchy_graph():
    """Float paths, an integer detour, a stop_gradient, a multi-output op, a dead end."""
    x = gn.placeholder(gn.float32, [4], name="x")
    W = gn.Variable(np.ones(4, np.float32), name="W")
    scale = gn.Variable(2.0, name="scale")
    h = gn.tanh(x * W)
    left, right = gn.split(h, 2)
    rounded = gn.cast(gn.cast(left * scale, gn.int32), gn.float32)
    frozen = gn.stop_gradient(right)
    mixed = gn.exp(right) + frozen * scale
    unused = gn.sin(W)
    loss = gn.reduce_sum(rounded) + gn.reduce_sum(mixed * mixed)
    tensors = [x, W, scale, h, left, right, rounded, frozen, mixed, unused]
    return loss, tensors


@pytest.mark.parametrize("stopped", [None, 3, 4, 5, 8])
def test_gradients_and_the_diagnosis_agree_for_every_tensor(stopped):
    loss, tensors = _branchy_graph()
    stop = None if stopped is None else [tensors[stopped]]
    disagreements = []
    for x in tensors:
        grad, = gn.gradients(loss, x, stop_gradients=stop)
        diagnosis = gradient_diagnosis(loss, x, stop)
        if (grad is None) != (diagnosis is not None):
            disagreements.append((x.name, grad, diagnosis))
    assert not disagreements
