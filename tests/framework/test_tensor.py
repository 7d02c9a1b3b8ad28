"""Tensor: operator overloads, dtype rules for operands, slicing, shapes, identity semantics."""
import inspect
import operator
import os

import numpy as np
import pytest

import graphnn as gn


@pytest.fixture(autouse=True)
def graph():
    with gn.Graph().as_default() as g:
        yield g


def _next_line() -> int:
    return inspect.currentframe().f_back.f_lineno + 1


# ----- operator overloads ---------------------------------------------------------------
ARITHMETIC = [
    (operator.add, "Add"),
    (operator.sub, "Sub"),
    (operator.mul, "Mul"),
    (operator.truediv, "RealDiv"),
    (operator.floordiv, "FloorDiv"),
    (operator.mod, "FloorMod"),
    (operator.pow, "Pow"),
]

COMPARISONS = [
    (operator.lt, "Less"),
    (operator.le, "LessEqual"),
    (operator.gt, "Greater"),
    (operator.ge, "GreaterEqual"),
]


@pytest.mark.parametrize("fn, op_type", ARITHMETIC)
def test_arithmetic_operators_broadcast_shapes(fn, op_type):
    x = gn.placeholder(gn.float32, shape=[None, 1, 3], name="x")
    y = gn.placeholder(gn.float32, shape=[4, 1], name="y")
    z = fn(x, y)
    assert z.op.type == op_type
    assert z.op.inputs == (x, y)
    assert z.dtype == gn.float32
    assert z.shape.as_list() == [None, 4, 3]


@pytest.mark.parametrize("fn, op_type", ARITHMETIC)
def test_reflected_operators_keep_operand_order(fn, op_type):
    x = gn.placeholder(gn.float32, shape=[2, 3], name="x")
    z = fn(2.0, x)
    assert z.op.type == op_type
    left, right = z.op.inputs
    assert right is x
    assert left.op.type == "Const"
    assert left.dtype == gn.float32
    assert z.shape.as_list() == [2, 3]


@pytest.mark.parametrize("fn, op_type", COMPARISONS)
def test_comparison_operators_give_bool_tensors(fn, op_type):
    x = gn.placeholder(gn.float32, shape=[None, 3], name="x")
    y = gn.placeholder(gn.float32, shape=[3], name="y")
    z = fn(x, y)
    assert z.op.type == op_type
    assert z.dtype == gn.bool
    assert z.shape.as_list() == [None, 3]
    w = fn(x, 0.5)
    assert w.op.type == op_type and w.dtype == gn.bool


def test_reflected_comparison_with_scalar_on_the_left():
    x = gn.placeholder(gn.float32, shape=[3], name="x")
    z = 0.5 < x  # Python calls x.__gt__(0.5)
    assert z.op.type == "Greater"
    assert z.op.inputs[0] is x
    assert z.dtype == gn.bool


def test_matmul_operator():
    a = gn.placeholder(gn.float32, shape=[None, 3], name="a")
    b = gn.placeholder(gn.float32, shape=[3, 4], name="b")
    c = a @ b
    assert c.op.type == "MatMul"
    assert c.op.inputs == (a, b)
    assert c.shape.as_list() == [None, 4]
    batched = gn.placeholder(gn.float32, shape=[5, 2, 3], name="batched")
    assert (batched @ b).shape.as_list() == [5, 2, 4]


def test_unary_operators():
    x = gn.placeholder(gn.float32, shape=[None, 3], name="x")
    neg = -x
    absolute = abs(x)
    assert neg.op.type == "Neg" and neg.op.inputs == (x,)
    assert absolute.op.type == "Abs" and absolute.op.inputs == (x,)
    assert neg.shape.as_list() == [None, 3] and neg.dtype == gn.float32
    assert absolute.shape.as_list() == [None, 3] and absolute.dtype == gn.float32


