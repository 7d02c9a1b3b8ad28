"""Errors of DESIGN.md section 3: exact classes, clear messages naming the op, what was
expected, what was given and where the user created the op; failing runs change nothing."""
import inspect
import os

import numpy as np
import pytest

import graphnn as gn

THIS_FILE = os.path.basename(__file__)




def _next_line() -> int:
    """The line number of the statement after the caller's current line."""
    return inspect.currentframe().f_back.f_lineno + 1


def _assert_location(message: str, line: int) -> None:
    assert f"{THIS_FILE}:{line}" in message, f"expected '{THIS_FILE}:{line}' in: {message}"


def test_error_classes_hierarchy():
    for cls in (gn.errors.InvalidArgumentError, gn.errors.FailedPreconditionError,
                gn.errors.NotFoundError):
        assert issubclass(cls, gn.errors.GraphError)
        assert issubclass(cls, Exception)


# ----- one test per error -------------------------------------------------------------
def test_missing_feed(sess):
    line = _next_line()
    x = gn.placeholder(gn.float32, shape=[None, 784], name="x")
    y = gn.reduce_sum(x * 2.0)
    with pytest.raises(gn.errors.InvalidArgumentError) as info:
        sess.run(y)
    message = str(info.value)
    assert ("You must feed a value for placeholder tensor 'x' with dtype float32 and "
            "shape (?, 784)") in message
    _assert_location(message, line)
    assert info.value.op is x.op


def test_missing_feed_of_an_unknown_shape_int_placeholder(sess):
    line = _next_line()
    labels = gn.placeholder(gn.int32, name="labels")
    with pytest.raises(gn.errors.InvalidArgumentError) as info:
        sess.run(labels + 1)
    message = str(info.value)
    assert "You must feed a value for placeholder tensor 'labels' with dtype int32" in message
    _assert_location(message, line)


def test_wrong_feed_shape(sess):
    line = _next_line()
    x = gn.placeholder(gn.float32, shape=[None, 3], name="x")
    y = x * 2.0
    with pytest.raises(gn.errors.InvalidArgumentError) as info:
        sess.run(y, feed_dict={x: np.zeros(2)})
    message = str(info.value)
    assert "Cannot feed value of shape (2,) for Tensor 'x:0', which has shape (?, 3)" in message
    _assert_location(message, line)


def test_wrong_feed_shape_of_an_intermediate_tensor(sess):
    x = gn.placeholder(gn.float32, shape=[None, 3], name="x")
    line = _next_line()
    hidden = gn.matmul(x, gn.ones([3, 4]), name="hidden")
    y = hidden + 1.0
    with pytest.raises(gn.errors.InvalidArgumentError) as info:
        sess.run(y, feed_dict={hidden: np.zeros([2, 5])})
    message = str(info.value)
    assert "Cannot feed value of shape (2, 5) for Tensor 'hidden:0', which has shape (?, 4)" \
        in message
    _assert_location(message, line)


def test_wrong_feed_shape_in_make_callable(sess):
    line = _next_line()
    x = gn.placeholder(gn.float32, shape=[None, 3], name="x")
    step = sess.make_callable(x * 2.0, [x])
    with pytest.raises(gn.errors.InvalidArgumentError) as info:
        step(np.zeros([4]))
    message = str(info.value)
    assert "Cannot feed value of shape (4,) for Tensor 'x:0', which has shape (?, 3)" in message
    _assert_location(message, line)


def test_uncastable_feed_dtype(sess):
    line = _next_line()
    x = gn.placeholder(gn.float32, shape=[], name="x")
    with pytest.raises(gn.errors.InvalidArgumentError) as info:
        sess.run(x + 1.0, feed_dict={x: "abc"})
    message = str(info.value)
    assert "'x:0'" in message or "'x'" in message
    assert "float32" in message
    assert "abc" in message
    _assert_location(message, line)


def test_uncastable_nested_list_feed(sess):
    line = _next_line()
    x = gn.placeholder(gn.float32, shape=[None], name="x")
    with pytest.raises(gn.errors.InvalidArgumentError) as info:
        sess.run(x + 1.0, feed_dict={x: [1.0, "two"]})
    message = str(info.value)
    assert "x:0" in message and "float32" in message
    _assert_location(message, line)


def test_out_of_range_int_feed(sess):
    line = _next_line()
    n = gn.placeholder(gn.int32, shape=[], name="n")
    with pytest.raises(gn.errors.InvalidArgumentError) as info:
        sess.run(n + 1, feed_dict={n: 2 ** 40})
    message = str(info.value)
    assert "n:0" in message and "int32" in message
    _assert_location(message, line)


