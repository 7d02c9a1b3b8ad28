"""Out-of-range indices and integer division by zero fail the run (TF 1's words), changing
no variable: checked on the host for fed values, inside the program for computed ones."""
import os
import sys

import numpy as np
import pytest

import graphnn as gn

HERE = os.path.basename(__file__)
ROWS = np.arange(6, dtype=np.float32).reshape(3, 2)


def line_here() -> int:
    return sys._getframe(1).f_lineno


def raises(match: str):
    return pytest.raises(gn.errors.InvalidArgumentError, match=match)


def test_gather_with_a_fed_index_out_of_range_names_the_op_and_the_index():
    i = gn.placeholder(gn.int32, [None])
    rows = gn.gather(gn.constant(ROWS), i, name="emb"); line = line_here()
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(rows, {i: [2, 0]}), ROWS[[2, 0]])
        with raises(r"GatherV2 'emb' created at .*") as error:
            sess.run(rows, {i: [0, 5, 7]})
        assert f"{HERE}:{line}" in str(error.value)
        assert "indices[1] = 5 is not in [0, 3)" in str(error.value)
        assert error.value.op is rows.op
        with raises(r"indices\[0\] = -1 is not in \[0, 3\)"):
            sess.run(rows, {i: [-1]})  # counted from the end nowhere
        np.testing.assert_array_equal(sess.run(rows, {i: [1]}), ROWS[[1]])


def test_gather_reports_positions_as_tensorflow_prints_them():
    i = gn.placeholder(gn.int64, [2, 2])
    scalar = gn.placeholder(gn.int32, [])
    with gn.Session() as sess:
        with raises(r"indices\[1,0\] = 3 is not in \[0, 3\)"):
            sess.run(gn.gather(gn.constant(ROWS), gn.cast(i, gn.int32)), {i: [[0, 1], [3, 0]]})
        with raises(r"indices\[1,1\] = 2 is not in \[0, 2\)"):
            sess.run(gn.gather(gn.constant(ROWS), i, axis=1), {i: [[0, 1], [1, 2]]})
        with raises(r": indices = 4 is not in \[0, 3\)"):
            sess.run(gn.gather(gn.constant(ROWS), scalar), {scalar: 4})


def test_indices_fed_through_integer_ops_are_checked_as_the_program_would_see_them():
    i = gn.placeholder(gn.int64, [4])
    rows = gn.gather(gn.constant(ROWS), gn.reshape(gn.cast(i, gn.int32) - 1, [2, 2]))
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(rows, {i: [1, 2, 3, 1]}),
                                      ROWS[[[0, 1], [2, 0]]])
        with raises(r"indices\[0,1\] = -1 is not in \[0, 3\)"):
            sess.run(rows, {i: [1, 0, 3, 1]})
        with raises(r"indices\[1,0\] = 3 is not in \[0, 3\).* At step 1 of run_loop's 2"):
            sess.run_loop(rows, {i: [[1, 1, 1, 1], [1, 1, 4, 1]]})


def test_gather_with_a_computed_index_is_checked_inside_the_program():
    x = gn.placeholder(gn.float32, [None])
    rows = gn.gather(gn.constant(ROWS), gn.cast(x * 2.0, gn.int32)); line = line_here()
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(rows, {x: [0.0, 1.0]}), ROWS[[0, 2]])
        with raises(rf"GatherV2 'GatherV2' created at .*{HERE}:{line}: "
                    r"indices\[2\] = 4 is not in \[0, 3\)"):
            sess.run(rows, {x: [0.0, 1.0, 2.0]})
        with raises(r"indices\[0\] = -2 is not in \[0, 3\)"):
            sess.run(rows, {x: [-1.0]})
        np.testing.assert_array_equal(sess.run(rows, {x: [0.5]}), ROWS[[1]])


def test_a_gradient_alone_checks_the_gather_it_differentiates():
    x = gn.placeholder(gn.float32, [None])
    params = gn.Variable(ROWS)
    grad = gn.gradients(gn.reduce_sum(gn.gather(params, gn.cast(x, gn.int32))), params)[0]
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(grad, {x: [2.0, 2.0]}), [[0, 0], [0, 0], [2, 2]])
        with raises(r"in the gradient of GatherV2 .*indices\[1\] = 3 is not in \[0, 3\)"):
            sess.run(grad, {x: [2.0, 3.0]})


