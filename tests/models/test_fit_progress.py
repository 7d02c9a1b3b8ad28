"""fit's chunked epochs: progress bars, per-batch callbacks, NaN location, one program."""
import io

import numpy as np
import pytest

import graphnn as gn
from graphnn import layers
from graphnn.models import fitting, progress


@pytest.fixture(autouse=True)
def seeded(fresh_default_graph):
    gn.set_random_seed(0)


class Terminal(io.StringIO):
    """Output that says it is a terminal, as sys.stdout does in a console."""

    def isatty(self):
        return True


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int32)


def model():
    net = gn.models.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                                layers.Dense(2, activation="softmax")])
    net.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return net


def test_chunks_are_equal_divisions_of_the_epoch():
    assert fitting.chunk_length(12, chunked=False) == 12
    assert fitting.chunk_length(12, chunked=True) == 1
    assert fitting.chunk_length(1875, chunked=True) == 125   # 15 chunks
    assert fitting.chunk_length(40, chunked=True) == 2       # 20 chunks
    assert fitting.chunk_length(23, chunked=True) == 23      # a prime: one chunk


def test_a_terminal_gets_a_bar_per_epoch_that_advances_per_chunk_with_one_program():
    pytest.importorskip("tqdm", reason="tqdm (the progress extra) is not installed")
    x, y = data()
    net = model()
    out = Terminal()
    net.fit(x, y, batch_size=16, epochs=1, verbose=1, file=out)   # 4 batches: 4 chunks
    compiled = net.session.compilation_count
    net.fit(x, y, batch_size=16, epochs=3, verbose=1, file=out)
    assert net.session.compilation_count == compiled  # every chunk of every epoch: one program
    text = out.getvalue()
    assert "\r" in text and "Epoch 1/3" in text and "Epoch 3/3" in text
    assert "4/4" in text and "loss: " in text
    for done in ("1/4", "2/4", "3/4"):
        assert done in text


def test_chunked_and_whole_epochs_train_the_same():
    x, y = data()
    whole, chunked = model(), model()
    chunked.set_weights(whole.get_weights())
    a = whole.fit(x, y, batch_size=16, epochs=2, verbose=0)
    b = chunked.fit(x, y, batch_size=16, epochs=2, verbose=1, file=Terminal())
    for u, v in zip(whole.get_weights(), chunked.get_weights()):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e-5)


def test_without_tqdm_or_a_terminal_one_line_per_epoch(monkeypatch):
    x, y = data()
    net = model()
    for out, verbose in ((io.StringIO(), 1), (Terminal(), 2)):
        net.fit(x, y, batch_size=16, epochs=2, verbose=verbose, file=out)
        lines = out.getvalue().splitlines()
        assert "\r" not in out.getvalue() and len(lines) == 2
        assert lines[1].startswith("Epoch 2/2 - loss: ") and " - accuracy: " in lines[1]
    monkeypatch.setattr(progress, "tqdm_std", None)
    out = Terminal()
    net.fit(x, y, batch_size=16, epochs=2, verbose=1, file=out)
    assert "\r" not in out.getvalue() and len(out.getvalue().splitlines()) == 2


def test_batch_callbacks_see_every_batch_with_running_means():
    x, y = data(n=60)
    net = model()
    seen = []

    class Recorder(gn.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(("begin", batch))

        def on_train_batch_end(self, batch, logs=None):
            seen.append(("end", batch, logs["loss"], logs["accuracy"]))

    old_style = []
    hooks = gn.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: old_style.append(batch))
    history = net.fit(x, y, batch_size=16, epochs=2, callbacks=[Recorder(), hooks], verbose=0)
    assert [s[:2] for s in seen[:4]] == [("begin", 0), ("end", 0), ("begin", 1), ("end", 1)]
    ends = [s for s in seen if s[0] == "end"]
    assert [s[1] for s in ends] == [0, 1, 2, 3] * 2 and old_style == [0, 1, 2, 3] * 2
    assert ends[3][2] == pytest.approx(history.history["loss"][0], rel=1e-6)
    assert ends[7][3] == pytest.approx(history.history["accuracy"][1])


def test_stop_training_from_a_batch_callback_ends_fit_after_the_chunk():
    x, y = data()
    net = model()
    batches = []

    def stop(batch, logs):
        batches.append(batch)
        if batch == 1:
            net.stop_training = True

    history = net.fit(x, y, batch_size=16, epochs=3, verbose=1, file=Terminal(),
                      callbacks=[gn.callbacks.LambdaCallback(on_batch_end=stop)])
    assert batches == [0, 1] and history.epoch == [0] and net.epochs_trained == 1


def test_a_nan_in_a_chunk_names_its_epoch_and_batch_and_restores_the_optimizer_state():
    x, y = data()
    net = model()
    snapshot = []

    def poison(epoch, logs):
        if epoch == 0:
            graph = net._training_graph("test")
            snapshot.extend(net.session.run(net.weights + graph.optimizer_variables))
            x[37, 1] = np.inf  # batch 3 (samples 32-47) of epoch 2: no shuffling

    with pytest.raises(FloatingPointError, match="epoch 2, batch 3 of 4.*end of epoch 1"):
        net.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=1, file=Terminal(),
                callbacks=[gn.callbacks.LambdaCallback(on_epoch_end=poison)])
    graph = net._training_graph("test")
    for a, b in zip(snapshot, net.session.run(net.weights + graph.optimizer_variables)):
        np.testing.assert_array_equal(a, b)


class NotebookStream(io.StringIO):
    """Stands for ipykernel's output stream: no terminal, yet a notebook redraws bars."""


NotebookStream.__module__ = "ipykernel.iostream"


def test_a_notebook_gets_tqdm_widgets_or_else_plain_lines():
    try:
        import ipywidgets  # noqa: F401  (tqdm's notebook bar needs it)
        from tqdm.notebook import tqdm as expected
    except ImportError:
        expected = None
    assert progress.bar_class(NotebookStream(), verbose=1) is expected
    assert progress.bar_class(NotebookStream(), verbose=2) is None
    if expected is None:
        x, y = data()
        out = NotebookStream()
        model().fit(x, y, batch_size=16, epochs=2, verbose=1, file=out)
        assert "\r" not in out.getvalue() and len(out.getvalue().splitlines()) == 2