def test_logical_operators_on_bool_tensors():
    p = gn.placeholder(gn.bool, shape=[None, 2], name="p")
    q = gn.placeholder(gn.bool, shape=[2], name="q")
    both, either, negated = p & q, p | q, ~p
    assert (both.op.type, either.op.type, negated.op.type) == ("LogicalAnd", "LogicalOr",
                                                               "LogicalNot")
    for t in (both, either, negated):
        assert t.dtype == gn.bool
        assert t.shape.as_list() == [None, 2]


def test_logical_operators_reject_non_bool_tensors():
    x = gn.placeholder(gn.float32, shape=[2], name="x")
    with pytest.raises(TypeError):
        x & x
    with pytest.raises(TypeError):
        ~x


def test_true_division_of_ints_gives_floats():
    i = gn.placeholder(gn.int32, shape=[3], name="i")
    assert (i / 2).dtype.is_floating
    assert (i // 2).dtype == gn.int32
    assert (i % 2).dtype == gn.int32


def test_operators_compute_numpy_values():
    x = gn.placeholder(gn.float32, shape=[None, 2], name="x")
    p = gn.placeholder(gn.bool, shape=[2], name="p")
    w = gn.constant(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32))
    fetches = [x + 1.0, 1.0 - x, x * x, x / 2.0, x // 2.0, x % 2.0, x ** 2.0, x @ w, -x,
               abs(x), x > 0.0, (x > 0.0) & p, ~p, x[0, ::-1]]
    xv = np.array([[-1.5, 2.0], [3.0, -4.0]], np.float32)
    pv = np.array([True, False])
    expected = [xv + 1, 1 - xv, xv * xv, xv / 2, xv // 2, xv % 2, xv ** 2,
                xv @ np.array([[1, 2], [3, 4]], np.float32), -xv, np.abs(xv), xv > 0,
                (xv > 0) & pv, ~pv, xv[0, ::-1]]
    with gn.Session() as sess:
        results = sess.run(fetches, feed_dict={x: xv, p: pv})
    for result, want in zip(results, expected):
        np.testing.assert_allclose(result, want, rtol=1e-6)


# ----- dtypes of operands ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", [gn.float16, gn.float32, gn.float64])
def test_python_float_takes_the_tensor_dtype(dtype):
    x = gn.placeholder(dtype, shape=[2], name="x")
    for result in (x + 1.0, 1.0 + x, x * 2, x - 0.5, 3.0 / x):
        assert result.dtype == dtype
        assert all(t.dtype == dtype for t in result.op.inputs)


def test_python_int_takes_int_tensor_dtype():
    i64 = gn.placeholder(gn.int64, shape=[2], name="i64")
    assert (i64 + 1).dtype == gn.int64
    i32 = gn.placeholder(gn.int32, shape=[2], name="i32")
    assert (2 * i32).dtype == gn.int32


def test_float64_plus_python_float_computes_in_float64():
    x = gn.placeholder(gn.float64, shape=[], name="x")
    y = x + 0.1
    assert y.dtype == gn.float64
    with gn.Session() as sess:
        value = sess.run(y, feed_dict={x: 0.2})
    assert value.dtype == np.float64
    assert value == 0.2 + 0.1  # exact float64 arithmetic, not float32


@pytest.mark.parametrize("fn", [lambda i: i + 1.5, lambda i: 1.5 * i, lambda i: gn.add(i, 0.5)])
def test_int_tensor_with_fractional_python_float_raises(fn):
    i = gn.placeholder(gn.int32, shape=[2], name="i")
    with pytest.raises(TypeError):
        fn(i)


def test_int_tensor_with_integral_python_float_is_accepted():
    i = gn.placeholder(gn.int32, shape=[2], name="i")
    assert (i + 2.0).dtype == gn.int32


@pytest.mark.parametrize("fn", [operator.add, operator.mul, operator.matmul, gn.subtract,
                                gn.maximum])
def test_mixing_float32_and_float64_raises_naming_both_tensors(fn):
    lhs = gn.placeholder(gn.float32, shape=[2, 2], name="lhs")
    rhs = gn.placeholder(gn.float64, shape=[2, 2], name="rhs")
    with pytest.raises(gn.errors.DTypeError) as info:
        fn(lhs, rhs)
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "lhs" in message and "rhs" in message
    assert "float32" in message and "float64" in message


