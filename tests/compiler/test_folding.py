"""Constant folding computes exactly what the compiled program would."""
import numpy as np
import pytest

import graphnn as gn


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
