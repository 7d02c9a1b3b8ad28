"""model.save / gn.models.load_model: same predictions, compile by name restored, no pickle."""
import numpy as np
import pytest

import graphnn as gn
from graphnn import layers


@pytest.fixture(autouse=True)
def seeded(fresh_default_graph):
    gn.set_random_seed(0)


def test_a_saved_and_loaded_model_predicts_identically(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    model = gn.models.Sequential([
        layers.Dense(8, activation="relu", input_shape=(4,), kernel_initializer="he_normal",
                     kernel_regularizer=layers.regularizers.L2(1e-3)),
        layers.BatchNormalization(), layers.Dropout(0.2),
        layers.Dense(2, activation="softmax")], name="saved")
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(str(tmp_path / "model"))
    with gn.Graph().as_default():
        loaded = gn.models.load_model(str(tmp_path / "model"))
        np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
        assert [type(layer).__name__ for layer in loaded.layers] == [
            "Dense", "BatchNormalization", "Dropout", "Dense"]
        assert loaded.name == "saved" and loaded.layers[0].kernel_regularizer.l2 == 1e-3
        assert loaded.evaluate(x, y) == pytest.approx(model.evaluate(x, y))
        history = loaded.fit(x, y, epochs=1, verbose=0)  # compiled by name: trains again
        assert sorted(history.history) == ["accuracy", "loss"]


def test_saving_refuses_what_it_cannot_write_without_pickle(tmp_path):
    custom = gn.models.Sequential([layers.Dense(2, activation=lambda t: t * 2.0,
                                                input_shape=(3,))])
    with pytest.raises(ValueError, match=r"Cannot save layer 'dense' \(activation\)"):
        custom.save(str(tmp_path / "custom"))
    with pytest.raises(ValueError, match="before it is built"):
        gn.models.Sequential([layers.Dense(2)]).save(str(tmp_path / "unbuilt"))
    with pytest.raises(FileNotFoundError, match="no saved model"):
        gn.models.load_model(str(tmp_path / "nothing"))


def branching_model():
    x = layers.Input((4,), name="features")
    left = layers.Dense(8, activation="relu")(x)
    right = layers.BatchNormalization()(layers.Dense(8, activation="tanh")(x))
    joined = layers.Dropout(0.1)(layers.Concatenate()([left, right]))
    return gn.models.Model(x, layers.Dense(2, activation="softmax")(joined), name="branches")


def test_a_functional_model_saved_and_loaded_predicts_identically(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    model = branching_model()
    model.compile(gn.train.MomentumOptimizer(0.05, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(str(tmp_path / "model"))
    model.summary()
    with gn.Graph().as_default():
        loaded = gn.models.load_model(str(tmp_path / "model"))
        assert type(loaded) is gn.models.Model and loaded.name == "branches"
        loaded.summary()
        original, again = capsys.readouterr().out.split('Model: "branches"')[1:]
        assert original == again  # same layers, names, shapes, connections
        np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
        assert loaded.input.op.name == "features" and loaded.epochs_trained == 2
        assert loaded.evaluate(x, y) == pytest.approx(model.evaluate(x, y))


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_fit_two_epochs_equals_fit_save_load_fit(tmp_path, optimizer):
    """The optimizer state (Adam's slots and powers) and the shuffling resume exactly."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int32)

    def build():
        inputs = layers.Input((4,))
        model = gn.models.Model(inputs, layers.Dense(2, activation="softmax")(
            layers.Dense(8, activation="relu")(inputs)))
        model.compile(optimizer, loss="sparse_categorical_crossentropy")
        return model

    straight = build()
    start = straight.get_weights()
    straight.fit(x, y, epochs=2, batch_size=8, verbose=0)
    with gn.Graph().as_default():
        gn.set_random_seed(0)
        first = build()
        first.set_weights(start)
        first.fit(x, y, epochs=1, batch_size=8, verbose=0)
        first.save(str(tmp_path / "after_one"))
    with gn.Graph().as_default():
        resumed = gn.models.load_model(str(tmp_path / "after_one"))
        resumed.fit(x, y, epochs=2, initial_epoch=1, batch_size=8, verbose=0)
        for a, b in zip(straight.get_weights(), resumed.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert resumed.epochs_trained == 2


def test_save_weights_and_load_weights(tmp_path):
    model = branching_model()
    model.save_weights(str(tmp_path / "weights"))
    with gn.Graph().as_default():
        gn.set_random_seed(1)
        twin = branching_model()
        assert not np.array_equal(twin.get_weights()[0], model.get_weights()[0])
        twin.load_weights(str(tmp_path / "weights"))
        for a, b in zip(model.get_weights(), twin.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_a_custom_optimizer_object_is_saved_by_its_arguments(tmp_path):
    model = gn.models.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile(gn.train.AdamOptimizer(0.123, beta1=0.8), loss="mse")
    model.save(str(tmp_path / "m"))
    with gn.Graph().as_default():
        loaded = gn.models.load_model(str(tmp_path / "m"))
        assert loaded._compiled["optimizer"].get_config() == {
            "learning_rate": 0.123, "beta1": 0.8, "beta2": 0.999, "epsilon": 1e-8, "name": "Adam"}
