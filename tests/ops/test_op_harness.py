"""Every registered op against its numpy reference, on its own sample inputs.

A new op is covered the moment it is registered: it must declare samples and a
reference, or be a source, random or state op that the tests below cover, or a host op
(string output: summaries) that tests/ops/test_summary.py covers.
"""
import zlib

import numpy as np
import pytest

import graphnn as gn
from graphnn.framework.registry import OP_TABLE

HARNESSED = sorted(t for t, d in OP_TABLE.items() if d.samples is not None)
FLOAT_DTYPES = [gn.float32, gn.float64]
TOLERANCE = {np.dtype(np.float32): (2e-5, 2e-5), np.dtype(np.float64): (1e-10, 1e-12)}


def _run_sample(op_type, sample, unknown_dims=False):
    graph = gn.Graph()
    with graph.as_default():
        inputs, feeds = [], {}
        for i, value in enumerate(sample.inputs):
            if i in sample.static:
                inputs.append(graph.constant(np.asarray(value)))
                continue
            shape = [None] * np.ndim(value) if unknown_dims else np.shape(value)
            placeholder = gn.placeholder(value.dtype, shape=shape)
            inputs.append(placeholder)
            feeds[placeholder] = value
        op = graph.create_op(op_type, inputs, sample.attrs)
        with gn.Session(graph) as sess:
            results = sess.run(list(op.outputs), feed_dict=feeds)
    return op, results


def _check_against_reference(op_type, sample, op, results):
    expected = OP_TABLE[op_type].reference(*sample.inputs, **sample.attrs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(results) == len(expected) == len(op.outputs)
    for tensor, got, want in zip(op.outputs, results, expected):
        want = np.asarray(want)
        assert got.dtype == tensor.dtype.as_numpy_dtype, (
            f"{op_type}: ran as {got.dtype}, declared {tensor.dtype}")
        assert tensor.shape.is_compatible_with(got.shape), (
            f"{op_type}: static shape {tensor.shape} vs run-time {got.shape}")
        assert got.shape == want.shape, f"{op_type}: shape {got.shape} vs numpy {want.shape}"
        if got.dtype.kind == "f":
            rtol, atol = TOLERANCE[got.dtype]
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=op_type)
        else:
            np.testing.assert_array_equal(got, want, err_msg=op_type)


def _samples(op_type, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{op_type}/{dtype.name}".encode()))
    return OP_TABLE[op_type].samples(rng, dtype)


def test_every_op_is_covered_by_a_harness():
    uncovered = [t for t, d in OP_TABLE.items()
                 if not (d.source or d.random or d.assigns or d.host)
                 and (d.samples is None or d.reference is None)]
    assert not uncovered, f"ops without samples and a numpy reference: {uncovered}"


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("op_type", HARNESSED)
def test_forward_matches_numpy(op_type, dtype):
    for sample in _samples(op_type, dtype):
        op, results = _run_sample(op_type, sample)
        _check_against_reference(op_type, sample, op, results)


@pytest.mark.parametrize("op_type", HARNESSED)
def test_forward_with_unknown_static_dims(op_type):
    """Shape inference over None dims: the op builds and runs with any batch shape.

    An op that needs a dimension's size while building (unstack along an axis)
    may refuse, but only with a ShapeError that says the size is unknown.
    """
    for sample in _samples(op_type, gn.float32):
        try:
            op, results = _run_sample(op_type, sample, unknown_dims=True)
        except gn.errors.ShapeError as error:
            assert "unknown" in str(error), error
            continue
        _check_against_reference(op_type, sample, op, results)


RANDOM_OPS = sorted(t for t, d in OP_TABLE.items() if d.random)


@pytest.mark.parametrize("op_type", RANDOM_OPS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: d.name)
def test_random_op_shape_dtype_and_moments(op_type, dtype):
    shape = gn.constant(np.array([200, 50], np.int32))
    if op_type == "RandomUniformInt":
        dtype = gn.int32
        inputs, bounds = [shape, gn.constant(-3), gn.constant(4)], (-3, 3)
    else:
        inputs, bounds = [shape], None
    out = gn.get_default_graph().create_op(op_type, inputs, {"dtype": dtype, "seed": 3}).outputs[0]
    with gn.Session() as sess:
        value = sess.run(out)
    assert value.shape == (200, 50) and value.dtype == dtype.as_numpy_dtype
    expected_moments = {"RandomStandardNormal": (0.0, 1.0), "TruncatedNormal": (0.0, 0.88),
                        "RandomUniform": (0.5, 0.289), "RandomUniformInt": (0.0, 2.0)}[op_type]
    assert abs(value.mean() - expected_moments[0]) < 0.05
    assert abs(value.std() - expected_moments[1]) < 0.05
    if op_type == "TruncatedNormal":
        assert np.abs(value).max() <= 2.0
    if op_type == "RandomUniform":
        assert 0.0 <= value.min() and value.max() < 1.0
    if bounds:
        assert value.min() == bounds[0] and value.max() == bounds[1]
