"""TF 1 argument names, positional orders and defaults of graphnn.compat.v1, with values."""
import warnings

import numpy as np
import pytest

import graphnn as gn
import graphnn.compat.v1 as tf

MATRIX = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]], np.float32)


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


def test_reductions_take_reduction_indices_and_keep_dims():
    x = tf.constant(MATRIX)
    got = _run([tf.reduce_sum(x, reduction_indices=1), tf.reduce_mean(x, 0, True),
                tf.reduce_max(x, reduction_indices=[0, 1], keep_dims=True),
                tf.reduce_min(x, axis=1), tf.reduce_prod(x, 1, None, "p")])
    np.testing.assert_allclose(got[0], [9.0, 12.0])
    np.testing.assert_allclose(got[1], [[2.5, 3.5, 4.5]])
    np.testing.assert_allclose(got[2], [[6.0]])
    np.testing.assert_allclose(got[3], [1.0, 2.0])
    np.testing.assert_allclose(got[4], [15.0, 48.0])
    with pytest.raises(ValueError, match="both 'axis' and 'reduction_indices'"):
        tf.reduce_sum(x, axis=0, reduction_indices=0)


def test_argmax_dimension_and_arg_max_arg_min():
    x = tf.constant(MATRIX)
    got = _run([tf.argmax(x, 1), tf.argmax(x, dimension=0), tf.arg_max(x, 1), tf.arg_min(x, 1),
                tf.argmin(x, dimension=1, output_type=tf.int32)])
    assert [g.tolist() for g in got] == [[1, 2], [1, 0, 1], [1, 2], [0, 1], [0, 1]]
    assert got[0].dtype == np.int64 and got[4].dtype == np.int32


def test_casts_division_and_deprecated_array_arguments():
    ints = tf.constant([7, -7])
    got = _run([tf.to_float(ints), tf.to_int64(ints), tf.to_double(ints), tf.div(ints, 2),
                tf.div(tf.constant([7.0]), 2.0), tf.squeeze(tf.ones([1, 2, 1]), squeeze_dims=[0]),
                tf.expand_dims(ints, dim=0), tf.shape(tf.ones([2, 3]), "s"), tf.rank(ints),
                tf.squared_difference(3.0, 1.0), tf.reciprocal(tf.constant([4.0]))])
    assert got[0].dtype == np.float32 and got[1].dtype == np.int64 and got[2].dtype == np.float64
    assert got[3].tolist() == [3, -4]  # TF 1's div floors integers
    assert got[4].tolist() == [3.5]
    assert got[5].shape == (2, 1) and got[6].shape == (1, 2)
    assert got[7].tolist() == [2, 3] and got[8] == 1 and got[9] == 4.0 and got[10] == [0.25]


def test_placeholder_dtype_strings_and_static_shapes():
    x = tf.placeholder("float", [None, 784])
    count = tf.placeholder(tf.int16)
    assert x.dtype == tf.float32 and x.get_shape().as_list() == [None, 784]
    assert count.dtype == tf.int16 and count.get_shape().ndims is None
    doubled = _run(count * 2, {count: 21})
    assert doubled == 42 and doubled.dtype == np.int16


def test_tensors_where_graphnn_takes_numbers():
    z = tf.placeholder(tf.float32, [None, 3])
    noise = tf.random_normal(tf.shape(z), mean=0.0, stddev=1.0 / tf.sqrt(8.0 / 2.0))
    w = tf.Variable(tf.random_normal([3, 2], stddev=1.0 / tf.sqrt(3.0 / 2.0)))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value = sess.run(noise, {z: np.zeros((4000, 3))})
    assert value.shape == (4000, 3)
    assert 0.45 < value.std() < 0.55
    assert w.get_shape().as_list() == [3, 2]


def test_keep_prob_dropout_fed_and_constant():
    x = tf.ones([1000])
    keep_prob = tf.placeholder(tf.float32)
    dropped = tf.nn.dropout(x, keep_prob)
    with tf.Session() as sess:
        kept = sess.run(dropped, {keep_prob: 0.5})
        assert set(np.unique(kept)) <= {0.0, 2.0} and 400 < np.count_nonzero(kept) < 600
        np.testing.assert_array_equal(sess.run(dropped, {keep_prob: 1.0}), np.ones(1000))
        np.testing.assert_array_equal(sess.run(tf.nn.dropout(x, 1.0)), np.ones(1000))
        assert set(np.unique(sess.run(tf.nn.dropout(x, rate=0.75)))) <= {0.0, 4.0}
    with pytest.raises(ValueError, match="keep_prob"):
        tf.nn.dropout(x, keep_prob=0.0)


