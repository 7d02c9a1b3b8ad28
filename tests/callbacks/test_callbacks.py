"""EarlyStopping (Keras's semantics), History and LambdaCallback."""
import numpy as np
import pytest

import graphnn as gn
from graphnn import layers


@pytest.fixture(autouse=True)
def seeded(fresh_default_graph):
    """Seeded initial weights and dropout, so each run of a test is the same run."""
    gn.set_random_seed(0)


class FakeModel:
    """Weights are the epoch number, so restoring shows which epoch's weights came back."""

    def __init__(self):
        self.stop_training = False
        self.weights = [np.array(-1.0)]

    def get_weights(self):
        return list(self.weights)

    def set_weights(self, values):
        self.weights = list(values)


def run_epochs(callback, values, monitor="val_loss"):
    """Feeds ``values`` of ``monitor`` to ``callback`` as fit would; returns epochs run."""
    model = FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    ran = 0
    for epoch, value in enumerate(values):
        model.weights = [np.array(float(epoch))]
        callback.on_epoch_end(epoch, {monitor: value})
        ran += 1
        if model.stop_training:
            break
    callback.on_train_end()
    return ran, model


def test_early_stopping_waits_patience_epochs_after_the_best():
    stop = gn.callbacks.EarlyStopping(patience=2)
    ran, _ = run_epochs(stop, [1.0, 0.8, 0.9, 0.85, 0.7, 0.6])
    assert ran == 4 and stop.stopped_epoch == 3 and stop.best == 0.8 and stop.best_epoch == 1
    assert run_epochs(gn.callbacks.EarlyStopping(patience=0), [1.0, 1.1, 0.5])[0] == 2


def test_early_stopping_min_delta_mode_and_baseline():
    # an improvement must beat the best by more than min_delta
    values = [1.0, 0.85, 0.80, 0.5]
    assert run_epochs(gn.callbacks.EarlyStopping(min_delta=0.1, patience=1), values)[0] == 3
    assert run_epochs(gn.callbacks.EarlyStopping(patience=1), values)[0] == 4
    # accuracies are maximized in "auto" mode
    ran, _ = run_epochs(gn.callbacks.EarlyStopping(monitor="val_accuracy", patience=1),
                        [0.5, 0.6, 0.7, 0.65, 0.6], monitor="val_accuracy")
    assert ran == 4
    ran, _ = run_epochs(gn.callbacks.EarlyStopping(monitor="val_accuracy", mode="min",
                                                   patience=1), [0.5, 0.6, 0.7],
                        monitor="val_accuracy")
    assert ran == 3 - 1
    # an epoch that does not beat the baseline does not restart the wait
    values = [1.0, 1.2, 1.3, 0.4]
    assert run_epochs(gn.callbacks.EarlyStopping(baseline=0.5, patience=2), values)[0] == 2
    assert run_epochs(gn.callbacks.EarlyStopping(patience=2), values)[0] == 3
    with pytest.warns(UserWarning, match="fallback to auto"):
        gn.callbacks.EarlyStopping(mode="up")


def test_early_stopping_restores_the_weights_of_the_best_epoch():
    stop = gn.callbacks.EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    ran, model = run_epochs(stop, [1.0, 0.5, 0.7, 0.9, 0.1])
    assert ran == 4 and model.weights == [1.0]
    _, model = run_epochs(gn.callbacks.EarlyStopping(patience=5, restore_best_weights=True),
                          [1.0, 0.5, 0.7])
    assert model.weights == [1.0]  # also when training ran to the end
    with pytest.warns(UserWarning, match="`val_loss` which is not available"):
        run_epochs(gn.callbacks.EarlyStopping(), [1.0], monitor="loss")


