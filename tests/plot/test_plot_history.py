"""gn.plot.history: train vs validation curves per metric, best validation epoch marked."""
import sys

import matplotlib
import numpy as np
import pytest

import graphnn as gn

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after choosing the headless backend)

CURVES = {"loss": [1.0, 0.6, 0.4, 0.3, 0.25], "accuracy": [0.5, 0.7, 0.8, 0.85, 0.9],
          "val_loss": [1.1, 0.7, 0.5, 0.55, 0.7], "val_accuracy": [0.4, 0.6, 0.8, 0.8, 0.75]}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_one_subplot_per_metric_with_training_and_validation_curves():
    fig = gn.plot.history(CURVES)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    loss = _lines(fig.axes[0])
    assert list(loss["training"].get_xdata()) == [1, 2, 3, 4, 5]
    assert list(loss["training"].get_ydata()) == CURVES["loss"]
    assert list(loss["validation"].get_ydata()) == CURVES["val_loss"]
    accuracy = _lines(fig.axes[1])
    assert list(accuracy["validation"].get_ydata()) == CURVES["val_accuracy"]
    assert fig.axes[0].get_xlabel() == "epoch"


def test_best_validation_epoch_is_lowest_loss_and_highest_accuracy():
    fig = gn.plot.history(CURVES)
    loss, accuracy = (_lines(ax) for ax in fig.axes)
    best_loss = loss["best val_loss: 0.5 (epoch 3)"]
    assert (list(best_loss.get_xdata()), list(best_loss.get_ydata())) == ([3], [0.5])
    # Ties keep the first epoch, as EarlyStopping counts only strict improvements.
    best_accuracy = accuracy["best val_accuracy: 0.8 (epoch 3)"]
    assert list(best_accuracy.get_xdata()) == [3]
    vertical = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "--"]
    assert [list(line.get_xdata()) for line in vertical] == [[3, 3]]
    legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert legend == ["training", "validation", "best val_loss: 0.5 (epoch 3)"]


def test_metrics_choose_and_order_the_subplots():
    fig = gn.plot.history(CURVES, metrics="val_accuracy")
    assert [ax.get_title() for ax in fig.axes] == ["accuracy"]
    fig = gn.plot.history(CURVES, metrics=["accuracy", "loss"])
    assert [ax.get_title() for ax in fig.axes] == ["accuracy", "loss"]


def test_draws_into_given_axes():
    fig, axes = plt.subplots(2, 1)
    assert gn.plot.history(CURVES, ax=axes) is fig
    assert list(_lines(axes[1])["training"].get_ydata()) == CURVES["accuracy"]
    fig, single = plt.subplots()
    assert gn.plot.history(CURVES, metrics="loss", ax=single) is fig
    assert single.get_title() == "loss"


def test_without_validation_draws_training_only_and_skips_non_finite_best():
    fig = gn.plot.history({"loss": [3.0, 2.0]})
    assert set(_lines(fig.axes[0])) == {"training"}
    fig = gn.plot.history({"loss": [3.0, np.nan], "val_loss": [np.nan, np.inf]})
    assert set(_lines(fig.axes[0])) == {"training", "validation"}


def test_plots_what_fit_returns():
    x = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    model = gn.models.Sequential([gn.layers.Dense(2, input_shape=(3,))])
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0)
    for source in (history, history.history, model):
        fig = gn.plot.history(source)
        assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
        validation = _lines(fig.axes[0])["validation"].get_ydata()
        np.testing.assert_allclose(validation, history.history["val_loss"])


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="no metric 'auc'.*loss, accuracy"):
        gn.plot.history(CURVES, metrics=["auc"])
    with pytest.raises(ValueError, match="no epochs"):
        gn.plot.history({"loss": []})
    with pytest.raises(ValueError, match="1 Axes for 2 metrics"):
        gn.plot.history(CURVES, ax=plt.subplots()[1])
    with pytest.raises(TypeError, match="History"):
        gn.plot.history([0.1, 0.2])


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "graphnn\[plot\]"'):
        gn.plot.history(CURVES)
