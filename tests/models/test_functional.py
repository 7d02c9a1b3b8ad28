"""The functional gn.models.Model(inputs, outputs): structure, training, calling, errors."""
import gc
import weakref

import numpy as np
import pytest

import graphnn as gn
from graphnn import layers


@pytest.fixture(autouse=True)
def seeded(fresh_default_graph):
    gn.set_random_seed(0)


def separable(n=90, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 4)) + 4.0 * np.eye(3, 4)[y]
    return x.astype(np.float32), y.astype(np.int32)


def branching(dropout=0.0):
    x = layers.Input((4,))
    left = layers.Dense(8, activation="relu")(x)
    right = layers.Dense(8, activation="tanh")(x)
    joined = layers.Concatenate()([left, right])
    if dropout:
        joined = layers.Dropout(dropout)(joined)
    return gn.models.Model(x, layers.Dense(3, activation="softmax")(joined), name="branches")


def test_sequential_is_a_model_and_a_functional_model_is_one_too():
    assert issubclass(gn.models.Sequential, gn.models.Model)
    model = branching()
    assert isinstance(model, gn.models.Model) and model.name == "branches"
    assert [layer.name for layer in model.layers] == ["dense", "dense_1", "concatenate", "dense_2"]
    assert model.input.op.name == "input" and model.output.shape.as_list() == [None, 3]
    assert model.count_params() == 40 + 40 + 51


def test_summary_lists_layers_shapes_params_and_connections(capsys):
    branching().summary()
    text = capsys.readouterr().out
    assert 'Model: "branches"' in text and "Connected to" in text
    assert " input (InputLayer)" in text and "(None, 4)" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith(" ")}
    assert "(None, 16)" in lines["concatenate"] and lines["concatenate"].endswith("dense, dense_1")
    assert lines["dense_2"].split()[-2:] == ["51", "concatenate"]
    assert "Total params: 131" in text and "Trainable params: 131" in text


def test_a_functional_model_fits_evaluates_and_predicts():
    x, y = separable()
    model = branching(dropout=0.2)
    model.compile(gn.train.AdamOptimizer(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=16, validation_split=0.2, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    x_test, y_test = separable(seed=1)
    loss, accuracy = model.evaluate(x_test, y_test)
    assert accuracy >= 0.95 and loss < history.history["loss"][0]
    predictions = model.predict(x_test)
    assert predictions.shape == (90, 3)
    np.testing.assert_array_equal(predictions, model.predict(x_test))  # dropout off
    assert np.mean(predictions.argmax(1) == y_test) == pytest.approx(accuracy)


def test_several_inputs_take_x_as_a_list():
    rng = np.random.default_rng(0)
    a_data = rng.normal(size=(64, 3)).astype(np.float32)
    b_data = rng.normal(size=(64, 2)).astype(np.float32)
    target = a_data[:, :1] - 2.0 * b_data[:, 1:]
    a, b = layers.Input((3,), name="a"), layers.Input((2,), name="b")
    joined = layers.Concatenate()([layers.Dense(8)(a), layers.Dense(8)(b)])
    model = gn.models.Model([a, b], layers.Dense(1)(joined))
    model.compile(gn.train.AdamOptimizer(0.05), loss="mse")
    history = model.fit([a_data, b_data], target, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.05 * history.history["loss"][0]
    assert model.predict([a_data, b_data]).shape == (64, 1)
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"has 2 inputs \(a, b\); x must be a list of 2 arrays"):
        model.fit(a_data, target, verbose=0)
    with pytest.raises(ValueError, match="x\\[0\\] and x\\[1\\] need the same number of samples"):
        model.fit([a_data, b_data[:10]], target, verbose=0)
    with pytest.raises(ValueError, match=r"expects samples of shape \(2,\), but x\[1\] has shape"):
        model.predict([a_data, a_data])
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_a_shared_layer_is_one_layer_with_one_set_of_weights():
    x = layers.Input((4,))
    shared = layers.Dense(4, activation="tanh")
    y = layers.Add()([shared(x), shared(shared(x))])
    model = gn.models.Model(x, y)
    assert model.layers == [shared, model.layers[1]] and len(model.weights) == 2
    data = np.ones((2, 4), np.float32)
    kernel, bias = model.get_weights()
    once = np.tanh(data @ kernel + bias)
    np.testing.assert_allclose(model.predict(data), once + np.tanh(once @ kernel + bias),
                               rtol=1e-5)


def test_a_model_is_callable_on_other_tensors_and_trainable_by_hand(sess):
    x_data, y_data = separable()
    model = branching()
    features = gn.placeholder(gn.float32, [None, 4], name="features")
    labels = gn.placeholder(gn.int32, [None], name="labels")
    probabilities = model(features)
    loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=gn.log(probabilities)))
    train = gn.train.AdamOptimizer(0.05).minimize(loss, var_list=model.trainable_variables)
    sess.run(gn.global_variables_initializer())
    first = sess.run(loss, {features: x_data, labels: y_data})
    sess.run_loop(train, {features: np.stack([x_data] * 20), labels: np.stack([y_data] * 20)})
    assert sess.run(loss, {features: x_data, labels: y_data}) < 0.5 * first
    model.set_weights(sess.run(model.weights))  # the same variables, in the model's session
    np.testing.assert_allclose(model.predict(x_data), sess.run(probabilities, {features: x_data}),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="takes 1 input tensor"):
        model([features, features])


