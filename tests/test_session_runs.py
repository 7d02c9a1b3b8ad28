"""Session runs at their edges: a program too big for memory is refused before it starts,
failed runs consume no random draw, cached programs still check initialization, and
one-element fetch structures are mirrored by run and make_callable alike."""
import inspect
import os

import numpy as np
import pytest

import graphnn as gn

THIS_FILE = os.path.basename(__file__)
# x @ x.T for this many rows is a float32 (ROWS, ROWS) matrix: 149 GiB, more than any
# machine running the tests has free. Its feed is only 800 KB.
ROWS = 200_000


def _next_line() -> int:
    return inspect.currentframe().f_back.f_lineno + 1


def huge_product():
    x = gn.placeholder(gn.float32, [None, 1], name="x")
    line = _next_line()
    product = gn.matmul(x, x, transpose_b=True, name="outer")
    return x, product, line


# ----- memory ---------------------------------------------------------------------------
def test_a_program_bigger_than_memory_is_refused_naming_the_op(sess):
    x, product, line = huge_product()
    v = gn.Variable(np.arange(3, dtype=np.float32), name="v")
    sess.run(v.initializer)
    with pytest.raises(gn.errors.ResourceExhaustedError) as info:
        sess.run([product, v.assign_add(np.ones(3, np.float32))],
                 {x: np.ones((ROWS, 1), np.float32)})
    message = str(info.value)
    assert isinstance(info.value, gn.errors.GraphError)
    assert "'outer:0'" in message and f"({ROWS}, {ROWS})" in message and "149.0 GiB" in message
    assert f"{THIS_FILE}:{line}" in message
    assert info.value.op.name == "outer"
    # Nothing ran: the variable keeps its value, and the session goes on working.
    np.testing.assert_array_equal(sess.run(v), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(sess.run(product, {x: np.ones((2, 1), np.float32)}),
                                  np.ones((2, 2), np.float32))


def test_a_refused_program_is_refused_again(sess):
    x, product, _ = huge_product()
    callable_ = sess.make_callable(product, [x])
    for _ in range(2):
        with pytest.raises(gn.errors.ResourceExhaustedError):
            callable_(np.ones((ROWS, 1), np.float32))


# ----- randomness after a failure ------------------------------------------------------
def test_a_failed_run_consumes_no_random_draw(fresh_default_graph):
    gn.set_random_seed(11)
    r = gn.random_uniform([4], name="r")
    x, product, _ = huge_product()
    with gn.Session() as failing, gn.Session() as clean:
        first = failing.run(r)
        with pytest.raises(gn.errors.ResourceExhaustedError):
            failing.run([r, product], {x: np.ones((ROWS, 1), np.float32)})
        with pytest.raises(gn.errors.ResourceExhaustedError):
            failing.run_loop([r, product], {x: np.ones((2, ROWS, 1), np.float32)})
        np.testing.assert_array_equal(first, clean.run(r))
        np.testing.assert_array_equal(failing.run(r), clean.run(r))


def test_a_run_failing_its_index_check_consumes_no_random_draw(fresh_default_graph):
    gn.set_random_seed(12)
    r = gn.random_uniform([4], name="r")
    x = gn.placeholder(gn.float32, [None], name="x")
    rows = gn.gather(gn.constant(np.arange(3.0, dtype=np.float32)), gn.cast(x, gn.int32))
    with gn.Session() as failing, gn.Session() as clean:
        with pytest.raises(gn.errors.InvalidArgumentError, match="is not in"):
            failing.run([r, rows], {x: [1.0, 5.0]})  # the index is computed: checked in XLA
        np.testing.assert_array_equal(failing.run(r), clean.run(r))
        np.testing.assert_array_equal(failing.run([r, rows], {x: [1.0]})[0], clean.run(r))


# ----- cached programs and initialization --------------------------------------------
def test_the_same_fetch_twice_while_uninitialized_raises_twice(sess):
    w = gn.Variable(np.ones(2, np.float32), name="W")
    doubled = w * 2.0
    for _ in range(2):  # the second run finds its program in the cache
        with pytest.raises(gn.errors.FailedPreconditionError, match="uninitialized value W"):
            sess.run(doubled)
    sess.run(w.initializer)
    np.testing.assert_array_equal(sess.run(doubled), [2.0, 2.0])


def test_a_callable_while_uninitialized_raises_each_call(sess):
    w = gn.Variable(np.ones(2, np.float32), name="W")
    read = sess.make_callable(w + 1.0)
    for _ in range(2):
        with pytest.raises(gn.errors.FailedPreconditionError):
            read()
    sess.run(w.initializer)
    np.testing.assert_array_equal(read(), [2.0, 2.0])


# ----- one-element structures ------------------------------------------------------------
def test_one_element_list_and_one_key_dict_fetches_are_mirrored(sess):
    a = gn.constant([1.0, 2.0])
    for result in (sess.run([a]), sess.make_callable([a])()):
        assert type(result) is list and len(result) == 1
        np.testing.assert_array_equal(result[0], [1.0, 2.0])
    for result in (sess.run({"a": a}), sess.make_callable({"a": a})()):
        assert type(result) is dict and list(result) == ["a"]
        np.testing.assert_array_equal(result["a"], [1.0, 2.0])
    for result in (sess.run((a,)), sess.make_callable((a,))()):
        assert type(result) is tuple and len(result) == 1
    for result in (sess.run(a), sess.make_callable(a)()):
        assert isinstance(result, np.ndarray)


# ----- repeated runs: what was checked once is still checked -------------------------------
def test_a_repeated_run_still_refuses_bad_feeds(sess):
    x = gn.placeholder(gn.int32, [None, 2], name="x")
    doubled = x * 2
    good = np.array([[1, 2]], np.int32)
    for _ in range(3):  # the same fetch and feed keys: the run's fast path
        np.testing.assert_array_equal(sess.run(doubled, {x: good}), [[2, 4]])
    with pytest.raises(gn.errors.InvalidArgumentError, match="1.5 is not an integer"):
        sess.run(doubled, {x: [[1.5, 2.0]]})
    with pytest.raises(gn.errors.InvalidArgumentError, match="1099511627776 is outside"):
        sess.run(doubled, {x: np.array([[2 ** 40, 1]], np.int64)})
    with pytest.raises(gn.errors.InvalidArgumentError, match=r"shape \(1, 3\)"):
        sess.run(doubled, {x: np.array([[1, 2, 3]], np.int32)})
    with pytest.raises(gn.errors.InvalidArgumentError, match="twice"):
        sess.run(doubled, {x: good, "x:0": good})
    np.testing.assert_array_equal(sess.run(doubled, {x: [[3, 4]]}), [[6, 8]])


def test_a_shape_narrowed_after_a_run_is_enforced(sess):
    x = gn.placeholder(gn.float32, [None], name="x")
    y = x + 1.0
    np.testing.assert_array_equal(sess.run(y, {x: np.zeros(3, np.float32)}), [1.0] * 3)
    x.set_shape([2])
    with pytest.raises(gn.errors.InvalidArgumentError, match=r"shape \(3,\)"):
        sess.run(y, {x: np.zeros(3, np.float32)})
    np.testing.assert_array_equal(sess.run(y, {x: np.zeros(2, np.float32)}), [1.0] * 2)


def test_a_repeated_training_step_checks_each_batch_of_labels(sess):
    x = gn.placeholder(gn.float32, [None, 2], name="x")
    labels = gn.placeholder(gn.int32, [None], name="labels")
    w = gn.Variable(np.ones((2, 3), np.float32))
    line = _next_line()
    loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=gn.matmul(x, w)))
    train = gn.train.GradientDescentOptimizer(0.1).minimize(loss)
    sess.run(gn.global_variables_initializer())
    xs = np.ones((2, 2), np.float32)
    for _ in range(3):
        sess.run(train, {x: xs, labels: np.array([0, 2], np.int32)})
    before = sess.run(w)
    for bad, fetches in ((-1, train), (3, [loss, train])):
        # With the loss fetched, the loss and its gradient check the same labels once.
        with pytest.raises(gn.errors.InvalidArgumentError,
                           match=rf"SparseSoftmaxCrossEntropyWithLogits.* created at "
                                 rf".*{THIS_FILE}:{line}: Received a label value of {bad} "):
            sess.run(fetches, {x: xs, labels: np.array([0, bad], np.int32)})
        np.testing.assert_array_equal(sess.run(w), before)
