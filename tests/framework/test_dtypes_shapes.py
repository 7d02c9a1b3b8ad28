"""DTypes (with TF 1 spellings), TensorShape, and gn.constant's dtype rules."""
import ml_dtypes
import numpy as np
import pytest

import graphnn as gn
from graphnn.framework.shapes import broadcast_shapes


@pytest.fixture(autouse=True)
def graph():
    with gn.Graph().as_default() as g:
        yield g


# ----- as_dtype -------------------------------------------------------------------------
ALL = [gn.float16, gn.bfloat16, gn.float32, gn.float64, gn.int8, gn.int16, gn.int32, gn.int64,
       gn.uint8, gn.bool]


@pytest.mark.parametrize("dtype", ALL, ids=str)
def test_as_dtype_of_a_dtype_is_itself(dtype):
    assert gn.as_dtype(dtype) is dtype
    assert isinstance(dtype, gn.DType)


@pytest.mark.parametrize("dtype", ALL, ids=str)
def test_as_dtype_round_trips_numpy_dtypes_and_names(dtype):
    numpy_dtype = dtype.as_numpy_dtype
    assert gn.as_dtype(numpy_dtype) is dtype
    assert gn.as_dtype(numpy_dtype.type) is dtype
    assert gn.as_dtype(dtype.name) is dtype


@pytest.mark.parametrize("value, expected", [
    (np.float32, gn.float32),
    (np.dtype("float64"), gn.float64),
    (np.int64, gn.int64),
    (np.uint8, gn.uint8),
    (np.bool_, gn.bool),
    (ml_dtypes.bfloat16, gn.bfloat16),
    ("float", gn.float32),
    ("double", gn.float64),
    ("half", gn.float16),
    ("float32", gn.float32),
    ("int32", gn.int32),
    ("bool", gn.bool),
    (float, gn.float32),
    (int, gn.int32),
    (bool, gn.bool),
    ("string", gn.string),
    (str, gn.string),
    (bytes, gn.string),
    (object, gn.string),  # TF 1's mapping: numpy object arrays hold strings
])
def test_as_dtype_accepts_numpy_tf1_names_and_python_types(value, expected):
    assert gn.as_dtype(value) is expected


@pytest.mark.parametrize("value", ["complex64", np.complex64, np.uint16, "float128", "nope", 3.5])
def test_as_dtype_rejects_unsupported_types(value):
    with pytest.raises(TypeError):
        gn.as_dtype(value)


def test_dtype_equality_and_hashing():
    assert gn.float32 == np.float32
    assert gn.float32 == "float32"
    assert gn.float32 == "float"
    assert gn.float32 != gn.float64
    assert gn.float32 != "complex64"
    assert {gn.float32: 1}[gn.as_dtype("float")] == 1
    assert str(gn.float32) == "float32"
    assert gn.bool.name == "bool"


def test_dtype_properties():
    assert gn.float16.is_floating and gn.bfloat16.is_floating and gn.float64.is_floating
    assert not gn.int32.is_floating
    assert gn.int8.is_integer and gn.uint8.is_integer and not gn.float32.is_integer
    assert gn.bool.is_bool and not gn.bool.is_integer
    assert gn.float32.as_numpy_dtype == np.dtype(np.float32)
    assert gn.int64.size == 8 and gn.float16.size == 2


@pytest.mark.parametrize("spelling, expected", [("float", gn.float32), ("double", gn.float64),
                                                (np.float64, gn.float64), (np.int8, gn.int8)])
def test_placeholder_accepts_any_dtype_spelling(spelling, expected):
    assert gn.placeholder(spelling, shape=[2]).dtype is expected


def test_placeholder_rejects_unsupported_dtype():
    with pytest.raises(TypeError):
        gn.placeholder("complex64", shape=[2])


# ----- TensorShape ----------------------------------------------------------------------
@pytest.mark.parametrize("dims, text", [
    ([None, 3], "(?, 3)"),
    ([3], "(3,)"),
    ([None], "(?,)"),
    ([], "()"),
    ([2, 3, 4], "(2, 3, 4)"),
    (None, "<unknown>"),
])
def test_tensor_shape_str(dims, text):
    assert str(gn.TensorShape(dims)) == text


