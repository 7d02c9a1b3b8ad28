"""Ops on tensors of unknown rank infer what can be known while building, run with feeds of
any rank, and say clearly what they need when it cannot be known; reductions the user
calls once are one op in the graph."""
import numpy as np
import pytest

import graphnn as gn


def _run(fetches, feeds):
    with gn.Session() as sess:
        return sess.run(fetches, feeds)


def test_split_into_equal_parts_of_an_axis_known_only_at_run_time():
    x = gn.placeholder(gn.float32)
    first, second = gn.split(x, 2, axis=-1)
    assert first.shape.ndims is None
    got = _run([first, second], {x: np.arange(8.0).reshape(2, 4)})
    np.testing.assert_array_equal(got[0], [[0, 1], [4, 5]])
    np.testing.assert_array_equal(got[1], [[2, 3], [6, 7]])


def test_split_into_unequal_parts_at_run_time_is_an_error_naming_the_op():
    x = gn.placeholder(gn.float32)
    parts = gn.split(x, 2, name="halves")
    with pytest.raises(gn.errors.InvalidArgumentError, match="size 3 into 2 equal parts.*'halves'"):
        _run(parts, {x: np.zeros(3)})


@pytest.mark.parametrize("build, rank", [
    (lambda x: gn.tile(x, [2, 3]), 2),
    (lambda x: gn.pad(x, [[1, 0], [0, 2], [1, 1]]), 3),
    (lambda x: gn.transpose(x, [1, 0]), 2),
])
def test_ops_whose_attributes_give_the_rank_infer_it(build, rank):
    x = gn.placeholder(gn.float32)
    assert build(x).shape.as_list() == [None] * rank


def test_concat_of_a_known_and_an_unknown_rank_keeps_the_known_dimensions():
    a = gn.placeholder(gn.float32, shape=[None, 3])
    b = gn.placeholder(gn.float32)
    joined = gn.concat([a, b], axis=0)
    assert joined.shape.as_list() == [None, 3]
    assert _run(joined, {a: np.zeros((1, 3)), b: np.ones((2, 3))}).shape == (3, 3)


def test_unstack_of_unknown_rank_needs_num():
    x = gn.placeholder(gn.float32, name="rows")
    with pytest.raises(ValueError, match="'rows:0'.*needs num="):
        gn.unstack(x)
    parts = gn.unstack(x, num=2)
    np.testing.assert_array_equal(_run(parts, {x: [[1.0, 2.0], [3.0, 4.0]]})[1], [3.0, 4.0])
    with pytest.raises(gn.errors.InvalidArgumentError, match="num=2"):
        _run(parts, {x: np.zeros((3, 2))})


@pytest.mark.parametrize("reduce, op_type", [(gn.reduce_mean, "Mean"),
                                             (gn.reduce_logsumexp, "ReduceLogSumExp")])
def test_a_reduction_the_user_calls_once_is_one_op(reduce, op_type):
    graph = gn.Graph()
    with graph.as_default():
        x = gn.placeholder(gn.float32, shape=[None, 3])
        before = len(graph.get_operations())
        y = reduce(x, axis=1)
    assert len(graph.get_operations()) == before + 1
    assert y.op.type == op_type and y.shape.as_list() == [None]


def test_integer_mean_truncates_toward_zero_as_tensorflow():
    values = gn.constant(np.array([[-1, -2], [7, 8], [-7, 2]], np.int32))
    np.testing.assert_array_equal(_run(gn.reduce_mean(values, axis=1), {}), [-1, 7, -2])


def test_logsumexp_is_stable_and_handles_minus_infinity():
    x = gn.constant(np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [0.0, -np.inf]]))
    np.testing.assert_allclose(_run(gn.reduce_logsumexp(x, axis=1), {}),
                               [1000.0 + np.log(2.0), -np.inf, 0.0])
