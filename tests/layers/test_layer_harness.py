"""One generic harness (Keras's run_layer_test) run over every layer, plus what each layer adds."""
import numpy as np
import pytest

import graphnn as gn
from graphnn import layers


@pytest.fixture(autouse=True)
def seeded(fresh_default_graph):
    """Seeded initial weights and dropout, so each run of a test is the same run."""
    gn.set_random_seed(0)


def _without_name(config):
    return {k: v for k, v in config.items() if k != "name"}


def run_layer_test(layer, input_shape, expected_output_shape, trainable, non_trainable,
                   differs_in_training=False):
    """Builds ``layer`` on a placeholder and checks the layer contract end to end."""
    x = gn.placeholder(gn.float32, [None, *input_shape], name="x")
    outputs = layer(x)
    # build: variables exist, under the layer's own scope
    assert layer.built
    assert len(layer.trainable_variables) == trainable
    assert len(layer.non_trainable_variables) == non_trainable
    for variable in layer.weights:
        assert variable.op.name.startswith(layer.name + "/"), variable.op.name
    assert outputs.op.name.startswith(layer.name + "/") or outputs is x
    assert outputs.shape.as_list() == [None, *expected_output_shape]
    # the config makes a twin
    twin = type(layer)(**_without_name(layer.get_config()))
    assert _without_name(twin.get_config()) == _without_name(layer.get_config())
    # a second call shares the variables; a Tensor switches training at run time
    training = gn.placeholder_with_default(False, [], name="training")
    switched = layer(x, training=training)
    assert len(layer.weights) == trainable + non_trainable
    batch = np.random.default_rng(0).normal(size=(5, *input_shape)).astype(np.float32)
    loss = gn.reduce_mean(gn.square(switched - 1.0))
    train = (gn.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=layer.trainable_variables)
             if trainable else None)
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        inferred = sess.run(switched, {x: batch})
        trained_mode = sess.run(switched, {x: batch, training: True})
        assert inferred.shape == (5, *expected_output_shape)
        np.testing.assert_allclose(sess.run(outputs, {x: batch}), inferred, rtol=1e-6)
        assert (not np.allclose(inferred, trained_mode)) == differs_in_training
        if train is not None:
            before = sess.run(loss, {x: batch, training: True})
            weights_before = sess.run(layer.trainable_variables)
            for _ in range(3):
                sess.run(train, {x: batch, training: True})
            weights_after = sess.run(layer.trainable_variables)
            assert all(not np.array_equal(a, b) for a, b in zip(weights_before, weights_after))
            assert sess.run(loss, {x: batch, training: True}) < before
    return layer


@pytest.mark.parametrize("make, input_shape, output_shape, trainable, non_trainable, differs", [
    (lambda: layers.Dense(3), (4,), (3,), 2, 0, False),
    (lambda: layers.Dense(3, activation="relu", use_bias=False, kernel_initializer="he_normal",
                          kernel_regularizer="l2"), (4,), (3,), 1, 0, False),
    (lambda: layers.Dense(2, activation="tanh"), (3, 4), (3, 2), 2, 0, False),
    (lambda: layers.Dropout(0.5, seed=1), (4,), (4,), 0, 0, True),
    (lambda: layers.Flatten(), (2, 3), (6,), 0, 0, False),
    (lambda: layers.Activation("tanh"), (4,), (4,), 0, 0, False),
    (lambda: layers.Conv2D(2, 3, padding="same", activation="relu"), (6, 6, 1), (6, 6, 2), 2, 0,
     False),
    (lambda: layers.Conv2D(2, (3, 2), strides=2), (7, 6, 3), (3, 3, 2), 2, 0, False),
    (lambda: layers.MaxPool2D(2), (6, 6, 2), (3, 3, 2), 0, 0, False),
    (lambda: layers.BatchNormalization(), (4,), (4,), 2, 2, True),
    (lambda: layers.BatchNormalization(axis=1, center=False), (3, 5), (3, 5), 1, 2, True),
], ids=["dense", "dense-options", "dense-3d", "dropout", "flatten", "activation", "conv-same",
        "conv-strided", "maxpool", "batchnorm", "batchnorm-axis1"])