def test_early_stopping_stops_an_overfitting_fit_and_restores_the_best_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 4)).astype(np.float32)
    y = rng.integers(0, 3, 24)           # noise: the model can only memorize it
    x_val = rng.normal(size=(60, 4)).astype(np.float32)
    y_val = rng.integers(0, 3, 60)
    model = gn.models.Sequential([layers.Dense(64, activation="relu", input_shape=(4,)),
                                  layers.Dense(3, activation="softmax")])
    model.compile(gn.train.AdamOptimizer(0.05), loss="sparse_categorical_crossentropy")
    weights_by_epoch = []
    record = gn.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: weights_by_epoch.append(model.get_weights()))
    stop = gn.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    history = model.fit(x, y, epochs=100, batch_size=8, validation_data=(x_val, y_val),
                        callbacks=[record, stop], verbose=0)
    val_losses = history.history["val_loss"]
    assert len(val_losses) < 100 and stop.stopped_epoch == len(val_losses) - 1
    assert history.history["loss"][-1] < history.history["loss"][0]  # training kept improving
    best = int(np.argmin(val_losses))
    assert stop.best_epoch == best and stop.stopped_epoch == best + 3
    for a, b in zip(weights_by_epoch[best], model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.evaluate(x_val, y_val) == pytest.approx(val_losses[best], rel=1e-5)


def test_history_and_lambda_callback_see_every_epoch():
    model = gn.models.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", loss="mse")
    seen = []
    hooks = gn.callbacks.LambdaCallback(
        on_train_begin=lambda logs: seen.append("begin"),
        on_epoch_begin=lambda epoch, logs: seen.append(f"start {epoch}"),
        on_epoch_end=lambda epoch, logs: seen.append(f"end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: seen.append("end"))
    x = np.ones((4, 2), np.float32)
    history = model.fit(x, np.ones(4), epochs=2, callbacks=[hooks], verbose=0)
    assert seen == ["begin", "start 0", "end 0 ['loss']", "start 1", "end 1 ['loss']", "end"]
    assert history is model.history and history.epoch == [0, 1]
    assert isinstance(history, gn.callbacks.History) and history.params["epochs"] == 2


def test_early_stopping_restores_the_best_weights_of_a_functional_model():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(24, 4)).astype(np.float32)
    y = rng.integers(0, 3, 24)
    x_val = rng.normal(size=(60, 4)).astype(np.float32)
    y_val = rng.integers(0, 3, 60)
    inputs = layers.Input((4,))
    hidden = layers.Concatenate()([layers.Dense(32, activation="relu")(inputs),
                                   layers.Dense(32, activation="tanh")(inputs)])
    model = gn.models.Model(inputs, layers.Dense(3, activation="softmax")(hidden))
    model.compile(gn.train.AdamOptimizer(0.05), loss="sparse_categorical_crossentropy")
    stop = gn.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=100, batch_size=8, validation_data=(x_val, y_val),
                        callbacks=[stop], verbose=0)
    val_losses = history.history["val_loss"]
    assert len(val_losses) < 100 and stop.best_epoch == int(np.argmin(val_losses))
    assert model.evaluate(x_val, y_val) == pytest.approx(min(val_losses), rel=1e-5)


def test_evaluate_and_predict_call_keras_test_and_predict_hooks():
    model = gn.models.Sequential([layers.Dense(2, activation="softmax", input_shape=(3,))])
    model.compile("sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    seen = []

    class Recorder(gn.callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            seen.append(("test", batch, round(logs["loss"], 6)))

        def on_test_end(self, logs=None):
            seen.append(("test end", round(logs["loss"], 6)))

        def on_predict_batch_end(self, batch, logs=None):
            seen.append(("predict", batch, logs["outputs"].shape))

        def on_predict_end(self, logs=None):
            seen.append("predict end")

    loss = model.evaluate(x, y, batch_size=4, callbacks=[Recorder()])[0]
    assert [s[:2] for s in seen[:3]] == [("test", 0), ("test", 1), ("test", 2)]
    assert seen[2][2] == seen[3][1] == round(loss, 6)
    seen.clear()
    model.predict(x, batch_size=4, callbacks=[Recorder()])
    assert seen == [("predict", 0, (4, 2)), ("predict", 1, (4, 2)), ("predict", 2, (2, 2)),
                    "predict end"]
    seen.clear()
    history = model.fit(x, y, batch_size=4, epochs=1, validation_data=(x, y), verbose=0,
                        callbacks=[Recorder()])
    assert seen[-1] == ("test end", round(history.history["val_loss"][0], 6))
