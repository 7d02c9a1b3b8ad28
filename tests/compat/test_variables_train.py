"""TF 1 variables, scopes with reuse, optimizers, Saver, summaries and tf.layers in compat.v1."""
import glob

import numpy as np
import pytest

import graphnn.compat.v1 as tf


def test_get_variable_in_scopes_with_reuse_and_auto_reuse():
    with tf.variable_scope("layer1"):
        w = tf.get_variable("W", [2, 3], initializer=tf.zeros_initializer())
        assert tf.get_variable_scope().name == "layer1"
        with tf.variable_scope("inner"):
            b = tf.get_variable("b", [3])
    assert w.op.name == "layer1/W" and b.op.name == "layer1/inner/b"
    with pytest.raises(ValueError, match="layer1/W already exists"):
        with tf.variable_scope("layer1"):
            tf.get_variable("W", [2, 3])
    with tf.variable_scope("layer1", reuse=True):
        assert tf.get_variable("W") is w
        with tf.variable_scope("inner"):  # reuse is inherited
            assert tf.get_variable("b") is b
        with pytest.raises(ValueError, match="does not exist"):
            tf.get_variable("missing", [1])
    with tf.variable_scope("layer1") as scope:
        scope.reuse_variables()
        assert tf.get_variable("W", [2, 3]) is w
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        first = tf.get_variable("v", [1])
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("v", [1]) is first
    with tf.variable_scope(None, default_name="dense"):
        d0 = tf.get_variable("k", [1])
    with tf.variable_scope(None, default_name="dense"):
        d1 = tf.get_variable("k", [1])
    assert (d0.op.name, d1.op.name) == ("dense/k", "dense_1/k")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(w).tolist() == [[0.0] * 3] * 2


def test_get_variable_initializers_dtypes_and_regularizers():
    with tf.variable_scope("s", initializer=tf.constant_initializer(0.5)):
        scoped = tf.get_variable("a", [2])
        glorot = tf.get_variable("g", [20, 30], initializer=tf.glorot_uniform_initializer())
        counter = tf.get_variable("n", [], dtype=tf.int32, initializer=tf.zeros_initializer())
        from_value = tf.get_variable("c", initializer=tf.constant([1.0, 2.0]))
        penalized = tf.get_variable("p", [2], initializer=tf.ones_initializer(),
                                    regularizer=lambda v: 3.0 * tf.reduce_sum(v))
    normal = tf.get_variable("normal", [2000], initializer=tf.random_normal_initializer(1.0, 2.0))
    (penalty,) = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([scoped, glorot, counter, from_value, penalty, normal])
    assert got[0].tolist() == [0.5, 0.5] and np.abs(got[1]).max() <= np.sqrt(6 / 50)
    assert got[2].dtype == np.int32 and got[3].tolist() == [1.0, 2.0] and got[4] == 6.0
    assert 0.8 < got[5].mean() < 1.2 and 1.8 < got[5].std() < 2.2
    with pytest.raises(ValueError, match="fully defined"):
        tf.get_variable("noshape")


def test_variable_signature_collections_and_assign_functions():
    w = tf.Variable(tf.zeros([2]), False, name="w")  # TF 1 order: trainable second
    local = tf.Variable(1.0, collections=[tf.GraphKeys.LOCAL_VARIABLES], name="local")
    assert isinstance(w, tf.Variable) and not w.trainable
    assert tf.global_variables() == [w] and tf.local_variables() == [local]
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        sess.run(tf.assign(w, [1.0, 2.0]))
        sess.run(tf.assign_add(w, [1.0, 1.0]))
        assert sess.run(tf.assign_sub(w, [0.5, 0.5])).tolist() == [1.5, 2.5]
        assert sess.run(local) == 1.0


@pytest.mark.parametrize("make", [
    lambda: tf.train.GradientDescentOptimizer(0.1, False, "GD"),
    lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    lambda: tf.train.AdamOptimizer(0.1, 0.9, 0.999, 1e-8, False, "A"),
    lambda: tf.train.RMSPropOptimizer(0.1, 0.9, 0.0, 1e-10),
    lambda: tf.train.AdagradOptimizer(0.5, 0.1)])
def test_optimizers_take_tf1_arguments_and_minimize(make):
    w = tf.Variable(5.0)
    loss = tf.square(w - 2.0)
    step = tf.train.get_or_create_global_step()
    train = make().minimize(loss, global_step=step, gate_gradients=1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(loss)
        for _ in range(5):
            sess.run(train)
        assert sess.run(loss) < before and tf.train.global_step(sess, step) == 5


def test_exponential_decay_follows_the_global_step():
    step = tf.Variable(0, trainable=False)
    rate = tf.train.exponential_decay(0.1, step, 10, 0.5, staircase=True)
    smooth = tf.train.exponential_decay(0.1, step, 10, 0.5)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(step, 15))
        np.testing.assert_allclose(sess.run([rate, smooth]), [0.05, 0.1 * 0.5 ** 1.5], rtol=1e-6)


def test_saver_round_trip_with_tf1_arguments(tmp_path):
    w = tf.Variable([1.0, 2.0], name="w")
    saver = tf.train.Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=3,
                          write_meta_graph=True)
        sess.run(tf.assign(w, [0.0, 0.0]))
        saver.restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
        assert path.endswith("model.ckpt-3") and sess.run(w).tolist() == [1.0, 2.0]


def test_summaries_through_file_writer(tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    x = tf.placeholder(tf.float32, [None])
    with tf.name_scope("Loss"):
        tf.summary.scalar("loss", tf.reduce_mean(x))
    tf.summary.histogram("W1:0/gradient", x)
    merged = tf.summary.merge_all()
    writer = tf.summary.FileWriter(str(tmp_path), graph=tf.get_default_graph())
    with tf.Session() as sess:
        for step in range(2):
            writer.add_summary(sess.run(merged, {x: [step, 3.0]}), step)
    writer.close()
    accumulator = event_accumulator.EventAccumulator(str(tmp_path))
    accumulator.Reload()
    assert sorted(accumulator.Tags()["scalars"]) == ["Loss/loss"]
    assert accumulator.Tags()["histograms"] == ["W1_0/gradient"]
    assert [e.value for e in accumulator.Scalars("Loss/loss")] == [1.5, 2.0]
    assert len(glob.glob(str(tmp_path / "events.out.tfevents.*"))) == 1


def test_layers_functions_build_gn_layers_and_reuse_by_name():
    x = tf.placeholder(tf.float32, [None, 4, 4, 1])
    h = tf.layers.conv2d(x, 2, 3, padding="same", activation=tf.nn.relu, name="conv")
    h = tf.layers.max_pooling2d(h, 2, 2)
    flat = tf.layers.flatten(h)
    logits = tf.layers.dense(flat, 3, name="out")
    again = tf.layers.dense(flat, 3, name="out", reuse=True)
    dropped = tf.layers.dropout(logits, rate=0.5)  # training=False by default: identity
    normalized = tf.layers.batch_normalization(logits, training=True)
    assert flat.get_shape().as_list() == [None, 8] and len(tf.trainable_variables()) == 6
    with pytest.raises(ValueError, match="cannot reuse"):
        tf.layers.dense(flat, 3, name="never", reuse=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b, c, n = sess.run([logits, again, dropped, normalized], {x: np.ones((2, 4, 4, 1))})
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert n.shape == (2, 3)