def test_dtype_error_does_not_add_ops():
    graph = gn.get_default_graph()
    lhs = gn.placeholder(gn.float32, shape=[2], name="lhs")
    rhs = gn.placeholder(gn.float64, shape=[2], name="rhs")
    before = len(graph.get_operations())
    with pytest.raises(gn.errors.DTypeError):
        lhs + rhs
    assert len(graph.get_operations()) == before


# ----- no bool(), no iteration ----------------------------------------------------------
def test_bool_of_a_tensor_raises_a_helpful_type_error():
    x = gn.placeholder(gn.float32, shape=[], name="x")
    with pytest.raises(TypeError) as info:
        bool(x)
    message = str(info.value)
    assert "bool" in message
    assert "sess.run" in message or "Session" in message
    with pytest.raises(TypeError):
        if x > 0:
            pass
    with pytest.raises(TypeError):
        x and x
    with pytest.raises(TypeError):
        not x


def test_iterating_a_tensor_raises_a_helpful_type_error():
    x = gn.placeholder(gn.float32, shape=[3], name="vec")
    with pytest.raises(TypeError) as info:
        for _ in x:
            pass
    message = str(info.value)
    assert "vec" in message and "iterable" in message
    with pytest.raises(TypeError):
        list(x)
    with pytest.raises(TypeError):
        a, b, c = x


# ----- slicing --------------------------------------------------------------------------
@pytest.mark.parametrize("index", [
    (slice(1, None), None, Ellipsis, 0),
    0,
    -1,
    (slice(None), 2),
    (Ellipsis, None),
    (slice(None, None, -2),),
    (slice(1, 4, 2), slice(None), slice(-2, None)),
    (None, 1, None),
    (Ellipsis, 1, 2),
    (slice(10, None),),
])
def test_slicing_known_shapes_matches_numpy(index):
    value = np.arange(6 * 4 * 5, dtype=np.float32).reshape(6, 4, 5)
    x = gn.placeholder(gn.float32, shape=[6, 4, 5], name="x")
    y = x[index]
    assert y.op.type == "StridedSlice"
    assert y.op.inputs == (x,)
    assert tuple(y.shape.as_list()) == value[index].shape


@pytest.mark.parametrize("index, expected", [
    ((slice(1, None), None, Ellipsis, 0), [None, 1, 4]),
    (0, [4, 5]),
    ((slice(None), 1), [None, 5]),
    ((Ellipsis, None), [None, 4, 5, 1]),
    ((slice(None, None, 2),), [None, 4, 5]),
    ((None, slice(None), slice(1, 3)), [1, None, 2, 5]),
])
def test_slicing_keeps_unknown_dims_unknown(index, expected):
    x = gn.placeholder(gn.float32, shape=[None, 4, 5], name="x")
    assert x[index].shape.as_list() == expected


def test_slicing_values():
    value = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = gn.placeholder(gn.float32, shape=[None, 3, 4], name="x")
    y = x[1:, None, ..., 0]
    z = x[:, ::-1, 1:3]
    with gn.Session() as sess:
        y_value, z_value = sess.run([y, z], feed_dict={x: value})
    np.testing.assert_array_equal(y_value, value[1:, None, ..., 0])
    np.testing.assert_array_equal(z_value, value[:, ::-1, 1:3])


def test_slicing_errors():
    x = gn.placeholder(gn.float32, shape=[3, 4], name="x")
    with pytest.raises((IndexError, ValueError)):
        x[3]
    with pytest.raises((IndexError, ValueError)):
        x[0, 0, 0]
    with pytest.raises(IndexError):
        x[..., 0, ...]
    with pytest.raises(ValueError):
        x[::0]
    i = gn.placeholder(gn.int32, shape=[], name="i")
    with pytest.raises(TypeError, match="gather"):
        x[i]


