"""Fed values (DESIGN.md section 2): converted to the placeholder's dtype only when that keeps
every value; otherwise an InvalidArgumentError naming the tensor, the value and the line."""
import inspect
import os

import ml_dtypes
import numpy as np
import pytest

import graphnn as gn

THIS_FILE = os.path.basename(__file__)

# (placeholder dtype, fed value, words the error must hold)
CHANGING_FEEDS = [
    (gn.int8, np.array([300], np.int64), "300 is outside the range of int8 [-128, 127]"),
    (gn.uint8, -1, "-1 is outside the range of uint8 [0, 255]"),
    (gn.int32, 2 ** 40, "1099511627776 is outside the range of int32"),
    (gn.int64, 2 ** 70, "1180591620717411303424 is outside the range of int64"),
    (gn.int64, np.array([2 ** 63], np.uint64), "is outside the range of int64"),
    (gn.int64, np.array([2.0 ** 63]), "is outside the range of int64"),
    (gn.int32, [1.7], "1.7 is not an integer (at index [0])"),
    (gn.int32, [[1.0, 2.5]], "2.5 is not an integer (at index [0, 1])"),
    (gn.int32, np.nan, "nan is not an integer"),
    (gn.float32, None, "None is not a value"),
    (gn.int32, [1, None], "None is not a value (at index [1])"),
    (gn.float32, "1.5", "'1.5' is a string, not a number"),
    (gn.float32, [1.0, "two"], "'two' is a string, not a number (at index [1])"),
    (gn.float32, np.array([b"1"]), "b'1' is a string, not a number"),
    (gn.float32, [1 + 2j], "(1+2j) has an imaginary part"),
    (gn.bool, [0, 2], "2 is not 0 or 1 (at index [1])"),
    (gn.bool, 0.5, "0.5 is not 0 or 1"),
    (gn.float16, 70000, "70000 overflows float16"),
    (gn.float32, 1e300, "1e+300 overflows float32"),
    (gn.float32, [[1.0], [1.0, 2.0]], "inhomogeneous"),
]

# (placeholder dtype, fed value, expected array)
KEPT_FEEDS = [
    (gn.int32, [2.0, -3.0], np.array([2, -3], np.int32)),
    (gn.int8, 127, np.array(127, np.int8)),
    (gn.uint8, np.array([0, 255], np.int64), np.array([0, 255], np.uint8)),
    (gn.int64, np.array([2.0 ** 62]), np.array([2 ** 62], np.int64)),
    (gn.bool, [0, 1], np.array([False, True])),
    (gn.bool, [0.0, 1.0], np.array([False, True])),
    (gn.float32, [True, False], np.array([1.0, 0.0], np.float32)),
    (gn.float32, 3 + 0j, np.array(3.0, np.float32)),
    (gn.float32, 0.1, np.array(0.1, np.float32)),  # rounding is not a change
    (gn.float32, np.array([np.inf, -np.inf]), np.array([np.inf, -np.inf], np.float32)),
    (gn.float64, 2 ** 60, np.array(2.0 ** 60)),
    (gn.bfloat16, [1.5, 2.0], np.array([1.5, 2.0], ml_dtypes.bfloat16)),
    (gn.int32, np.zeros((2, 0)), np.zeros((2, 0), np.int32)),
]


def _next_line() -> int:
    return inspect.currentframe().f_back.f_lineno + 1


def _assert_refused(info, words: str, line: int, dtype) -> None:
    message = str(info.value)
    assert "'x:0'" in message and dtype.name in message, message
    assert words in message, message
    assert f"{THIS_FILE}:{line}" in message, message
    assert info.value.op.name == "x"


@pytest.mark.parametrize("dtype, value, words", CHANGING_FEEDS)
def test_a_feed_that_would_change_is_refused(sess, dtype, value, words):
    line = _next_line()
    x = gn.placeholder(dtype, name="x")
    with pytest.raises(gn.errors.InvalidArgumentError) as info:
        sess.run(gn.identity(x), {x: value})
    _assert_refused(info, words, line, dtype)


@pytest.mark.parametrize("dtype, value, words", CHANGING_FEEDS)
def test_make_callable_refuses_what_run_refuses(sess, dtype, value, words):
    line = _next_line()
    x = gn.placeholder(dtype, name="x")
    call = sess.make_callable(gn.identity(x), [x])
    with pytest.raises(gn.errors.InvalidArgumentError) as info:
        call(value)
    _assert_refused(info, words, line, dtype)


@pytest.mark.parametrize("dtype, value, expected", KEPT_FEEDS)
def test_a_feed_that_keeps_its_values_is_converted(sess, dtype, value, expected):
    x = gn.placeholder(dtype, name="x")
    for result in (sess.run(gn.identity(x), {x: value}),
                   sess.make_callable(gn.identity(x), [x])(value)):
        assert result.dtype == dtype.as_numpy_dtype
        np.testing.assert_array_equal(result, expected)


def test_run_loop_feeds_are_checked_alike(sess):
    line = _next_line()
    x = gn.placeholder(gn.int8, [2], name="x")
    total = gn.Variable(0, dtype=gn.int32, name="total")
    step = total.assign_add(gn.reduce_sum(gn.cast(x, gn.int32)))
    sess.run(total.initializer)
    with pytest.raises(gn.errors.InvalidArgumentError) as info:
        sess.run_loop(step, {x: [[1, 2], [3, 300]]})
    _assert_refused(info, "300 is outside the range of int8 [-128, 127] (at index [1, 1])",
                    line, gn.int8)
    assert sess.run(total) == 0
    np.testing.assert_array_equal(sess.run_loop(step, {x: [[1.0, 2.0], [3.0, 4.0]]}), [3, 10])


def test_load_variable_refuses_a_changing_value(sess):
    v = gn.Variable(np.zeros(2, np.int32), name="v")
    sess.run(v.initializer)
    with pytest.raises(gn.errors.InvalidArgumentError, match="1.5 is not an integer"):
        v.load([1.5, 2.0], sess)
    np.testing.assert_array_equal(sess.run(v), [0, 0])
    v.load([1.0, 2.0], sess)
    np.testing.assert_array_equal(sess.run(v), [1, 2])


@pytest.mark.parametrize("second_key", ["x:0", "x"])
def test_the_same_tensor_fed_twice_is_refused(sess, second_key):
    x = gn.placeholder(gn.float32, [], name="x")
    with pytest.raises(gn.errors.InvalidArgumentError,
                       match=f"feeds Tensor 'x:0' twice, as the Tensor and as '{second_key}'"):
        sess.run(x + 1.0, {x: 1.0, second_key: 2.0})
    with pytest.raises(gn.errors.InvalidArgumentError, match="twice"):
        sess.run_loop(x + 1.0, {second_key: [1.0], x: [2.0]})
    assert sess.run(x + 1.0, {second_key: 2.0}) == 3.0


def test_a_correctly_typed_array_is_fed_as_it_is(sess):
    x = gn.placeholder(gn.int8, [None], name="x")
    value = np.array([1, -2], np.int8)
    np.testing.assert_array_equal(sess.run(x, {x: value}), value)