def test_batch_normalization_follows_the_training_switch_in_a_functional_model():
    x_data, y_data = separable(n=48)
    x = layers.Input((4,))
    normalization = layers.BatchNormalization()
    model = gn.models.Model(x, layers.Dense(3, activation="softmax")(normalization(x)))
    model.compile("adam", loss="sparse_categorical_crossentropy")
    model.fit(x_data, y_data, epochs=1, batch_size=16, verbose=0)
    assert np.any(model.session.run(normalization.moving_mean) != 0)
    assert model.evaluate(x_data, y_data) == model.evaluate(x_data, y_data)


def test_what_a_functional_model_cannot_be_built_from():
    x = layers.Input((4,))
    h = layers.Dense(4)(x)
    with pytest.raises(ValueError, match=r"'Relu.*:0'.* made by the op Relu .* not by a layer"):
        gn.models.Model(x, layers.Dense(2)(gn.nn.relu(h)))
    other = layers.Input((4,), name="other")
    with pytest.raises(ValueError, match="placeholder 'other:0'.* not among the model's inputs"):
        gn.models.Model(x, layers.Add()([h, layers.Dense(4)(other)]))
    with pytest.raises(ValueError, match="one output tensor"):
        gn.models.Model(x, [h, layers.Dense(2)(h)])
    with pytest.raises(ValueError, match="must be a placeholder"):
        gn.models.Model(h, layers.Dense(2)(h))
    with pytest.raises(TypeError, match="needs the input tensors"):
        gn.models.Model()
    with pytest.raises(TypeError, match="takes a list of Tensors"):
        layers.Concatenate()(h)
    with pytest.raises(TypeError, match="use the functional"):
        gn.models.Sequential([layers.Dense(2, input_shape=(3,)), layers.Add()])


def test_merge_layers_compute_what_they_say():
    a, b = layers.Input((3,)), layers.Input((3,))
    a_data = np.array([[1.0, -2.0, 3.0]], np.float32)
    b_data = np.array([[2.0, 5.0, -1.0]], np.float32)
    expected = {layers.Add: a_data + b_data, layers.Subtract: a_data - b_data,
                layers.Multiply: a_data * b_data, layers.Average: (a_data + b_data) / 2,
                layers.Maximum: np.maximum(a_data, b_data),
                layers.Minimum: np.minimum(a_data, b_data),
                layers.Concatenate: np.concatenate([a_data, b_data], 1)}
    for cls, value in expected.items():
        model = gn.models.Model([a, b], cls()([a, b]))
        np.testing.assert_allclose(model.predict([a_data, b_data]), value, rtol=1e-6)
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([a, b, a])


def test_iris_functional_reaches_95_percent_test_accuracy():
    model_selection = pytest.importorskip(
        "sklearn.model_selection", reason="scikit-learn (the datasets extra) is not installed")
    x, y = gn.datasets.load_iris()
    x_train, x_test, y_train, y_test = model_selection.train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=0)
    inputs = layers.Input((4,))
    outputs = layers.Dense(3, activation="softmax")(layers.Dense(16, activation="relu")(inputs))
    model = gn.models.Model(inputs, outputs)
    model.compile(gn.train.AdamOptimizer(0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=60, batch_size=16, verbose=0)
    assert model.evaluate(x_test, y_test)[1] >= 0.95


def test_recording_layer_calls_keeps_no_graph_alive():
    def build():
        graph = gn.Graph()
        with graph.as_default():
            x = layers.Input((3,))
            gn.models.Model(x, layers.Dense(2)(layers.Dropout(0.5)(x)))
        return weakref.ref(graph)

    dropped = build()
    gc.collect()
    assert dropped() is None