def test_uninitialized_variable(sess):
    line = _next_line()
    W = gn.Variable(gn.zeros([2, 2]), name="W")
    y = gn.reduce_sum(W * 2.0)
    with pytest.raises(gn.errors.FailedPreconditionError) as info:
        sess.run(y)
    message = str(info.value)
    assert "Attempting to use uninitialized value W" in message
    _assert_location(message, line)


def test_uninitialized_variable_read_by_assign_add(sess):
    line = _next_line()
    W = gn.Variable(1.0, name="W")
    with pytest.raises(gn.errors.FailedPreconditionError) as info:
        sess.run(W.assign_add(1.0))
    message = str(info.value)
    assert "Attempting to use uninitialized value W" in message
    _assert_location(message, line)


def test_plain_assign_initializes_an_uninitialized_variable(sess):
    W = gn.Variable(1.0, name="W")
    assert float(sess.run(W.assign(4.0))) == 4.0
    assert float(sess.run(W)) == 4.0


def test_fetching_a_tensor_of_another_graph(sess):
    other = gn.Graph()
    with other.as_default():
        line = _next_line()
        foreign = gn.constant(1.0, name="foreign")
    with pytest.raises(ValueError) as info:
        sess.run(foreign)
    message = str(info.value)
    assert "foreign" in message
    assert "graph" in message
    _assert_location(message, line)


def test_feeding_a_tensor_of_another_graph(sess):
    other = gn.Graph()
    with other.as_default():
        foreign = gn.placeholder(gn.float32, [], name="foreign")
    y = gn.constant(1.0) + 1.0
    with pytest.raises(ValueError, match="foreign"):
        sess.run(y, feed_dict={foreign: 1.0})


def test_unknown_tensor_name(sess):
    gn.constant(1.0, name="known")
    with pytest.raises(gn.errors.NotFoundError, match="nope:0|'nope'"):
        sess.run("nope:0")


def test_unknown_operation_name(sess):
    with pytest.raises(gn.errors.NotFoundError, match="'nope'"):
        sess.run("nope")


def test_unknown_output_index(sess):
    gn.constant(1.0, name="known")
    with pytest.raises(gn.errors.NotFoundError, match="known:3"):
        sess.run("known:3")


def test_unknown_feed_name(sess):
    y = gn.constant(1.0) + 1.0
    with pytest.raises(gn.errors.NotFoundError, match="nope"):
        sess.run(y, feed_dict={"nope:0": 1.0})


def test_build_time_shape_mismatch():
    a = gn.placeholder(gn.float32, [2, 3], name="a")
    b = gn.placeholder(gn.float32, [4, 5], name="b")
    with gn.name_scope("dense"):
        with pytest.raises(ValueError) as info:
            line = _next_line()
            gn.matmul(a, b)
    message = str(info.value)
    assert "'dense/MatMul'" in message
    assert "(2, 3)" in message and "(4, 5)" in message
    _assert_location(message, line)
    assert not any(op.name.startswith("dense/MatMul") for op in
                   gn.get_default_graph().get_operations())


def test_build_time_broadcast_mismatch():
    a = gn.constant(np.zeros([2, 3], np.float32), name="a")
    b = gn.constant(np.zeros([4], np.float32), name="b")
    with pytest.raises(ValueError) as info:
        line = _next_line()
        gn.add(a, b, name="sum")
    message = str(info.value)
    assert "'sum'" in message
    assert "(2, 3)" in message and "(4,)" in message
    _assert_location(message, line)


def test_build_time_assign_shape_mismatch():
    v = gn.Variable(gn.zeros([3]), name="v")
    with pytest.raises(ValueError) as info:
        line = _next_line()
        v.assign(gn.zeros([2]))
    message = str(info.value)
    assert "'v'" in message and "(3,)" in message and "(2,)" in message
    _assert_location(message, line)


def test_load_with_wrong_shape(sess):
    v = gn.Variable(gn.zeros([3]), name="v")
    sess.run(v.initializer)
    with pytest.raises(gn.errors.InvalidArgumentError, match="v"):
        v.load(np.ones([2]), sess)
    np.testing.assert_array_equal(sess.run(v), np.zeros(3))


# ----- failing runs change nothing --------------------------------------------------------
class _State:
    """A graph with a variable, an assign and a seeded random op, run in one session."""

    def __init__(self, graph):
        graph.seed = 2024
        self.v = gn.Variable(1.0, name="v")
        self.increment = self.v.assign_add(1.0)
        self.noise = gn.random_normal([4], name="noise")
        self.x = gn.placeholder(gn.float32, [None, 3], name="x")
        self.u = gn.Variable(0.0, name="u")  # never initialized
        self.other = gn.Graph()
        with self.other.as_default():
            self.foreign = gn.constant(1.0, name="foreign")
        self.sess = gn.Session(graph=graph)
        self.sess.run(self.v.initializer)
        with gn.Session(graph=graph) as reference:
            self.first_noise = reference.run(self.noise)
            self.second_noise = reference.run(self.noise)

    def check_unchanged(self):
        """The variable kept its value, no draw was used up, and good runs work."""
        np.testing.assert_array_equal(self.sess.run(self.v), 1.0)
        np.testing.assert_array_equal(self.sess.run(self.noise), self.first_noise)
        assert float(self.sess.run(self.increment)) == 2.0
        np.testing.assert_array_equal(self.sess.run(self.noise), self.second_noise)
        result = self.sess.run(self.x * 2.0, feed_dict={self.x: np.ones([2, 3])})
        np.testing.assert_array_equal(result, np.full([2, 3], 2.0))