def test_layer_contract(make, input_shape, output_shape, trainable, non_trainable, differs):
    run_layer_test(make(), input_shape, output_shape, trainable, non_trainable, differs)


def test_layers_get_unique_scopes_and_dropout_is_identity_in_inference(sess):
    x = gn.placeholder(gn.float32, [None, 4], name="x")
    first, second = layers.Dense(2), layers.Dense(2)
    first(x), second(x)
    assert (first.name, second.name) == ("dense", "dense_1")
    assert [v.name for v in second.weights] == ["dense_1/kernel:0", "dense_1/bias:0"]
    values = np.arange(8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_array_equal(sess.run(layers.Dropout(0.9)(x), {x: values}), values)
    np.testing.assert_array_equal(sess.run(layers.Dropout(0.9)(x, training=False), {x: values}),
                                  values)
    dropped = sess.run(layers.Dropout(0.5, seed=3)(x, training=True), {x: np.ones((50, 4), "f")})
    assert set(np.unique(dropped)) == {0.0, 2.0}


def test_batch_normalization_statistics_and_update_ops(sess):
    x = gn.placeholder(gn.float32, [None, 2], name="x")
    bn = layers.BatchNormalization(momentum=0.9)
    normalized = bn(x, training=True)
    updates = gn.get_default_graph().get_collection(gn.GraphKeys.UPDATE_OPS)
    assert updates == bn.updates and len(updates) == 2
    loss = gn.reduce_sum(normalized * gn.constant([[1.0, 2.0]]))
    train = gn.train.GradientDescentOptimizer(0.0).minimize(loss)
    batch = np.array([[1.0, 10.0], [3.0, 30.0]], np.float32)
    sess.run(gn.global_variables_initializer())
    out = sess.run(normalized, {x: batch})
    np.testing.assert_allclose(out, [[-1, -1], [1, 1]], atol=1e-2)
    sess.run(train, {x: batch})  # minimize runs the moving-statistics updates
    np.testing.assert_allclose(sess.run(bn.moving_mean), [0.2, 2.0], rtol=1e-5)
    np.testing.assert_allclose(sess.run(bn.moving_variance), [0.9 + 0.1 * 1.0, 0.9 + 0.1 * 100.0],
                               rtol=1e-5)


def test_minimize_runs_only_the_update_ops_of_its_own_forward_pass(sess):
    a = gn.placeholder(gn.float32, [None, 2], name="a")
    bn_a, bn_b = layers.BatchNormalization(), layers.BatchNormalization()
    dense = layers.Dense(1)
    out_a = dense(bn_a(a, training=True))
    bn_b(a + 1.0, training=True)   # another model's statistics on the same input
    train = gn.train.GradientDescentOptimizer(0.1).minimize(
        gn.reduce_mean(out_a), var_list=bn_a.trainable_variables + dense.trainable_variables)
    sess.run(gn.global_variables_initializer())
    sess.run(train, {a: [[1.0, 2.0], [3.0, 4.0]]})
    assert np.all(sess.run(bn_a.moving_mean) != 0)
    np.testing.assert_array_equal(sess.run(bn_b.moving_mean), [0.0, 0.0])


def test_batch_normalization_with_a_training_tensor_updates_only_when_training(sess):
    x = gn.placeholder(gn.float32, [None, 1], name="x")
    training = gn.placeholder_with_default(False, [])
    bn = layers.BatchNormalization(momentum=0.5)
    loss = gn.reduce_sum(bn(x, training=training))
    train = gn.train.GradientDescentOptimizer(0.0).minimize(loss)
    sess.run(gn.global_variables_initializer())
    sess.run(train, {x: [[2.0], [4.0]]})
    np.testing.assert_array_equal(sess.run(bn.moving_mean), [0.0])
    sess.run(train, {x: [[2.0], [4.0]], training: True})
    np.testing.assert_allclose(sess.run(bn.moving_mean), [1.5])


def test_initializers_by_name_follow_keras_scales(sess):
    init = layers.initializers
    fan_in, fan_out = 400, 100
    values = sess.run({name: init.get(name)([fan_in, fan_out], gn.float32) for name in
                       ["glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "zeros",
                        "ones", "lecun_normal"]})
    assert np.abs(values["glorot_uniform"]).max() <= np.sqrt(6 / (fan_in + fan_out))
    np.testing.assert_allclose(values["glorot_uniform"].std(), np.sqrt(2 / (fan_in + fan_out)),
                               rtol=0.05)
    np.testing.assert_allclose(values["glorot_normal"].std(), np.sqrt(2 / (fan_in + fan_out)),
                               rtol=0.05)
    np.testing.assert_allclose(values["he_normal"].std(), np.sqrt(2 / fan_in), rtol=0.05)
    np.testing.assert_allclose(values["he_uniform"].std(), np.sqrt(2 / fan_in), rtol=0.05)
    np.testing.assert_allclose(values["lecun_normal"].std(), np.sqrt(1 / fan_in), rtol=0.05)
    assert not values["zeros"].any() and (values["ones"] == 1).all()
    assert init.compute_fans([3, 3, 8, 16]) == (72, 144)
    with pytest.raises(ValueError, match="Unknown initializer 'glorot'"):
        layers.Dense(2, kernel_initializer="glorot")


def test_regularizers_add_penalties_by_name_or_object(sess):
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    l2 = layers.Dense(2, kernel_regularizer="l2", kernel_initializer="ones")
    l1 = layers.Dense(2, kernel_regularizer=layers.regularizers.L1(0.5), kernel_initializer="ones")
    l2(x), l1(x)
    collected = gn.get_default_graph().get_collection(gn.GraphKeys.REGULARIZATION_LOSSES)
    assert collected == l2.losses + l1.losses
    sess.run(gn.global_variables_initializer())
    assert sess.run(l2.losses[0]) == pytest.approx(0.01 * 6)
    assert sess.run(l1.losses[0]) == pytest.approx(0.5 * 6)
    with pytest.raises(ValueError, match="Unknown regularizer"):
        layers.Dense(2, kernel_regularizer="l3")


def test_layer_errors_are_clear():
    x = gn.placeholder(gn.float32, [None, None], name="x")
    with pytest.raises(ValueError, match="Dense layer 'dense' needs inputs whose last dimension"):
        layers.Dense(2)(x)
    with pytest.raises(ValueError, match="training must be a scalar bool Tensor"):
        layers.Dropout(0.5)(gn.placeholder(gn.float32, [None, 2]), training=gn.constant(1.0))
    with pytest.raises(ValueError, match="Dropout rate must be in"):
        layers.Dropout(1.0)
    with pytest.raises(ValueError, match="Unknown activation 'relux'"):
        layers.Activation("relux")
    dense = layers.Dense(2)
    dense(gn.placeholder(gn.float32, [None, 3]))
    with gn.Graph().as_default():
        with pytest.raises(ValueError, match="another gn.Graph"):
            dense(gn.placeholder(gn.float32, [None, 3]))


def test_input_gives_a_batch_placeholder():
    x = layers.Input((28, 28, 1))
    assert x.shape.as_list() == [None, 28, 28, 1] and x.op.type == "Placeholder"


def test_layers_in_a_hand_written_training_loop(sess):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 120)
    data = (rng.normal(size=(120, 4)) + 3.0 * np.eye(3, 4)[labels]).astype(np.float32)
    x = gn.placeholder(gn.float32, [None, 4], name="x")
    y = gn.placeholder(gn.int32, [None], name="y")
    hidden = layers.Dense(16, activation="relu")
    output = layers.Dense(3)
    logits = output(hidden(x))
    loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = gn.train.AdamOptimizer(0.05).minimize(
        loss, var_list=hidden.trainable_variables + output.trainable_variables)
    accuracy = gn.reduce_mean(gn.cast(gn.equal(gn.argmax(logits, 1, output_type=gn.int32), y),
                                      gn.float32))
    sess.run(gn.global_variables_initializer())
    sess.run_loop(train, {x: np.stack([data] * 60), y: np.stack([labels] * 60)})
    assert sess.run(accuracy, {x: data, y: labels}) >= 0.95