def test_tensor_shape_accessors():
    shape = gn.TensorShape([None, 3, 4])
    assert shape.as_list() == [None, 3, 4]
    assert shape.ndims == 3
    assert len(shape) == 3
    assert shape[0] is None and shape[2] == 4
    assert shape[1:] == gn.TensorShape([3, 4])
    assert list(shape) == [None, 3, 4]
    assert not shape.is_fully_defined()
    assert shape.num_elements() is None
    full = gn.TensorShape((2, 3))
    assert full.is_fully_defined() and full.num_elements() == 6
    assert gn.TensorShape(np.array([2, 3])).as_list() == [2, 3]


def test_tensor_shape_equality():
    assert gn.TensorShape([None, 3]) == gn.TensorShape([None, 3])
    assert gn.TensorShape([None, 3]) == [None, 3]
    assert gn.TensorShape([2, 3]) != gn.TensorShape([3, 2])
    assert gn.TensorShape(None) != gn.TensorShape([])
    assert hash(gn.TensorShape([1, None])) == hash(gn.TensorShape([1, None]))


def test_unknown_shape():
    shape = gn.TensorShape(None)
    assert shape.ndims is None
    assert not shape.is_fully_defined()
    with pytest.raises(ValueError):
        shape.as_list()


def test_invalid_dimensions_are_rejected():
    with pytest.raises(ValueError):
        gn.TensorShape([3, -5])
    with pytest.raises(TypeError):
        gn.TensorShape([3, "a"])


@pytest.mark.parametrize("a, b, compatible", [
    ([None, 3], [5, 3], True),
    ([None, 3], [5, 4], False),
    ([None, 3], [5], False),
    ([None, None], [7, 8], True),
    (None, [1, 2, 3], True),
    ([1, 2], None, True),
    ([], [], True),
    ([], [1], False),
])
def test_is_compatible_with(a, b, compatible):
    assert gn.TensorShape(a).is_compatible_with(gn.TensorShape(b)) is compatible
    assert gn.TensorShape(b).is_compatible_with(a) is compatible


@pytest.mark.parametrize("a, b, merged", [
    ([None, 3], [5, None], [5, 3]),
    ([None, 3], [None, 3], [None, 3]),
    (None, [2, None], [2, None]),
    ([4], None, [4]),
])
def test_merge_with(a, b, merged):
    assert gn.TensorShape(a).merge_with(b) == gn.TensorShape(merged)
    assert gn.TensorShape(b).merge_with(gn.TensorShape(a)) == gn.TensorShape(merged)


@pytest.mark.parametrize("a, b", [([None, 3], [5, 4]), ([2], [2, 1])])
def test_merge_with_incompatible_shapes_raises(a, b):
    with pytest.raises(ValueError) as info:
        gn.TensorShape(a).merge_with(b)
    assert str(gn.TensorShape(a)) in str(info.value)
    assert str(gn.TensorShape(b)) in str(info.value)


def test_set_shape_refines_static_shape():
    x = gn.placeholder(gn.float32, shape=[None, 3])
    x.set_shape([8, None])
    assert x.shape.as_list() == [8, 3]
    with pytest.raises(ValueError):
        x.set_shape([9, 3])


@pytest.mark.parametrize("a, b, expected", [
    ([2, 3], [3], [2, 3]),
    ([3, 1], [1, 4], [3, 4]),
    ([], [2, 3], [2, 3]),
    ([None, 1], [5], [None, 5]),
    ([None, 3], [None, 3], [None, 3]),
    ([2, 1, 3], [4, 1], [2, 4, 3]),
])
def test_broadcast_shapes(a, b, expected):
    result = broadcast_shapes(gn.TensorShape(a), gn.TensorShape(b))
    assert result.as_list() == expected
    assert broadcast_shapes(gn.TensorShape(b), gn.TensorShape(a)).as_list() == expected


def test_broadcast_shapes_with_unknown_rank_is_unknown():
    assert broadcast_shapes(gn.TensorShape(None), gn.TensorShape([2])).ndims is None