_FAILING_RUNS = {
    "missing feed": (gn.errors.InvalidArgumentError,
                     lambda s: s.sess.run([s.increment, s.noise, s.x * 2.0])),
    "wrong feed shape": (gn.errors.InvalidArgumentError,
                         lambda s: s.sess.run([s.increment, s.noise, s.x * 2.0],
                                              feed_dict={s.x: np.zeros(2)})),
    "uncastable feed": (gn.errors.InvalidArgumentError,
                        lambda s: s.sess.run([s.increment, s.noise, s.x * 2.0],
                                             feed_dict={s.x: [["a", "b", "c"]]})),
    "uninitialized variable": (gn.errors.FailedPreconditionError,
                               lambda s: s.sess.run([s.increment, s.noise, s.u + 1.0])),
    "uninitialized variable in group": (
        gn.errors.FailedPreconditionError,
        lambda s: s.sess.run(gn.group(s.increment, s.u.assign_add(1.0), s.noise))),
    "unknown name": (gn.errors.NotFoundError,
                     lambda s: s.sess.run([s.increment, s.noise, "nope:0"])),
    "tensor of another graph": (ValueError,
                                lambda s: s.sess.run([s.increment, s.noise, s.foreign])),
    "wrong load shape": (gn.errors.InvalidArgumentError,
                         lambda s: s.v.load(np.ones([5]), s.sess)),
}


@pytest.mark.parametrize("case", sorted(_FAILING_RUNS))
def test_failing_run_leaves_session_unchanged(fresh_default_graph, case):
    error, failing_run = _FAILING_RUNS[case]
    state = _State(fresh_default_graph)
    with pytest.raises(error):
        failing_run(state)
    with pytest.raises(error):
        failing_run(state)  # a second failure, after a cached plan, changes nothing either
    state.check_unchanged()
    state.sess.close()


def test_failing_run_after_compiling_leaves_state_unchanged(fresh_default_graph):
    """The same fetches first succeed, then fail on a bad feed: nothing is applied."""
    state = _State(fresh_default_graph)
    fetches = [state.increment, state.noise, state.x * 2.0]
    _, first, _ = state.sess.run(fetches, feed_dict={state.x: np.ones([1, 3])})
    np.testing.assert_array_equal(first, state.first_noise)
    with pytest.raises(gn.errors.InvalidArgumentError):
        state.sess.run(fetches, feed_dict={state.x: np.ones([1, 4])})
    with pytest.raises(gn.errors.InvalidArgumentError):
        state.sess.run(fetches)
    np.testing.assert_array_equal(state.sess.run(state.v), 2.0)
    np.testing.assert_array_equal(state.sess.run(state.noise), state.second_noise)
    state.sess.close()


def test_failing_run_does_not_apply_partial_assigns(sess):
    a = gn.Variable(1.0, name="a")
    b = gn.Variable(10.0, name="b")
    x = gn.placeholder(gn.float32, [], name="x")
    update = gn.group(a.assign(5.0), b.assign(x))
    sess.run(gn.global_variables_initializer())
    with pytest.raises(gn.errors.InvalidArgumentError):
        sess.run(update)
    with pytest.raises(gn.errors.InvalidArgumentError):
        sess.run(update, feed_dict={x: "ten"})
    np.testing.assert_array_equal(sess.run([a, b]), [1.0, 10.0])
    sess.run(update, feed_dict={x: 3.0})
    np.testing.assert_array_equal(sess.run([a, b]), [5.0, 3.0])


def test_compile_time_failure_leaves_variables_intact(sess):
    """A shape that depends on fed contents fails while compiling; the state survives it."""
    v = gn.Variable([1.0, 2.0], name="v")
    dims = gn.placeholder(gn.int32, [2], name="dims")
    increment = v.assign_add([1.0, 1.0])
    noise = gn.random_normal(dims, seed=1)
    sess.run(v.initializer)
    with pytest.raises(gn.errors.InvalidArgumentError, match="RandomStandardNormal"):
        sess.run([increment, noise], feed_dict={dims: [2, 3]})
    np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
    np.testing.assert_array_equal(sess.run(increment), [2.0, 3.0])
