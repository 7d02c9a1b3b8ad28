"""Gradients through tensors whose rank or dimensions are unknown when the graph is built:
one graph runs with feeds of any shape, and the shape computations its gradient needs are
folded away once a run's shapes are known."""
import collections

import numpy as np
import pytest

import graphnn as gn

# The data of TensorFlow 1's classic linear-regression tutorial.
TRAIN_X = np.asarray([3.3, 4.4, 5.5, 6.71, 6.93, 4.168, 9.779, 6.182, 7.59, 2.167, 7.042,
                      10.791, 5.313, 7.997, 5.654, 9.27, 3.1])
TRAIN_Y = np.asarray([1.7, 2.76, 2.09, 3.19, 1.694, 1.573, 3.366, 2.596, 2.53, 1.221, 2.827,
                      3.465, 1.65, 2.904, 2.42, 2.94, 1.3])


def _linear_regression(x_shape=None):
    """The tutorial's graph, line for line (placeholders without a shape)."""
    rng = np.random.RandomState(0)
    n_samples = TRAIN_X.shape[0]
    X = gn.placeholder("float", shape=x_shape)
    Y = gn.placeholder("float", shape=x_shape)
    W = gn.Variable(rng.randn(), name="weight")
    b = gn.Variable(rng.randn(), name="bias")
    pred = X * W + b
    cost = gn.reduce_sum(gn.pow(pred - Y, 2)) / (2 * n_samples)
    optimizer = gn.train.GradientDescentOptimizer(0.01).minimize(cost)
    return X, Y, cost, optimizer


def test_tf1_linear_regression_trains_feeding_one_pair_at_a_time():
    X, Y, cost, optimizer = _linear_regression()
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        start = sess.run(cost, feed_dict={X: TRAIN_X, Y: TRAIN_Y})
        for _ in range(10):
            for x, y in zip(TRAIN_X, TRAIN_Y):
                sess.run(optimizer, feed_dict={X: x, Y: y})
        end = sess.run(cost, feed_dict={X: TRAIN_X, Y: TRAIN_Y})
    assert end < 0.2 * start, (start, end)


def test_tf1_linear_regression_trains_feeding_whole_vectors():
    X, Y, cost, optimizer = _linear_regression()
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        start = sess.run(cost, feed_dict={X: TRAIN_X, Y: TRAIN_Y})
        for _ in range(50):
            sess.run(optimizer, feed_dict={X: TRAIN_X, Y: TRAIN_Y})
        end = sess.run(cost, feed_dict={X: TRAIN_X, Y: TRAIN_Y})
    assert end < 0.2 * start, (start, end)


def _work(report):
    """The op types of a run program with their counts, constants left out."""
    types = collections.Counter(op.type for op in report.optimized_graph.get_operations())
    return {t: n for t, n in types.items() if t != "Const"}


def test_an_unknown_shape_costs_the_run_nothing_extra():
    feeds = lambda X, Y: {X: TRAIN_X, Y: TRAIN_Y}  # noqa: E731
    programs = []
    for x_shape in (None, [TRAIN_X.shape[0]]):
        with gn.Graph().as_default():
            X, Y, _, optimizer = _linear_regression(x_shape)
            with gn.Session() as sess:
                sess.run(gn.global_variables_initializer())
                programs.append(_work(sess.compile_report(optimizer, feeds(X, Y))))
    unknown, known = programs
    assert not {"Shape", "Size", "ReducedShape"} & set(unknown)
    assert unknown == known


def _sum_to(array, shape):
    while array.ndim > len(shape):
        array = array.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and array.shape[axis] != 1:
            array = array.sum(axis=axis, keepdims=True)
    return array


@pytest.mark.parametrize("value", [np.float64(3.0), np.array([1.0, 2.0]),
                                   np.array([[1.0, 2.0], [3.0, -4.0]]), np.array([[0.5]])],
                         ids=["scalar", "vector", "matrix", "1x1"])
def test_one_gradient_graph_serves_feeds_of_any_rank(value):
    x = gn.placeholder(gn.float64)
    w_value = np.array([1.5, -2.0])
    w = gn.Variable(w_value)
    loss = gn.reduce_mean(gn.square(x * w)) + gn.reduce_logsumexp(x)
    dx, dw = gn.gradients(loss, [x, w])
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        got_dx, got_dw = sess.run([dx, dw], {x: value})
    product = value * w_value
    d_product = 2 * product / product.size
    softmax = np.exp(value - value.max()) / np.sum(np.exp(value - value.max()))
    np.testing.assert_allclose(got_dx, _sum_to(d_product * w_value, np.shape(value)) + softmax,
                               rtol=1e-12)
    np.testing.assert_allclose(got_dw, _sum_to(d_product * value, (2,)), rtol=1e-12)


@pytest.mark.parametrize("reduce", [gn.reduce_sum, gn.reduce_mean, gn.reduce_max,
                                    gn.reduce_prod, gn.reduce_logsumexp])
def test_reduction_over_axes_of_both_signs_of_a_tensor_of_unknown_rank(reduce):
    """Axes 0 and -1 of a rank only a run knows: the kept shape is computed by the run."""
    x = gn.placeholder(gn.float64)
    weights = gn.placeholder(gn.float64)
    dx, = gn.gradients(gn.reduce_sum(reduce(x, axis=[0, -1]) * weights), x)
    value = np.random.default_rng(0).uniform(0.5, 2.0, size=(2, 3, 4))
    weight_value = np.array([1.0, -2.0, 0.5])
    with gn.Graph().as_default():
        known = gn.constant(value)
        expected = gn.gradients(gn.reduce_sum(reduce(known, axis=[0, 2]) * weight_value), known)
        with gn.Session() as sess:
            expected = sess.run(expected[0])
    with gn.Session() as sess:
        got = sess.run(dx, {x: value, weights: weight_value})
        program = sess.compile_report(dx, {x: value, weights: weight_value}).optimized_graph
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert not {"Shape", "ReducedShape"} & {op.type for op in program.get_operations()}
