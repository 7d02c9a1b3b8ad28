"""Argument forms TensorFlow 1 users rely on, and the errors for ones that cannot work."""
import numpy as np
import pytest

import graphnn as gn


def run(fetch, feed=None):
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        return sess.run(fetch, feed)


def test_numpy_values_on_the_left_of_operators_make_ops():
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    results = run([np.sqrt(4.0) * x, np.float32(0.5) * x, np.ones(3, np.float32) + x,
                   np.ones(3) < x, np.ones((2, 2), np.float32) @ gn.ones([2, 2])], {x: value})
    np.testing.assert_allclose(results[0], 2 * value)
    np.testing.assert_allclose(results[1], 0.5 * value)
    np.testing.assert_allclose(results[2], 1 + value)
    np.testing.assert_array_equal(results[3], 1 < value)
    np.testing.assert_allclose(results[4], np.full((2, 2), 2.0))


def test_dtype_mismatch_names_the_op_type_and_the_callers_line():
    x = gn.placeholder(gn.float32, [3], name="x")
    i = gn.constant([1, 2, 3], name="i")
    with pytest.raises(gn.errors.DTypeError) as error:
        gn.add(x, i)
    line = error.tb.tb_lineno
    message = str(error.value)
    assert "Add" in message and "'x:0'" in message and "'i:0'" in message
    assert f"{__file__}:{line}" in message


@pytest.mark.parametrize("build", [
    lambda: gn.random_normal([None, 2]), lambda: gn.fill([-1, 2], 1.0),
    lambda: gn.zeros([None, 2]), lambda: gn.range(0, 5, 0)])
def test_impossible_shapes_fail_while_building(build):
    with pytest.raises(gn.errors.ShapeError):
        build()


def test_one_hot_depth_from_a_constant_tensor_and_negative_depth():
    np.testing.assert_array_equal(run(gn.one_hot([0, 2], gn.constant(3))), np.eye(3)[[0, 2]])
    with pytest.raises(ValueError, match="depth"):
        gn.one_hot([1], -1)


def test_shape_arguments_from_constant_tensors():
    t = gn.constant([[1.0, 2.0]])
    assert run(gn.tile(t, gn.constant([2, 1]))).shape == (2, 2)
    np.testing.assert_allclose(run(gn.reduce_mean(t, axis=gn.constant(1))), [1.5])
    first, rest = gn.split(gn.ones([2, 6]), [1, -1], axis=1)
    assert first.shape.as_list() == [2, 1] and rest.shape.as_list() == [2, 5]


def test_variable_initialized_from_another_variables_initial_value():
    v = gn.Variable([1.0, 2.0], name="v")
    doubled = gn.Variable(v.initialized_value() * 2.0, name="doubled")
    np.testing.assert_allclose(run(doubled), [2.0, 4.0])


def test_optimizer_ops_are_named_like_tf1():
    w = gn.Variable(np.ones(3, np.float32), name="w")
    loss = gn.reduce_sum(w * w)
    assert gn.train.AdamOptimizer().minimize(loss, name="train").name == "train"
    assert gn.train.GradientDescentOptimizer(0.1).minimize(loss).name == "GradientDescent"
    with pytest.raises(TypeError, match="gn.Variable"):
        gn.train.GradientDescentOptimizer(0.1).apply_gradients([(w, w * 2.0)])


def test_variable_initialized_from_other_variables_in_one_run():
    v = gn.Variable([1.0, 2.0], name="v")
    doubled = gn.Variable(v * 2.0, name="doubled")
    total = gn.Variable(gn.reduce_sum(doubled) + v, name="total")
    np.testing.assert_allclose(run([v, doubled, total]), [[1, 2], [2, 4], [7, 8]])
    assert doubled.initial_value.op.name == "doubled/Mul"
