"""ModelCheckpoint: Keras's filepath fields, save_best_only, modes, weights only."""
import os

import numpy as np
import pytest

import graphnn as gn
from graphnn import layers


@pytest.fixture(autouse=True)
def seeded(fresh_default_graph):
    gn.set_random_seed(0)


def noisy_fit(callbacks, epochs=6):
    """A model that memorizes noise, so its val_loss falls and then rises."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 4)).astype(np.float32)
    y = rng.integers(0, 3, 24)
    x_val = rng.normal(size=(60, 4)).astype(np.float32)
    y_val = rng.integers(0, 3, 60)
    model = gn.models.Sequential([layers.Dense(64, activation="relu", input_shape=(4,)),
                                  layers.Dense(3, activation="softmax")])
    model.compile(gn.train.AdamOptimizer(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    weights = []
    record = gn.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: weights.append(
        model.get_weights()))
    history = model.fit(x, y, epochs=epochs, batch_size=8, validation_data=(x_val, y_val),
                        callbacks=[record, *callbacks], verbose=0)
    return model, history, weights, (x_val, y_val)


def test_every_epoch_is_saved_under_its_formatted_name(tmp_path):
    path = str(tmp_path / "model-{epoch:02d}-{val_loss:.2f}")
    model, history, _, (x_val, _) = noisy_fit([gn.callbacks.ModelCheckpoint(path)], epochs=3)
    expected = sorted(f"model-{e + 1:02d}-{v:.2f}" for e, v in
                      enumerate(history.history["val_loss"]))
    assert sorted(os.listdir(tmp_path)) == expected
    with gn.Graph().as_default():
        last = gn.models.load_model(str(tmp_path / expected[-1]))
        np.testing.assert_array_equal(last.predict(x_val), model.predict(x_val))
        assert last.epochs_trained == 3


def test_save_best_only_keeps_the_best_epoch(tmp_path, capsys):
    best = gn.callbacks.ModelCheckpoint(str(tmp_path / "best"), save_best_only=True, verbose=1)
    model, history, weights, (x_val, y_val) = noisy_fit([best])
    val_losses = history.history["val_loss"]
    assert best.best == min(val_losses)
    text = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from inf to" in text and "did not improve from" in text
    with gn.Graph().as_default():
        loaded = gn.models.load_model(str(tmp_path / "best"))
        for a, b in zip(weights[int(np.argmin(val_losses))], loaded.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert loaded.evaluate(x_val, y_val)[0] == pytest.approx(min(val_losses), rel=1e-5)


def test_mode_max_for_accuracies_and_weights_only(tmp_path):
    path = str(tmp_path / "weights-{epoch}")
    best = gn.callbacks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True,
                                        save_weights_only=True)
    model, history, weights, _ = noisy_fit([best])
    accuracies = history.history["val_accuracy"]
    assert best.best == max(accuracies)
    improved = [e for e in range(len(accuracies)) if accuracies[e] > max(accuracies[:e], default=-1)]
    saved = sorted({int(name.split("-")[1].split(".")[0]) for name in os.listdir(tmp_path)
                    if name.startswith("weights-")})
    assert saved == [e + 1 for e in improved]
    model.load_weights(path.format(epoch=improved[-1] + 1))
    for a, b in zip(weights[improved[-1]], model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bad_checkpoint_arguments_are_clear(tmp_path):
    with pytest.raises(ValueError, match="save_freq must be 'epoch'"):
        gn.callbacks.ModelCheckpoint(str(tmp_path / "m"), save_freq=10)
    with pytest.warns(UserWarning, match="fallback to auto"):
        gn.callbacks.ModelCheckpoint(str(tmp_path / "m"), mode="best")
    with pytest.raises(KeyError, match="names 'val_auc', which is not in the epoch's logs"):
        noisy_fit([gn.callbacks.ModelCheckpoint(str(tmp_path / "m-{val_auc}"))], epochs=1)
    with pytest.warns(UserWarning, match="only with val_auc available"):
        noisy_fit([gn.callbacks.ModelCheckpoint(str(tmp_path / "m"), monitor="val_auc",
                                                save_best_only=True)], epochs=1)