# ----- shapes and attributes ------------------------------------------------------------
def test_shape_is_a_tensor_shape():
    x = gn.placeholder(gn.float32, shape=[None, 3], name="x")
    shape = x.shape
    assert isinstance(shape, gn.TensorShape)
    assert shape.as_list() == [None, 3]
    assert shape.ndims == 2
    assert shape[0] is None and shape[1] == 3 and shape[-1] == 3
    assert shape[1:].as_list() == [3]
    assert x.get_shape() == shape
    assert x.get_shape().as_list() == [None, 3]


def test_unknown_rank_shape():
    x = gn.placeholder(gn.float32, name="x")
    assert x.shape.ndims is None
    with pytest.raises(ValueError):
        x.shape.as_list()
    assert (x + 1.0).shape.ndims is None


def test_scalar_shape():
    c = gn.constant(3.0)
    assert c.shape.as_list() == []
    assert c.shape.ndims == 0


def test_tensor_attributes():
    graph = gn.get_default_graph()
    with gn.name_scope("scope"):
        x = gn.placeholder(gn.int32, shape=[2], name="x")
    assert x.name == "scope/x:0"
    assert x.dtype == gn.int32
    assert x.op.name == "scope/x"
    assert x.graph is graph
    assert x.op.outputs[0] is x


# ----- identity semantics ---------------------------------------------------------------
def test_tensors_are_hashable_and_compare_by_identity():
    x = gn.placeholder(gn.float32, shape=[2], name="x")
    y = gn.placeholder(gn.float32, shape=[2], name="y")
    assert (x == x) is True
    assert (x == y) is False
    assert (x != y) is True
    assert (x != x) is False
    table = {x: "first", y: "second"}
    assert table[x] == "first" and table[y] == "second"
    assert len({x, y, x}) == 2
    assert y in [x, y]


def test_tensors_work_as_feed_dict_keys():
    x = gn.placeholder(gn.float32, shape=[2], name="x")
    y = gn.placeholder(gn.float32, shape=[2], name="y")
    z = x - y
    with gn.Session() as sess:
        np.testing.assert_array_equal(
            sess.run(z, feed_dict={x: [3.0, 4.0], y: [1.0, 1.0]}), [2.0, 3.0])


# ----- build-time shape errors ----------------------------------------------------------
def test_matmul_shape_mismatch_names_op_shapes_and_caller():
    a = gn.placeholder(gn.float32, shape=[2, 3], name="a")
    b = gn.placeholder(gn.float32, shape=[4, 5], name="b")
    with pytest.raises(ValueError) as info:
        line = _next_line()
        gn.matmul(a, b)
    message = str(info.value)
    assert "MatMul" in message
    assert "(2, 3)" in message and "(4, 5)" in message
    assert f"{os.path.basename(__file__)}:{line}" in message


def test_matmul_operator_shape_mismatch_names_the_scoped_op():
    a = gn.placeholder(gn.float32, shape=[2, 3], name="a")
    b = gn.placeholder(gn.float32, shape=[4, 5], name="b")
    with gn.name_scope("dense"):
        with pytest.raises(ValueError) as info:
            line = _next_line()
            a @ b
    message = str(info.value)
    assert "'dense/MatMul'" in message
    assert "(2, 3)" in message and "(4, 5)" in message
    assert f"{os.path.basename(__file__)}:{line}" in message


def test_broadcast_mismatch_names_op_and_shapes():
    x = gn.placeholder(gn.float32, shape=[None, 3], name="x")
    y = gn.placeholder(gn.float32, shape=[4], name="y")
    with pytest.raises(ValueError) as info:
        line = _next_line()
        x + y
    message = str(info.value)
    assert "Add" in message
    assert "(?, 3)" in message and "(4,)" in message
    assert f"{os.path.basename(__file__)}:{line}" in message


def test_shape_error_does_not_add_an_op():
    graph = gn.get_default_graph()
    a = gn.placeholder(gn.float32, shape=[2, 3], name="a")
    b = gn.placeholder(gn.float32, shape=[4, 5], name="b")
    before = len(graph.get_operations())
    with pytest.raises(ValueError):
        gn.matmul(a, b, name="product")
    assert len(graph.get_operations()) == before
