"""Op behaviour at edges the op harness's samples do not reach (size-1 broadcasting in
einsum, mixed dtypes in add_n, a zero padding in the pad gradient, reshape with two -1)."""
import numpy as np
import pytest

import graphnn as gn


def test_einsum_broadcasts_a_size_one_dimension_seen_first():
    a = np.ones((1, 2), np.float32)
    b = np.arange(12, dtype=np.float32).reshape(3, 4)
    result = gn.einsum("ij,ik->ijk", gn.constant(a), gn.constant(b))
    expected = np.einsum("ij,ik->ijk", a, b)
    assert result.shape.as_list() == list(expected.shape)
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(result), expected)


def test_add_n_refuses_mixed_dtypes_naming_both():
    with pytest.raises(gn.errors.DTypeError, match="float32 and float64"):
        gn.add_n([gn.constant(1.0), gn.constant(np.float64(1.0)), gn.constant(2.0)])


def test_pad_gradient_with_no_padding_after_an_axis():
    x = gn.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    padded = gn.pad(x, [[0, 0], [2, 0]])
    weights = gn.constant(np.arange(10, dtype=np.float32).reshape(2, 5))
    grad, = gn.gradients(gn.reduce_sum(padded * weights), [x])
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(grad), [[2, 3, 4], [7, 8, 9]])


def test_reshape_refuses_two_unknown_dimensions():
    x = gn.constant(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="at most one dimension"):
        gn.reshape(x, [-1, -1, 2])
