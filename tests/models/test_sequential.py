"""Sequential: compile/fit/evaluate/predict/summary with DESIGN §5's semantics."""
import io

import numpy as np
import pytest

import graphnn as gn
from graphnn import layers
from graphnn.models import data


@pytest.fixture(autouse=True)
def seeded(fresh_default_graph):
    """Seeded initial weights and dropout, so each run of a test is the same run."""
    gn.set_random_seed(0)


def separable(n=150, seed=0, sort=True):
    """Three well-separated Gaussian classes in 4-D, sorted by class like Iris."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n // 3) if sort else rng.integers(0, 3, n)
    x = rng.normal(size=(len(y), 4)) + 4.0 * np.eye(3, 4)[y]
    return x.astype(np.float32), y.astype(np.int32)


def classifier(units=16, output_activation="softmax"):
    return gn.models.Sequential([layers.Dense(units, activation="relu", input_shape=(4,)),
                                 layers.Dense(3, activation=output_activation)])


def test_dense_softmax_reaches_high_accuracy_with_a_stratified_validation_split():
    x, y = separable()
    model = classifier()
    model.compile(gn.train.AdamOptimizer(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=16, validation_split=0.2, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 15 for v in history.history.values()) and history.epoch == list(range(15))
    assert history.history["val_accuracy"][-1] >= 0.95
    x_test, y_test = separable(seed=1)
    loss, accuracy = model.evaluate(x_test, y_test)
    assert accuracy >= 0.95 and loss < history.history["loss"][0]
    predictions = model.predict(x_test, batch_size=64)
    assert predictions.shape == (150, 3)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    assert np.mean(predictions.argmax(1) == y_test) == pytest.approx(accuracy)


def test_validation_split_is_seeded_and_stratified():
    _, y = separable(sort=True)
    loss = gn.models.losses.get("sparse_categorical_crossentropy")
    train, held = gn.models.data.validation_split_indices(y, 0.2, loss, seed=0)
    assert np.bincount(y[held]).tolist() == [10, 10, 10]
    assert sorted(np.concatenate([train, held]).tolist()) == list(range(150))
    again = gn.models.data.validation_split_indices(y, 0.2, loss, seed=0)[1]
    np.testing.assert_array_equal(held, again)


def test_padded_last_batch_gives_the_full_data_mean_and_epochs_do_not_recompile():
    x, y = separable(n=51)
    model = classifier()
    model.compile(gn.train.GradientDescentOptimizer(0.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    full = model.evaluate(x, y, batch_size=51, return_dict=True)
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # 16 + 16 + 16 + 3 padded
    assert history.history["loss"][0] == pytest.approx(full["loss"], rel=1e-5)
    assert history.history["accuracy"][0] == pytest.approx(full["accuracy"])
    compiled = model.session.compilation_count
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert model.session.compilation_count == compiled


def test_val_loss_is_what_evaluate_computes_in_inference_mode():
    x, y = separable(n=60, sort=False)
    x_val, y_val = separable(n=30, seed=2, sort=False)
    model = gn.models.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                                  layers.BatchNormalization(), layers.Dropout(0.5),
                                  layers.Dense(3, activation="softmax")])
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=8, epochs=2, validation_data=(x_val, y_val), verbose=0)
    val = model.evaluate(x_val, y_val, return_dict=True)
    assert history.history["val_loss"][-1] == pytest.approx(val["loss"], rel=1e-5)
    assert history.history["val_accuracy"][-1] == pytest.approx(val["accuracy"])
    assert model.evaluate(x_val, y_val) == model.evaluate(x_val, y_val)  # no dropout noise
    moving_mean = model.layers[1].moving_mean
    assert np.any(model.session.run(moving_mean) != 0)  # fit ran the BN updates


def test_verbose_writes_one_line_per_epoch_without_carriage_returns():
    x, y = separable(n=30)
    model = classifier()
    model.compile("sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    out = io.StringIO()
    model.fit(x, y, epochs=2, validation_split=0.2, verbose=1, file=out)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and len(lines) == 2
    assert lines[0].startswith("Epoch 1/2 - loss: ") and " - accuracy: " in lines[0]
    assert " - val_loss: " in lines[1] and " - val_accuracy: " in lines[1]
    silent = io.StringIO()
    model.fit(x, y, epochs=1, verbose=0, file=silent)
    assert silent.getvalue() == ""


def test_summary_before_fit_when_the_input_shape_is_known(capsys):
    model = classifier()
    model.summary()
    text = capsys.readouterr().out
    assert 'Model: "sequential"' in text
    assert " dense (Dense)" in text and "(None, 16)" in text and "80" in text
    assert "(None, 3)" in text and "51" in text
    assert "Total params: 131" in text and "Trainable params: 131" in text
    unknown = gn.models.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="has not been built yet"):
        unknown.summary()
    with_input = gn.models.Sequential([layers.Input((4,)), layers.Dense(2),
                                       layers.BatchNormalization()])
    with_input.summary()
    assert "Non-trainable params: 4" in capsys.readouterr().out


def test_a_sequential_model_as_a_callable_in_a_hand_written_loop(sess):
    x_data, y_data = separable(n=90, sort=False)
    model = classifier(output_activation=None)
    x = gn.placeholder(gn.float32, [None, 4], name="x")
    y = gn.placeholder(gn.int32, [None], name="y")
    logits = model(x)
    loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = gn.train.AdamOptimizer(0.05).minimize(loss, var_list=model.trainable_variables)
    assert len(model.trainable_variables) == 4
    sess.run(gn.global_variables_initializer())
    first = sess.run(loss, {x: x_data, y: y_data})
    sess.run_loop(train, {x: np.stack([x_data] * 30), y: np.stack([y_data] * 30)})
    assert sess.run(loss, {x: x_data, y: y_data}) < 0.5 * first


@pytest.mark.parametrize("loss, activation, labels, stable_op", [
    ("sparse_categorical_crossentropy", "softmax", "sparse", "SparseSoftmaxCrossEntropyWithLogits"),
    ("categorical_crossentropy", "softmax", "one_hot", "SoftmaxCrossEntropyWithLogits"),
])
def test_probability_losses_are_computed_from_the_softmax_logits(loss, activation, labels,
                                                                 stable_op):
    x, y = separable(n=30)
    model = classifier(output_activation=activation)
    model.compile("adam", loss=loss)
    targets = y if labels == "sparse" else np.eye(3, dtype=np.float32)[y]
    history = model.fit(x, targets, epochs=3, verbose=0)
    types = {op.type for op in model.graph.get_operations() if op.name.startswith("loss/")}
    assert stable_op in types and np.isfinite(history.history["loss"]).all()


def test_binary_and_regression_losses():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    binary = gn.models.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    binary.compile(gn.train.AdamOptimizer(0.1), loss="binary_crossentropy", metrics=["accuracy"])
    history = binary.fit(x, y, epochs=20, verbose=0)
    assert history.history["accuracy"][-1] >= 0.9
    regression = gn.models.Sequential([layers.Dense(1, input_shape=(4,))])
    regression.compile(gn.train.AdamOptimizer(0.1), loss="mse", metrics=["mae"])
    history = regression.fit(x, 2.0 * x[:, 1] + 1.0, epochs=10, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert sorted(history.history) == ["loss", "mae"]


def test_bad_inputs_are_refused_before_any_step():
    x, y = separable(n=30)
    model = classifier()
    model.compile("adam", loss="sparse_categorical_crossentropy")
    before = model.get_weights()
    cases = [
        ((x, y[:-1]), "x and y need the same number of samples; x has 30"),
        ((x[:, :3], y), r"expects samples of shape \(4,\), but x has shape \(30, 3\)"),
        ((x, np.where(y == 2, 3, y)), r"integer labels in \[0, 3\).*sample 20 has label 3"),
        ((x, y - 1), r"sample 0 has label -1"),
        ((x, y + 0.5), r"integer labels"),
    ]
    for (xs, ys), message in cases:
        with pytest.raises(ValueError, match=message):
            model.fit(xs, ys, verbose=0)
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(x, y, validation_data=(x, y[:5]), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    uncompiled = classifier()
    with pytest.raises(RuntimeError, match="compile the model first"):
        uncompiled.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="Unknown loss 'crossentropy'"):
        model.compile("adam", loss="crossentropy")


def test_a_nan_loss_stops_fit_naming_the_epoch_and_batch_and_restores_weights():
    x, y = separable(n=64, sort=False)
    model = classifier()
    model.compile("sgd", loss="sparse_categorical_crossentropy")
    after_first_epoch = []

    def poison(epoch, logs):
        if epoch == 0:
            after_first_epoch.extend(model.get_weights())
            x[20, 2] = np.nan  # in batch 2 (samples 16-31) of the next epoch: no shuffling

    record = gn.callbacks.LambdaCallback(on_epoch_end=poison)
    with pytest.raises(FloatingPointError, match="epoch 2, batch 2 of 4.*end of epoch 1"):
        model.fit(x, y, batch_size=16, epochs=3, shuffle=False, callbacks=[record], verbose=0)
    for a, b in zip(after_first_epoch, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(model.history.history["loss"]) == 1


def test_iris_reaches_95_percent_test_accuracy():
    model_selection = pytest.importorskip(
        "sklearn.model_selection", reason="scikit-learn (the datasets extra) is not installed")
    x, y = gn.datasets.load_iris()
    x_train, x_test, y_train, y_test = model_selection.train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=0)
    model = classifier()
    model.compile(gn.train.AdamOptimizer(0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=60, batch_size=16, verbose=0)
    assert model.evaluate(x_test, y_test)[1] >= 0.95


def test_padded_batches_round_each_batch_up_to_a_multiple_of_the_replicas():
    x = np.arange(10)
    (batches,), weights = data.padded_batches([x], np.arange(10), batch_size=3, replicas=2)
    assert batches.shape == (4, 4) and weights.shape == (4, 4)
    # every sample once with weight 1, in order; the padding is order[0], order[1], ...
    np.testing.assert_array_equal(batches[weights > 0], x)
    np.testing.assert_array_equal(weights.sum(axis=1), [3, 3, 3, 1])
    np.testing.assert_array_equal(batches[weights == 0], [0, 1, 2, 3, 4, 5])
    (plain,), plain_weights = data.padded_batches([x], np.arange(10), batch_size=4)
    np.testing.assert_array_equal(plain, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 1]])
    np.testing.assert_array_equal(plain_weights[-1], [1, 1, 0, 0])