def test_conv2d_and_pooling_with_four_element_lists():
    images = tf.constant(np.arange(32, dtype=np.float32).reshape(1, 4, 4, 2))
    kernel = tf.ones([3, 3, 2, 1])
    conv = tf.nn.conv2d(images, kernel, strides=[1, 1, 1, 1], padding="SAME")
    pooled = tf.nn.max_pool(conv, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    average = tf.nn.avg_pool(images, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    got_conv, got_pool, got_avg = _run([conv, pooled, average])
    expected_conv = gn.nn.conv2d(images, kernel, 1, "SAME")
    np.testing.assert_allclose(got_conv, _run(expected_conv))
    assert got_pool.shape == (1, 2, 2, 1) and got_pool.max() == got_conv.max()
    np.testing.assert_allclose(got_avg[0, 0, 0], [5.0, 6.0])
    assert tf.nn.conv2d(images, filter=kernel, strides=[1, 2, 2, 1],
                        padding="VALID").get_shape().as_list() == [1, 1, 1, 1]


def test_cross_entropies_take_named_arguments_only():
    logits = tf.constant([[2.0, 1.0, 0.1]])
    labels = tf.constant([[1.0, 0.0, 0.0]])
    dense = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    dense_v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels, logits)
    sparse = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([0]), logits=logits)
    sig = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    got = _run([dense, dense_v2, sparse, sig, tf.nn.softmax(logits, dim=-1)])
    np.testing.assert_allclose(got[0], got[1])
    np.testing.assert_allclose(got[0], got[2], rtol=1e-6)
    assert got[3].shape == (1, 3)
    np.testing.assert_allclose(got[4].sum(), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="named arguments"):
        tf.nn.softmax_cross_entropy_with_logits(labels, logits)


def test_nn_compositions():
    x = tf.constant([[3.0, 4.0], [-7.0, 10.0]])
    mean, variance = tf.nn.moments(x, axes=[0])
    got = _run([tf.nn.l2_normalize(x, axis=1), tf.nn.relu6(x), mean, variance,
                tf.nn.xw_plus_b(x, tf.ones([2, 1]), tf.constant([1.0])),
                tf.nn.embedding_lookup(x, tf.constant([1, 1, 0]))])
    np.testing.assert_allclose(got[0][0], [0.6, 0.8], rtol=1e-6)
    assert got[1].tolist() == [[3.0, 4.0], [0.0, 6.0]]
    np.testing.assert_allclose(got[2], [-2.0, 7.0])
    np.testing.assert_allclose(got[3], [25.0, 9.0])
    assert got[4].tolist() == [[8.0], [4.0]] and got[5][:, 0].tolist() == [-7.0, -7.0, 3.0]


def test_string_constants_are_fetched_as_bytes_and_eval_uses_the_default_session():
    hello = tf.constant("Hello, TensorFlow!")
    with tf.Session() as sess:
        assert sess.run(hello) == b"Hello, TensorFlow!"
        assert hello.eval() == b"Hello, TensorFlow!"
        assert tf.add(tf.constant(2), 3).eval() == 5


def test_interactive_session_is_the_default_until_closed():
    sess = tf.InteractiveSession()
    try:
        assert tf.get_default_session() is sess
        assert (tf.constant(2.0) * 4.0).eval() == 8.0
    finally:
        sess.close()
    assert tf.get_default_session() is None


def test_config_proto_is_accepted_and_meaningless_options_are_named_in_a_warning():
    config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=False,
                            gpu_options=tf.GPUOptions(allow_growth=True))
    with pytest.warns(UserWarning, match="allow_soft_placement, gpu_options"):
        sess = tf.Session(config=config)
    assert sess.run(tf.constant(1.0) + 1.0) == 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cpu = tf.Session(config=tf.ConfigProto(device_count={"GPU": 0}))
    assert cpu.device == "cpu"
    with pytest.raises(NotImplementedError, match="distributed"):
        tf.Session("grpc://localhost:2222")


def test_device_strings_are_accepted_and_bad_ones_refused():
    with tf.device("/cpu:0"), tf.device("/device:GPU:1"), tf.device(None):
        y = tf.constant(3.0) * 2.0
    assert _run(y) == 6.0
    with tf.device("/job:localhost/replica:0/task:0/device:XLA_CPU:0"):
        z = y + 1.0
    assert z.op.device == "/job:localhost/replica:0/task:0/device:XLA_CPU:0"  # recorded, soft
    assert _run(z) == 7.0
    with pytest.raises(ValueError, match="cannot parse"):
        with tf.device("my gpu"):
            pass


def test_no_op_switches_and_seed():
    tf.disable_v2_behavior()
    tf.disable_eager_execution()
    assert tf.executing_eagerly() is False
    draws = []
    for _ in range(2):
        with tf.Graph().as_default():
            tf.set_random_seed(7)
            draws.append(_run(tf.random_uniform([3])))
    assert np.array_equal(draws[0], draws[1])


def test_gradients_hessians_and_scoped_variable_lists():
    with tf.variable_scope("a"):
        w = tf.get_variable("w", [], initializer=tf.constant_initializer(3.0))
    v = tf.Variable(2.0, name="v")
    x = tf.placeholder(tf.float32)
    (grad,) = tf.gradients(w * w * x, [w])
    (unconnected,) = tf.gradients(w * x, [v], unconnected_gradients=tf.UnconnectedGradients.ZERO)
    assert tf.global_variables("a") == [w] and set(tf.trainable_variables()) == {w, v}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run([grad, unconnected], {x: 2.0}) == [12.0, 0.0]


def test_logging_calls():
    tf.logging.set_verbosity(tf.logging.INFO)
    assert tf.logging.get_verbosity() == tf.logging.INFO
    tf.logging.info("step %d", 1)
