"""Session arguments that can only be a mistake are refused before anything runs."""
import jax
import numpy as np
import pytest

import graphnn as gn


def test_make_callable_refuses_a_feed_named_twice(sess):
    x = gn.placeholder(gn.float32, [None], name="x")
    y = x * 2.0
    with pytest.raises(ValueError, match="names a tensor twice"):
        sess.make_callable(y, [x, x])
    with pytest.raises(ValueError, match="names a tensor twice"):
        sess.make_callable(y, [x, "x:0"])


def test_run_loop_refuses_zero_steps_and_changes_nothing(sess):
    x = gn.placeholder(gn.float32, [None], name="x")
    counter = gn.Variable(0.0, name="counter")
    step = counter.assign_add(gn.reduce_sum(x))
    sess.run(counter.initializer)
    with pytest.raises(ValueError, match="at least one step"):
        sess.run_loop(counter.assign_add(1.0), steps=0)
    with pytest.raises(ValueError, match="at least one step"):
        sess.run_loop(step, {x: np.zeros((0, 3), np.float32)})
    assert sess.run(counter) == 0.0


def test_a_device_index_past_the_last_device_is_refused():
    count = len(jax.devices("cpu"))
    with pytest.raises(gn.errors.InvalidArgumentError, match=f"only {count} cpu device"):
        gn.Session(device=f"cpu:{count}")


def test_make_callable_converts_a_later_value_of_another_dtype(sess):
    i = gn.placeholder(gn.int32, [2], name="i")
    step = sess.make_callable(i * 2, [i])
    np.testing.assert_array_equal(step(np.array([1, 2], np.int32)), [2, 4])
    again = step(np.array([3.0, 4.0]))  # float64 of a shape that already has a program
    assert again.dtype == np.int32
    np.testing.assert_array_equal(again, [6, 8])
