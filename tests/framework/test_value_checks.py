"""The host's quick test of an index check (``ValueCheck.any_bad``) agrees with the rule it
stands for, ``bad(values, bound).any()``, for every integer dtype, shape and bound."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from graphnn.framework.registry import ValueCheck, any_outside_range, outside_range

INTEGER_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                  np.uint64]


@st.composite
def indices_and_bound(draw):
    dtype = np.dtype(draw(st.sampled_from(INTEGER_DTYPES)))
    info = np.iinfo(dtype)
    shape = draw(st.sampled_from([(), (0,), (1,), (5,), (32,), (33,), (200,), (3, 4), (2, 0)]))
    values = draw(st.lists(st.integers(int(info.min), int(info.max)),
                           min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    array = np.array(values, dtype).reshape(shape)
    if draw(st.booleans()) and array.ndim == 1 and array.size > 1:
        array = array[::2]  # a strided view, as a slice of a bigger label array is
    # Bounds near the values and near the edges of the dtype's range, up to beyond it.
    edge = 1 << (8 * dtype.itemsize - 1)
    bound = draw(st.one_of(st.integers(0, 300), st.sampled_from([edge - 1, edge, edge + 1,
                                                                  2 * edge, 2 * edge + 5])))
    return array, bound


@settings(max_examples=400, deadline=None)
@given(indices_and_bound())
def test_any_outside_range_agrees_with_outside_range(case):
    values, bound = case
    assert any_outside_range(values, bound) == bool(outside_range(values, bound).any())


def test_negative_labels_are_found_whatever_the_bound():
    for dtype in (np.int8, np.int32, np.int64):
        assert any_outside_range(np.array([0, -1, 2], dtype), 3)
        assert any_outside_range(np.array([[0], [-128]], dtype), 200)
        assert not any_outside_range(np.array([0, 1, 2], dtype), 3)
        assert any_outside_range(np.array([0, 1, 3], dtype), 3)


def test_other_checks_test_their_own_rule():
    check = ValueCheck(input=1, bound=lambda shapes: 0, bad=lambda divisor, bound: divisor == 0,
                       message=lambda position, value, bound: "Integer division by zero")
    assert check.any_bad(np.array([1, 0, 2]), 0)
    assert not check.any_bad(np.array([1, 2]), 0)
