"""True division follows TensorFlow 1's dtype rule: int8/int16 (and uint8/uint16) divide
in float32, int32/int64 in float64, floats keep their dtype."""
import numpy as np
import pytest

import graphnn as gn


@pytest.mark.parametrize("dtype, expected", [(gn.int8, gn.float32), (gn.int16, gn.float32),
                                             (gn.int32, gn.float64), (gn.int64, gn.float64),
                                             (gn.float32, gn.float32)])
def test_true_division_dtype(dtype, expected):
    x = gn.constant(np.array([1, 7], dtype.as_numpy_dtype))
    y = gn.constant(np.array([3, 2], dtype.as_numpy_dtype))
    quotient = x / y
    assert quotient.dtype == expected
    with gn.Session() as sess:
        value = sess.run(quotient)
    assert value.dtype == expected.as_numpy_dtype
    np.testing.assert_array_equal(value, np.array([1, 7], expected.as_numpy_dtype)
                                  / np.array([3, 2], expected.as_numpy_dtype))
