"""TF 1's control flow and tf.Print signatures in graphnn.compat.v1."""
import numpy as np
import pytest

import graphnn as gn
import graphnn.compat.v1 as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with gn.Graph().as_default():
        yield


def test_cond_takes_tf1_arguments_and_unpacks_singletons_unless_strict():
    x = tf.placeholder(tf.float32, [])
    doubled = tf.cond(x > 0, lambda: [x * 2.0], lambda: [x - 1.0])
    strict = tf.cond(x > 0, fn1=lambda: [x * 2.0], fn2=lambda: [x - 1.0], strict=True)
    grad, = tf.gradients(doubled, [x])
    with tf.Session() as sess:
        assert sess.run(doubled, {x: 3.0}) == 6.0
        assert sess.run(doubled, {x: -3.0}) == -4.0
        assert isinstance(strict, list) and sess.run(strict[0], {x: 3.0}) == 6.0
        assert sess.run(grad, {x: 3.0}) == 2.0
    with pytest.raises(TypeError, match="true_fn and false_fn"):
        tf.cond(x > 0, lambda: x)


def test_while_loop_with_tf1_arguments():
    x = tf.placeholder(tf.float32, [])
    i, total = tf.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + x), [0, 0.0 * x],
                             parallel_iterations=32, maximum_iterations=10)
    grad, = tf.gradients(total, [x])
    frozen = tf.while_loop(lambda s: s < 100.0, lambda s: s * x, [x + 0.0], back_prop=False,
                           maximum_iterations=20, return_same_structure=True)
    assert isinstance(frozen, list) and len(frozen) == 1
    with tf.Session() as sess:
        assert sess.run([i, total], {x: 2.0}) == [5, 10.0]
        assert sess.run(grad, {x: 2.0}) == 5.0
        assert sess.run(frozen[0], {x: 3.0}) == 243.0
    assert tf.gradients(frozen[0], [x]) == [None]
    with pytest.raises(NotImplementedError, match="shape_invariants"):
        tf.while_loop(lambda s: s < 1.0, lambda s: s + 1.0, [x],
                      shape_invariants=[tf.TensorShape([None])])


def test_scan_and_map_fn_with_tf1_arguments():
    xs = tf.placeholder(tf.float32, [4])
    sums = tf.scan(lambda acc, v: acc + v, xs, initializer=tf.constant(0.0), reverse=True,
                   parallel_iterations=1, infer_shape=True)
    squares = tf.map_fn(lambda v: v * v, xs, dtype=tf.float32, back_prop=False)
    grad, = tf.gradients(tf.reduce_sum(sums), [xs])
    values = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(sums, {xs: values}), [10.0, 9.0, 7.0, 4.0])
        np.testing.assert_allclose(sess.run(squares, {xs: values}), values ** 2)
        np.testing.assert_allclose(sess.run(grad, {xs: values}), [1.0, 2.0, 3.0, 4.0])
    assert tf.gradients(tf.reduce_sum(squares), [xs]) == [None]


def test_print_returns_its_input_and_prints_during_a_run(capfd):
    x = tf.placeholder(tf.float32, [2])
    y = tf.Print(x, [x], message="x is ", summarize=10) * 2.0
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {x: [1.0, 2.0]}), [2.0, 4.0])
    assert "x is " in capfd.readouterr().out
    with pytest.raises(NotImplementedError, match="first_n"):
        tf.Print(x, [x], first_n=3)
