"""What an op declares about its value before it runs is true: the compiler folds and
``static_value`` evaluates through these hooks (``OpDef.from_shapes``, ``numpy_exact``,
``value_as_shape``), so a wrong declaration would change results silently."""
import zlib

import numpy as np
import pytest

import graphnn as gn
from graphnn.ops.declare import evaluate_static
from graphnn.framework.registry import OP_TABLE
from graphnn.ops.declare import exact_numpy_value, static_shape, static_value

EXACT = sorted(t for t, d in OP_TABLE.items() if d.numpy_exact)
FROM_SHAPES = sorted(t for t, d in OP_TABLE.items() if d.from_shapes is not None)
DTYPES = [gn.float32, gn.float64]


def _samples(op_type, dtype):
    rng = np.random.default_rng(zlib.crc32(f"hooks/{op_type}/{dtype.name}".encode()))
    return OP_TABLE[op_type].samples(rng, dtype)


def _special(value):
    """Same shape and dtype, filled with the values where libraries tend to disagree."""
    dtype = value.dtype
    if dtype == bool:
        pool = [True, False]
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        pool = [0, 1, -1, 7, -7, info.min, info.max] if dtype.kind == "i" else [0, 1, 7,
                                                                               info.max]
    else:
        # A subnormal, and a value whose square is one: XLA's CPU code flushes them to zero.
        tiny = np.finfo(dtype).tiny
        pool = [0.0, -0.0, 1.0, -1.5, np.inf, -np.inf, np.nan, 3.0, 1e30, -2.5e-3,
                tiny / 4, np.sqrt(tiny) / 2]
    return np.resize(np.array(pool, dtype), value.shape)


def _cases(op_type, dtype):
    """Each sample as given, and with every non-static input replaced by special values."""
    for sample in _samples(op_type, dtype):
        yield sample.inputs, sample.attrs
        special = tuple(v if i in sample.static else _special(np.asarray(v))
                        for i, v in enumerate(sample.inputs))
        yield special, sample.attrs


def _op_on_constants(op_type, inputs, attrs):
    graph = gn.Graph()
    tensors = [graph.constant(np.asarray(v)) for v in inputs]
    return graph.create_op(op_type, tensors, attrs)


def _assert_same_bits(got, want, what):
    assert len(got) == len(want), what
    for a, b in zip(got, want):
        a, b = np.asarray(a), np.asarray(b)
        assert (a.dtype, a.shape) == (b.dtype, b.shape), what
        np.testing.assert_array_equal(a, b, err_msg=what)
        if a.dtype.kind == "f":  # assert_array_equal takes -0.0 for 0.0
            np.testing.assert_array_equal(np.signbit(a), np.signbit(b), err_msg=f"{what}: sign")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("op_type", EXACT)
def test_numpy_exact_ops_give_their_lowerings_bits(op_type, dtype):
    checked = 0
    for inputs, attrs in _cases(op_type, dtype):
        try:
            op = _op_on_constants(op_type, inputs, attrs)
        except (gn.errors.GraphError, ValueError, TypeError):
            continue  # special values may be refused while building (a negative shape)
        exact = exact_numpy_value(op, [np.asarray(v) for v in inputs])
        if exact is None:
            continue
        lowered = evaluate_static(op, [np.asarray(v) for v in inputs])
        _assert_same_bits(exact, lowered, f"{op_type} on {[np.asarray(v) for v in inputs]}")
        checked += 1
    assert checked, f"{op_type} declares numpy_exact but no sample was evaluated in numpy"


@pytest.mark.parametrize("op_type", FROM_SHAPES)
def test_values_from_shapes_equal_the_lowering(op_type):
    for sample in _samples(op_type, gn.float32):
        op = _op_on_constants(op_type, sample.inputs, sample.attrs)
        _assert_same_bits(op.op_def.from_shapes(op),
                          evaluate_static(op, [np.asarray(v) for v in sample.inputs]), op_type)


@pytest.mark.parametrize("op_type, inputs, attrs", [
    ("FloorMod", ([-4.0, 4.0], [2.0, -2.0]), {}),
    ("FloorDiv", ([-0.0, 3.0], [1.0, -0.5]), {}),
    ("FloorDiv", ([7, -7], [0, 2]), {}),
    ("Maximum", ([0.0, 1.0], [-0.0, 2.0]), {}),
    ("Minimum", ([-0.0, 1.0], [0.0, 2.0]), {}),
    ("Cast", ([np.nan, 3e9],), {"DstT": gn.int32}),
])
def test_exactness_is_refused_where_numpy_and_the_lowering_differ(op_type, inputs, attrs):
    arrays = [np.asarray(v, np.int32 if isinstance(v[0], int) else np.float32) for v in inputs]
    op = _op_on_constants(op_type, arrays, attrs)
    with np.errstate(all="ignore"):
        reference = np.asarray(op.op_def.reference(*arrays, **attrs))
    lowered = evaluate_static(op, arrays)[0]
    assert reference.tobytes() != lowered.tobytes()  # the refusal below is needed
    assert exact_numpy_value(op, arrays) is None


def test_static_values_follow_exact_ops_and_shapes():
    x = gn.zeros([2, 3, 4])
    rows = gn.constant(np.arange(6, dtype=np.int32))
    n = gn.shape(x)[1] * gn.shape(x)[2] + gn.size(rows) // 2
    assert static_value(n) == 15
    assert static_value(gn.shape(gn.placeholder(gn.float32, [None, 3]))) is None
    assert static_value(gn.cast(gn.constant([2.7, -1.0]), gn.int32)).tolist() == [2, -1]
    assert static_value(gn.cast(gn.constant([np.nan]), gn.int32)) is None
    assert gn.reshape(gn.zeros([15]), gn.stack([n, 1])).shape.as_list() == [15, 1]


def test_static_shapes_of_partly_known_shape_vectors():
    x = gn.placeholder(gn.float32, [None, 3])
    assert static_shape(gn.shape(x)).as_list() == [None, 3]
    assert static_shape(gn.stack([gn.shape(x)[0], 5])).as_list() == [None, 5]
    assert gn.reshape(x, gn.stack([gn.shape(x)[0], 3, 1])).shape.as_list() == [None, 3, 1]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_division_by_a_broadcast_divisor_is_taken_from_numpy_only_for_powers_of_two(dtype):
    # XLA multiplies by the reciprocal of a divisor it broadcasts: exact for powers of two.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 64)).astype(dtype.as_numpy_dtype) * 100
    for divisor, exact in [(1024.0, True), (-0.125, True), ([2.0, 4.0], True),
                           (3.0, False), ([2.0, 3.0], False), (0.0, False)]:
        value = np.asarray(divisor, dtype.as_numpy_dtype)
        dividend = x[:, :2] if value.ndim else x
        op = _op_on_constants("RealDiv", (dividend, value), {})
        got = exact_numpy_value(op, [dividend, value])
        assert (got is not None) == exact, divisor
        if got is not None:
            _assert_same_bits(got, evaluate_static(op, [dividend, value]), f"/ {divisor}")
    same_shape = rng.normal(size=(16, 64)).astype(dtype.as_numpy_dtype) + 3
    op = _op_on_constants("RealDiv", (x, same_shape), {})
    _assert_same_bits(exact_numpy_value(op, [x, same_shape]),
                      evaluate_static(op, [x, same_shape]), "same shapes")