def test_all_constant_bad_gathers_and_divisions_raise_at_run_time_optimized_or_not():
    gathered = gn.gather(gn.constant(ROWS), [1, 4]); line = line_here()
    divided = gn.constant([7, 8]) // gn.constant([2, 0])
    remainder = gn.constant(7) % gn.constant(0)
    for optimize in (True, False):
        with gn.Session(optimize=optimize) as sess:
            with raises(rf"{HERE}:{line}: indices\[1\] = 4 is not in \[0, 3\)"):
                sess.run(gathered)
            with raises(r"FloorDiv 'FloorDiv' created at .*: Integer division by zero"):
                sess.run(divided)
            with raises(r"FloorMod 'FloorMod' created at .*: Integer division by zero"):
                sess.run(remainder)
            np.testing.assert_array_equal(sess.run(gn.constant([7, 8]) // 2), [3, 4])


def test_integer_division_and_remainder_by_zero_fail_fed_or_computed():
    a = gn.placeholder(gn.int32, [None])
    b = gn.placeholder(gn.int32, [None])
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(a // b, {a: [7, -7], b: [2, 2]}), [3, -4])
        with raises(r"FloorDiv .*: Integer division by zero"):
            sess.run(a // b, {a: [7, 1], b: [1, 0]})
        with raises(r"FloorMod .*: Integer division by zero"):
            sess.run(a % b, {a: [7], b: [0]})
        with raises(r"FloorDiv .*: Integer division by zero"):
            sess.run(a // (b - 1), {a: [7, 1], b: [2, 1]})  # a computed divisor
        with raises(r"FloorMod .*: Integer division by zero"):
            sess.run(a % gn.reduce_min(b), {a: [7], b: [3, 0]})


def test_float_division_by_zero_is_not_an_error():
    x = gn.placeholder(gn.float32, [None])
    with gn.Session() as sess:
        assert np.isinf(sess.run(x // 0.0, {x: [1.0]})[0])
        assert np.isnan(sess.run(x % 0.0, {x: [1.0]})[0])


def test_sparse_labels_out_of_range_fail_in_tensorflows_words():
    labels = gn.placeholder(gn.int32, [None])
    logits = gn.constant(np.zeros((2, 3), np.float32))
    loss = gn.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    line = line_here() - 1
    with gn.Session() as sess:
        with raises(rf"SparseSoftmaxCrossEntropyWithLogits .* created at .*{HERE}:{line}: "
                    r"Received a label value of -1 which is outside the valid range of "
                    r"\[0, 3\)\."):
            sess.run(loss, {labels: [1, -1]})
        with raises(r"Received a label value of 3 which"):
            sess.run(loss, {labels: [3, 0]})
        np.testing.assert_allclose(sess.run(loss, {labels: [2, 0]}), [np.log(3)] * 2, rtol=1e-6)


class Model:
    """A softmax classifier whose labels are fed (y) or computed in the graph (the integer
    part of x's row sum), trained by Adam."""

    def __init__(self):
        self.x = gn.placeholder(gn.float32, [None, 2])
        self.y = gn.placeholder(gn.int32, [None])
        self.w = gn.Variable(np.ones((2, 3), np.float32))
        logits = gn.matmul(self.x, self.w)
        xent = gn.nn.sparse_softmax_cross_entropy_with_logits
        self.loss = gn.reduce_mean(xent(labels=self.y, logits=logits))
        computed = gn.cast(gn.reduce_sum(self.x, axis=1), gn.int32)
        self.computed_loss = gn.reduce_mean(xent(labels=computed, logits=logits))
        self.train = gn.train.AdamOptimizer(0.1).minimize(self.loss)
        self.computed_train = gn.train.AdamOptimizer(0.1).minimize(self.computed_loss)
        self.sess = gn.Session()
        self.sess.run(gn.global_variables_initializer())

    def state(self):
        return [self.sess.run(v) for v in gn.global_variables()]

    def assert_state(self, expected):
        for got, want in zip(self.state(), expected):
            np.testing.assert_array_equal(got, want)


XS = np.full((2, 2), 0.5, np.float32)  # computed labels: 1


@pytest.mark.parametrize("fetch", ["train", "both"])
def test_a_failed_training_step_changes_no_variable(fetch):
    m = Model()
    fed = m.train if fetch == "train" else [m.train, m.loss]
    computed = m.computed_train if fetch == "train" else [m.computed_train, m.computed_loss]
    before = m.state()
    with raises("Received a label value of 3 "):
        m.sess.run(fed, {m.x: XS, m.y: [0, 3]})
    m.assert_state(before)
    with raises("Received a label value of 4 "):
        m.sess.run(computed, {m.x: XS * 4})  # labels computed: checked in the program
    m.assert_state(before)
    m.sess.run(computed, {m.x: XS})
    after = m.state()
    assert not np.array_equal(after[0], before[0])
    m.sess.run(fed, {m.x: XS, m.y: [0, 2]})
    assert not np.array_equal(m.state()[0], after[0])


def test_run_loop_reports_the_first_bad_step_and_changes_no_variable():
    m = Model()
    xs = np.stack([XS, XS, XS * 4, XS * 8])
    ys = np.array([[0, 1], [2, 1], [0, 0], [1, -1]], np.int32)
    before = m.state()
    with raises(r"Received a label value of 4 .* At step 2 of run_loop's 4 \(from 0\)\. "
                r"The run changed no variable"):
        m.sess.run_loop([m.computed_loss, m.computed_train], {m.x: xs})
    m.assert_state(before)
    with raises(r"Received a label value of -1 .* At step 3 of run_loop's 4"):
        m.sess.run_loop([m.loss, m.train], {m.x: xs, m.y: ys})
    m.assert_state(before)
    losses, _ = m.sess.run_loop([m.computed_loss, m.computed_train], {m.x: xs[:2]})
    assert losses.shape == (2,) and losses[1] < losses[0]
    losses, _ = m.sess.run_loop([m.loss, m.train], {m.x: xs[:3], m.y: ys[:3]})
    assert losses.shape == (3,)


def test_make_callable_checks_each_call():
    m = Model()
    step = m.sess.make_callable(m.train, [m.x, m.y])
    computed = m.sess.make_callable([m.computed_loss, m.computed_train], [m.x])
    before = m.state()
    with raises("Received a label value of 5 "):
        step(XS, np.array([5, 0], np.int32))
    with raises("Received a label value of 4 "):
        computed(XS * 4)
    m.assert_state(before)
    step(XS, np.array([2, 0], np.int32))
    computed(XS)
    assert not np.array_equal(m.state()[0], before[0])


def test_checks_can_be_turned_off():
    i = gn.placeholder(gn.int32, [None])
    x = gn.placeholder(gn.float32, [None])
    a = gn.placeholder(gn.int32, [None])
    labels = gn.cast(x, gn.int32)
    loss = gn.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=gn.ones([1, 3]))
    with gn.Session(check_indices=False) as sess:
        assert sess.run(gn.gather(gn.constant(ROWS), i), {i: [5]}).shape == (1, 2)
        assert sess.run(gn.gather(gn.constant(ROWS), gn.cast(x, gn.int32)), {x: [7.0]}).shape \
            == (1, 2)
        assert sess.run(a // 0, {a: [7]}).shape == (1,)
        assert sess.run(loss, {x: [4.0]}).shape == (1,)


def test_one_hot_out_of_range_gives_zeros_as_in_tensorflow():
    labels = gn.placeholder(gn.int32, [None])
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(gn.one_hot(labels, 3), {labels: [1, 3, -1]}),
                                      [[0, 1, 0], [0, 0, 0], [0, 0, 0]])


def test_a_failed_run_consumes_no_random_draw():
    x = gn.placeholder(gn.float32, [None])
    noise = gn.random_uniform([3], seed=7)
    rows = gn.gather(gn.constant(ROWS), gn.cast(x, gn.int32))
    with gn.Session() as failed, gn.Session() as fresh:
        with raises("indices"):
            failed.run([noise, rows], {x: [9.0]})
        np.testing.assert_array_equal(failed.run(noise), fresh.run(noise))


def test_a_64_bit_index_computed_in_the_program_is_reported_whole():
    x = gn.placeholder(gn.float64, [None])
    rows = gn.gather(gn.constant(ROWS), gn.cast(x, gn.int64))
    with gn.Session() as sess:
        with raises(r"indices\[1\] = 3000000000 is not in \[0, 3\)"):
            sess.run(rows, {x: [0.0, 3e9]})


def test_a_check_after_an_assign_in_the_same_run_still_keeps_the_variable():
    v = gn.Variable(0.0)
    with gn.control_dependencies([v.assign_add(2.0)]):
        index = gn.reshape(gn.cast(gn.identity(v), gn.int32), [1])  # the assigned value
    rows = gn.gather(gn.constant(ROWS), index)
    with gn.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(rows), ROWS[[2]])
        with raises(r"indices\[0\] = 4 is not in \[0, 3\)"):
            sess.run(rows)
        assert sess.run(v) == 2.0
