"""The public functions (compositions and argument handling) against numpy."""
import numpy as np
import pytest

import graphnn as gn

rng = np.random.default_rng(0)
X = rng.normal(size=(4, 5)).astype(np.float32)
Y = rng.normal(size=(4, 5)).astype(np.float32)
LABELS = np.array([0, 3, 4, 1], np.int32)


def np_log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


CASES = {
    "reduce_mean_all": (lambda x: gn.reduce_mean(x), lambda x: x.mean()),
    "reduce_mean_axis": (lambda x: gn.reduce_mean(x, axis=1, keepdims=True),
                         lambda x: x.mean(axis=1, keepdims=True)),
    "reduce_mean_negative_axis": (lambda x: gn.reduce_mean(x, axis=-1), lambda x: x.mean(-1)),
    "reduce_logsumexp": (lambda x: gn.reduce_logsumexp(x, axis=1),
                         lambda x: np.log(np.exp(x).sum(1))),
    "reduce_logsumexp_large": (lambda x: gn.reduce_logsumexp(x * 1000.0, axis=0, keepdims=True),
                               lambda x: np.max(x * 1000, 0, keepdims=True)
                               + np.log(np.exp(x * 1000 - np.max(x * 1000, 0)).sum(0))),
    "reduce_sum_tuple_axis": (lambda x: gn.reduce_sum(x, axis=(0, 1)), lambda x: x.sum()),
    "clip_by_value": (lambda x: gn.clip_by_value(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5)),
    "tensordot_1": (lambda x: gn.tensordot(x, gn.transpose(x), axes=1), lambda x: x @ x.T),
    "tensordot_pairs": (lambda x: gn.tensordot(x, x, axes=[[0], [0]]), lambda x: x.T @ x),
    "l2_loss": (lambda x: gn.nn.l2_loss(x), lambda x: (x ** 2).sum() / 2),
    "sigmoid_xent": (lambda x: gn.nn.sigmoid_cross_entropy_with_logits(
        labels=gn.sigmoid(x * 0.0 + 0.3), logits=x * 10.0),
        lambda x: -(np_sigmoid(0.3) * np.log(np_sigmoid(x * 10.0))
                    + (1 - np_sigmoid(0.3)) * np.log(1 - np_sigmoid(x.astype(np.float64) * 10)))),
    "softmax_xent_axis0": (lambda x: gn.nn.softmax_cross_entropy_with_logits(
        labels=gn.nn.softmax(x, axis=0), logits=x, axis=0),
        lambda x: -(np.exp(np_log_softmax(x, 0)) * np_log_softmax(x, 0)).sum(0)),
    "bias_add": (lambda x: gn.nn.bias_add(x, gn.range(5, dtype=gn.float32)),
                 lambda x: x + np.arange(5)),
    "zeros_like_dtype": (lambda x: gn.zeros_like(x, dtype=gn.int32), lambda x: np.zeros_like(x, np.int32)),
    "ones_dynamic_shape": (lambda x: gn.ones(gn.shape(x)), lambda x: np.ones_like(x)),
    "fill": (lambda x: gn.fill([2, 3], 7.0), lambda x: np.full((2, 3), 7.0, np.float32)),
    "range_single": (lambda x: gn.range(5), lambda x: np.arange(5, dtype=np.int32)),
    "range_float": (lambda x: gn.range(1.0, 2.0, 0.25), lambda x: np.arange(1, 2, 0.25, np.float32)),
    "one_hot": (lambda x: gn.one_hot(gn.constant([0, 2, 1]), 3, on_value=5.0, off_value=-1.0),
                lambda x: np.where(np.eye(3)[[0, 2, 1]] > 0, 5.0, -1.0).astype(np.float32)),
    "where": (lambda x: gn.where(x > 0, x, 0.0), lambda x: np.where(x > 0, x, 0)),
    "split_equal": (lambda x: gn.split(gn.concat([x, x], 1), 2, axis=1)[1], lambda x: x),
    "split_sizes": (lambda x: gn.split(x, [1, 4], axis=1)[1], lambda x: x[:, 1:]),
    "unstack": (lambda x: gn.unstack(x, axis=1)[2], lambda x: x[:, 2]),
    "stack": (lambda x: gn.stack([x, x * 2.0], axis=1), lambda x: np.stack([x, x * 2], 1)),
    "reshape_with_tensor_dim": (lambda x: gn.reshape(x, [gn.shape(x)[0], -1, 1]),
                                lambda x: x.reshape(4, -1, 1)),
    "squeeze_expand": (lambda x: gn.squeeze(gn.expand_dims(x, 1), axis=1), lambda x: x),
    "gather_axis1": (lambda x: gn.gather(x, [4, 0], axis=1), lambda x: x[:, [4, 0]]),
    "cast_truncates": (lambda x: gn.cast(x * 3.0, gn.int32), lambda x: (x * 3).astype(np.int32)),
    "argmax_int32": (lambda x: gn.argmax(x, axis=1, output_type=gn.int32), lambda x: x.argmax(1)),
    "argmin_default_int64": (lambda x: gn.argmin(x, 0), lambda x: x.argmin(0).astype(np.int64)),
    "slicing": (lambda x: x[1:, None, ::2][..., 0], lambda x: x[1:, None, ::2][..., 0]),
    "negative_index": (lambda x: x[-1], lambda x: x[-1]),
    "int_true_division": (lambda x: gn.constant([1, 2, 3]) / 2, lambda x: np.array([0.5, 1, 1.5])),
    "floordiv_operator": (lambda x: x // 0.5, lambda x: x // 0.5),
    "mod_operator": (lambda x: x % 0.7, lambda x: x % np.float32(0.7)),
    "pow_operator": (lambda x: gn.abs(x) ** 1.5, lambda x: np.abs(x) ** 1.5),
    "matmul_operator": (lambda x: x @ gn.transpose(x), lambda x: x @ x.T),
    "rpow_rsub_rdiv": (lambda x: (2.0 ** x) - 1.0 / (gn.abs(x) + 1.0),
                       lambda x: 2 ** x - 1 / (np.abs(x) + 1)),
    "add_n": (lambda x: gn.add_n([x, x, x]), lambda x: 3 * x),
    "einsum_trace": (lambda x: gn.einsum("ii", x[:, :4]), lambda x: np.trace(x[:, :4])),
    "logical_ops": (lambda x: gn.cast((x > 0) & ~(x > 1) | (x < -1), gn.int32),
                    lambda x: (((x > 0) & ~(x > 1)) | (x < -1)).astype(np.int32)),
    "softmax_log_softmax": (lambda x: gn.nn.log_softmax(x) - gn.log(gn.nn.softmax(x)),
                            lambda x: np.zeros_like(x)),
    "leaky_relu": (lambda x: gn.nn.leaky_relu(x, alpha=0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "pad_reflect": (lambda x: gn.pad(x, [[1, 1], [0, 2]], mode="reflect"),
                    lambda x: np.pad(x, [[1, 1], [0, 2]], mode="reflect")),
    "tile": (lambda x: gn.tile(x, [1, 2]), lambda x: np.tile(x, [1, 2])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_public_function_matches_numpy(name):
    build, reference = CASES[name]
    x = gn.placeholder(gn.float32, shape=[None, 5])
    out = build(x)
    with gn.Session() as sess:
        got = sess.run(out, feed_dict={x: X})
    want = np.asarray(reference(X))
    assert got.shape == want.shape
    assert out.shape.is_compatible_with(got.shape)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)


def test_sparse_and_dense_softmax_cross_entropy_agree():
    logits = gn.constant(X)
    sparse = gn.nn.sparse_softmax_cross_entropy_with_logits(labels=LABELS, logits=logits)
    dense = gn.nn.softmax_cross_entropy_with_logits(labels=gn.one_hot(LABELS, 5), logits=logits)
    with gn.Session() as sess:
        a, b = sess.run([sparse, dense])
    np.testing.assert_allclose(a, -np_log_softmax(X)[np.arange(4), LABELS], rtol=1e-5)
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_dropout_zeroes_at_rate_and_preserves_expectation():
    x = gn.ones([200, 200])
    dropped = gn.nn.dropout(x, rate=0.25, seed=1)
    with gn.Session() as sess:
        value = sess.run(dropped)
    assert set(np.unique(value)) == {0.0, np.float32(1 / 0.75)}
    assert abs((value == 0).mean() - 0.25) < 0.02
    assert abs(value.mean() - 1.0) < 0.03


def test_dropout_training_flag_tensor_switches_behaviour():
    training = gn.placeholder_with_default(False, shape=[])
    x = gn.ones([50, 50])
    out = gn.nn.dropout(x, rate=0.5, training=training)
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(out), np.ones((50, 50)))
        assert (sess.run(out, {training: True}) == 0).any()
    assert gn.nn.dropout(x, rate=0.5, training=False) is x


def test_reduce_mean_with_unknown_batch_uses_runtime_count():
    x = gn.placeholder(gn.float32, shape=[None, 2])
    mean = gn.reduce_mean(x, axis=0)
    with gn.Session() as sess:
        np.testing.assert_allclose(sess.run(mean, {x: [[1, 2], [3, 4], [5, 9]]}), [3, 5])
        np.testing.assert_allclose(sess.run(mean, {x: [[1, 2]]}), [1, 2])


def test_integer_reduce_mean_is_integer_like_tf():
    with gn.Session() as sess:
        assert sess.run(gn.reduce_mean(gn.constant([1, 2]))) == 1


def test_where_requires_both_branches():
    with pytest.raises(ValueError, match="shape depends on the data"):
        gn.where(gn.constant([True]))


def test_random_shape_from_fed_tensor():
    x = gn.placeholder(gn.float32, shape=[None, 3])
    noise = gn.random_uniform(gn.shape(x), -1.0, 1.0)
    with gn.Session() as sess:
        value = sess.run(noise, {x: np.zeros((7, 3))})
    assert value.shape == (7, 3) and value.min() >= -1 and value.max() < 1
