"""Constant folding computes exactly what the compiled program would."""
import jax.numpy as jnp
import numpy as np
import pytest

import graphnn as gn
from graphnn.framework.registry import OP_TABLE, OpDef, register
from graphnn.ops.declare import static_value


def both(fetch):
    with gn.Session() as optimized, gn.Session(optimize=False) as plain:
        return optimized.run(fetch), plain.run(fetch)


@pytest.mark.parametrize("build", [
    lambda: gn.reduce_sum(gn.constant(np.ones(1000), dtype=gn.bfloat16)),
    lambda: gn.constant([-7, 7]) // gn.constant([2, -2]),
    lambda: gn.exp(gn.constant(np.linspace(-3, 10.3, 7, dtype=np.float32))),
    lambda: gn.nn.softmax(gn.constant(np.linspace(-3, 3, 6), dtype=gn.float16)),
    lambda: gn.nn.leaky_relu(gn.constant([-1.0, 2.0], dtype=gn.bfloat16)),
], ids=["bfloat16-sum", "int-floor-division", "float32-exp", "float16-softmax",
        "bfloat16-leaky-relu"])
def test_folded_constants_equal_the_compiled_program(build):
    folded, compiled = both(build())
    assert folded.dtype == compiled.dtype
    np.testing.assert_array_equal(folded, compiled)


def test_gradients_of_constant_convolutions_pooling_and_slices_fold():
    image = gn.constant(np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1))
    kernel = gn.constant(np.ones((3, 3, 1, 1), np.float32))
    vector = gn.constant([4.0, 6.0, 8.0])
    grads = [gn.gradients(gn.reduce_sum(gn.nn.conv2d(image, kernel, 1, "SAME")), image)[0],
             gn.gradients(gn.reduce_sum(gn.nn.max_pool2d(image, 2, 2, "VALID")), image)[0],
             gn.gradients(gn.reduce_sum(vector[::-1] * vector), vector)[0],
             gn.gradients(gn.reduce_sum(gn.gather(vector, [0, 0, 2])), vector)[0]]
    folded, compiled = both(grads)
    for a, b in zip(folded, compiled):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(folded[3], [2.0, 0.0, 1.0])


def test_an_op_that_fails_on_constants_reports_itself_at_run_time():
    bad = gn.reshape(gn.placeholder_with_default(np.ones(6, np.float32), [None]), [4, -1])
    with gn.Session() as sess:
        with pytest.raises(gn.errors.InvalidArgumentError, match="Reshape 'Reshape' created at"):
            sess.run(bad)


@pytest.fixture
def test_ops():
    """Two ops registered only for this test: adding an op never means editing the compiler.

    ``TestRank`` knows its value from its input's static shape; ``TestTwice`` says its
    numpy reference is exact (for finite values). Their lowerings record every call.
    """
    calls = []

    def lower_rank(x):
        calls.append("TestRank")
        return jnp.asarray(x.ndim, jnp.int32)

    def lower_twice(x):
        calls.append("TestTwice")
        return x * 2

    declared = [
        OpDef("TestRank", infer=lambda inputs: [(gn.TensorShape([]), gn.int32)], lower=lower_rank,
              reference=lambda x: np.array(x.ndim, np.int32),
              from_shapes=lambda op: (np.array(op.inputs[0].shape.ndims, np.int32),)),
        OpDef("TestTwice", infer=lambda inputs: [(inputs[0].shape, inputs[0].dtype)],
              lower=lower_twice, reference=lambda x: x * 2,
              numpy_exact=lambda op, values: bool(np.all(np.isfinite(values[0]))))]
    for opdef in declared:
        register(opdef)
    yield calls
    for opdef in declared:
        del OP_TABLE[opdef.type]


def test_an_op_that_knows_its_value_from_shapes_is_folded_and_static(test_ops):
    x = gn.placeholder(gn.float32, [None, 3])
    rank = x.graph.create_op("TestRank", [x]).outputs[0]
    assert static_value(rank) is None  # x's shape is not fully known while building
    with gn.Session() as sess:
        report = sess.compile_report(rank, {x: np.ones((2, 3), np.float32)})
        assert sess.run(rank, {x: np.ones((2, 3), np.float32)}) == 2
    assert "TestRank" not in [op.type for op in report.optimized_graph.get_operations()]
    assert test_ops == []  # folded from the fed shape, never lowered
    known = x.graph.create_op("TestRank", [gn.zeros([4, 5, 6])]).outputs[0]
    assert static_value(known) == 3


def test_an_op_declared_exact_in_numpy_folds_without_its_lowering(test_ops):
    twice = gn.get_default_graph().create_op("TestTwice", [gn.constant([1.5, 4.0])])
    assert static_value(twice.outputs[0]).tolist() == [3.0, 8.0]
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(twice.outputs[0]), [3.0, 8.0])
    assert test_ops == []
    inexact = gn.get_default_graph().create_op("TestTwice", [gn.constant([np.inf])])
    assert static_value(inexact.outputs[0]) is None
    with gn.Session() as sess:
        assert sess.run(inexact.outputs[0]).tolist() == [np.inf]
    assert test_ops == ["TestTwice"]  # folded through the lowering, as the program computes
