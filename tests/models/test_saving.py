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
