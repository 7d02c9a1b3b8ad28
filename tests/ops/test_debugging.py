"""gn.debugging.check_numerics, Session(check_numerics=True) and gn.print."""
import inspect

import jax
import numpy as np
import pytest

import graphnn as gn


def _diverging_regression():
    """Gradient descent with a learning rate far too large: the weights blow up to Inf,
    then NaN, within a few dozen steps."""
    x = gn.placeholder(gn.float32, [None, 2], name="x")
    y = gn.placeholder(gn.float32, [None], name="y")
    w = gn.Variable(np.ones(2, np.float32), name="w")
    prediction = gn.reduce_sum(x * w, axis=1)
    loss = gn.reduce_mean(gn.square(prediction - y), name="loss")
    train = gn.train.GradientDescentOptimizer(50.0).minimize(loss)
    feeds = {x: np.array([[3.0, 4.0], [5.0, -1.0]], np.float32), y: np.array([1.0, 2.0], np.float32)}
    return w, loss, train, feeds


def test_check_numerics_passes_finite_values_through():
    x = gn.placeholder(gn.float32, [3])
    checked = gn.debugging.check_numerics(gn.log(x), "log of x")
    with gn.Session() as sess:
        np.testing.assert_allclose(sess.run(checked, {x: [1.0, 2.0, 3.0]}), np.log([1, 2, 3]),
                                   rtol=1e-6)


def test_check_numerics_fails_the_run_with_message_site_and_kind():
    x = gn.placeholder(gn.float32, [3])
    checked = gn.debugging.check_numerics(gn.log(x), "log of x"); line = _line()
    with gn.Session() as sess:
        with pytest.raises(gn.errors.InvalidArgumentError) as nan:
            sess.run(checked, {x: [1.0, -2.0, 3.0]})
        with pytest.raises(gn.errors.InvalidArgumentError) as inf:
            sess.run(checked, {x: [1.0, 2.0, 0.0]})
    assert "log of x : Tensor had NaN values (the first at index [1])" in str(nan.value)
    assert f"test_debugging.py:{line}" in str(nan.value)
    assert "CheckNumerics" in str(nan.value)
    assert "Tensor had Inf values (the first at index [2])" in str(inf.value)


def test_check_numerics_on_a_fed_value_and_with_index_checks_off():
    x = gn.placeholder(gn.float32, [2])
    checked = gn.debugging.check_numerics(x, "input")
    with gn.Session(check_indices=False) as sess:
        with pytest.raises(gn.errors.InvalidArgumentError, match="input : Tensor had Inf"):
            sess.run(checked, {x: [np.inf, 1.0]})


def test_check_numerics_on_a_diverging_training_leaves_the_weights_as_they_were():
    w, loss, train, feeds = _diverging_regression()
    checked_train = gn.group(train, gn.debugging.check_numerics(loss, "loss diverged"))
    with gn.Session() as sess:
        sess.run(w.initializer)
        before = None
        with pytest.raises(gn.errors.InvalidArgumentError, match="loss diverged") as error:
            for _ in range(200):
                before = sess.run(w)
                sess.run(checked_train, feeds)
        assert "The run changed no variable" in str(error.value)
        np.testing.assert_array_equal(sess.run(w), before)
        assert np.all(np.isfinite(before))


def test_check_numerics_needs_a_float_tensor_and_a_string():
    with pytest.raises(TypeError, match="float"):
        gn.debugging.check_numerics(gn.constant([1, 2]), "ints")
    with pytest.raises(TypeError, match="message must be a string"):
        gn.debugging.check_numerics(gn.constant([1.0]), 3)


def test_session_check_numerics_names_the_first_op_that_made_a_nan():
    w, loss, train, feeds = _diverging_regression()
    with gn.Session(check_numerics=True) as sess:
        sess.run(w.initializer)
        before = None
        with pytest.raises(gn.errors.InvalidArgumentError) as error:
            for _ in range(200):
                before = sess.run(w)
                sess.run(train, feeds)
        np.testing.assert_array_equal(sess.run(w), before)
    message = str(error.value)
    assert "check_numerics=True" in message and "The run changed no variable" in message
    assert "test_debugging.py" in message  # where the producing op was created


def test_session_check_numerics_reports_the_producer_not_its_consumers():
    x = gn.placeholder(gn.float32, [2], name="x")
    root = gn.sqrt(x, name="root"); line = _line()
    out = gn.exp(root * 2.0, name="out")
    with gn.Session(check_numerics=True) as sess:
        np.testing.assert_allclose(sess.run(out, {x: [1.0, 4.0]}), np.exp([2.0, 4.0]), rtol=1e-6)
        with pytest.raises(gn.errors.InvalidArgumentError) as error:
            sess.run(out, {x: [1.0, -4.0]})
        with pytest.raises(gn.errors.InvalidArgumentError, match="Placeholder 'x'"):
            sess.run(out, {x: [np.nan, 4.0]})
        report = sess.compile_report(out, {x: [1.0, 4.0]})
    assert str(error.value).startswith(f"Sqrt 'root' created at ")
    assert f"test_debugging.py:{line}" in str(error.value)
    assert "Tensor had NaN values (the first at index [1])" in str(error.value)
    assert report.passes[-1].name == "check_numerics"
    assert report.passes[-1].rewrites["NaN/Inf check added"] == 4  # x, root, mul, out


def test_session_without_check_numerics_returns_the_nan():
    x = gn.placeholder(gn.float32, [1])
    with gn.Session() as sess:
        assert np.isnan(sess.run(gn.sqrt(x), {x: [-1.0]})[0])


def test_print_prints_during_the_run_and_passes_its_input(capsys):
    x = gn.placeholder(gn.float32, [3])
    shown = gn.print(x, gn.reduce_sum(x), message="sum {of x}:")
    with gn.Session() as sess:
        result = sess.run(shown * 2.0, {x: [1.0, 2.0, 3.0]})
        jax.effects_barrier()
    np.testing.assert_array_equal(result, [2.0, 4.0, 6.0])
    assert "sum {of x}: 6.0" in capsys.readouterr().out


def test_print_without_data_prints_its_input_and_gradients_pass(capsys):
    x = gn.placeholder(gn.float32, [2])
    y = gn.reduce_sum(gn.square(gn.print(x)))
    grad, = gn.gradients(y, x)
    with gn.Session() as sess:
        np.testing.assert_allclose(sess.run(grad, {x: [1.0, -3.0]}), [2.0, -6.0])
        jax.effects_barrier()
    assert "[ 1. -3.]" in capsys.readouterr().out


def _line():
    return inspect.currentframe().f_back.f_lineno