@pytest.mark.parametrize("a, b", [([2, 3], [4]), ([3, 2], [2, 3]), ([None, 3], [2])])
def test_broadcast_shapes_errors_name_both_shapes(a, b):
    sa, sb = gn.TensorShape(a), gn.TensorShape(b)
    with pytest.raises(ValueError) as info:
        broadcast_shapes(sa, sb)
    assert str(sa) in str(info.value) and str(sb) in str(info.value)


def test_incompatible_broadcast_in_an_op_is_a_value_error():
    x = gn.placeholder(gn.float32, shape=[3, 2])
    y = gn.placeholder(gn.float32, shape=[2, 3])
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        gn.multiply(x, y)


# ----- gn.constant dtype rules ----------------------------------------------------------
@pytest.mark.parametrize("value, dtype", [
    (1.0, gn.float32),
    (1, gn.int32),
    (True, gn.bool),
    ([1.0, 2], gn.float32),
    ([[1, 2], [3, 4]], gn.int32),
    (np.float64(1.5), gn.float64),
    (np.array([1.0, 2.0]), gn.float64),
    (np.array([1, 2], np.int64), gn.int64),
    (np.array([1, 2], np.uint8), gn.uint8),
    (np.array([1.0], np.float16), gn.float16),
    (np.float32(2.0), gn.float32),
])
def test_constant_default_dtypes(value, dtype):
    c = gn.constant(value)
    assert c.dtype is dtype
    assert c.op.type == "Const"
    assert c.shape.as_list() == list(np.shape(value))


def test_large_python_int_becomes_int64():
    assert gn.constant(2 ** 40).dtype is gn.int64


@pytest.mark.parametrize("value, dtype", [
    (1, gn.float64),
    (1, "float"),
    (2.0, gn.int32),
    ([1, 2], np.float16),
    (np.array([1, 2], np.int32), gn.float32),
    (0, gn.bool),
])
def test_constant_dtype_argument_converts(value, dtype):
    c = gn.constant(value, dtype=dtype)
    assert c.dtype is gn.as_dtype(dtype)
    assert c.shape.as_list() == list(np.shape(value))


def test_constant_values_after_conversion():
    a = gn.constant(3, dtype=gn.float32)
    b = gn.constant([1.0, 2.0], dtype=gn.int32)
    with gn.Session() as sess:
        a_value, b_value = sess.run([a, b])
    assert a_value.dtype == np.float32 and a_value == 3.0
    assert b_value.dtype == np.int32
    np.testing.assert_array_equal(b_value, [1, 2])


@pytest.mark.parametrize("value, dtype", [(1.5, gn.int32), ([1.0, 2.5], gn.int64),
                                          (np.array([0.5]), gn.int32), ("text", gn.float32)])
def test_constant_refuses_lossy_or_impossible_conversions(value, dtype):
    with pytest.raises(TypeError):
        gn.constant(value, dtype=dtype)


def test_constant_shape_broadcasts_a_scalar():
    c = gn.constant(7.0, shape=[2, 3])
    assert c.shape.as_list() == [2, 3]
    assert c.dtype is gn.float32
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(c), np.full((2, 3), 7.0, np.float32))


def test_constant_shape_reshapes_a_list_with_the_same_size():
    c = gn.constant([1, 2, 3, 4, 5, 6], shape=[3, 2])
    assert c.shape.as_list() == [3, 2]
    assert c.dtype is gn.int32
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(c), np.arange(1, 7).reshape(3, 2))


def test_constant_shape_with_wrong_size_raises():
    with pytest.raises(ValueError):
        gn.constant([1.0, 2.0, 3.0], shape=[2, 2])


def test_constant_names():
    assert gn.constant(1.0).op.name == "Const"
    assert gn.constant(1.0).op.name == "Const_1"
    assert gn.constant(1.0, name="c").name == "c:0"


def test_constant_of_a_tensor_is_refused():
    x = gn.placeholder(gn.float32, shape=[2])
    with pytest.raises(TypeError):
        gn.constant(x)
