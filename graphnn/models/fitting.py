"""``fit``'s epoch loop: chunks of batches in one compiled program, callbacks, NaN checks.

Each epoch's batches run through ``sess.run_loop``: the whole epoch as one XLA program,
or, when a progress bar is drawn, a few equal chunks of it (at most ``MAX_CHUNKS``;
the chunk length divides the step count, so every chunk of every epoch runs the same
compiled program). Padding a chunk with empty batches is not an option: an optimizer
step on an empty batch is not a no-op (Adam's moments and step count move).

Per-batch callbacks (``on_train_batch_begin`` / ``on_train_batch_end``) are called after
each chunk has run, in batch order, from the chunk's stacked per-step values; their
``logs`` hold the epoch's running means so far, as Keras's do. ``model.stop_training``
set by a batch callback takes effect after the current chunk. A non-finite loss is
located to its epoch and batch from the stacked values; the model's weights and
optimizer state go back to the end of the last finite epoch.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence, TextIO

import numpy as np

from graphnn.callbacks.callbacks import Callback, History
from graphnn.models import data
from graphnn.models.progress import EpochProgress, bar_class
from graphnn.models.training import TrainingGraph

MAX_CHUNKS = 20


def chunk_length(steps: int, chunked: bool) -> int:
    """Steps per ``run_loop`` call: all of them, or an equal share into at most MAX_CHUNKS."""
    if not chunked:
        return steps
    count = max(k for k in range(1, min(MAX_CHUNKS, steps) + 1) if steps % k == 0)
    return steps // count


def _overrides(callback: Callback, method: str) -> bool:
    """Whether ``callback`` does something in ``method`` (skipping idle batch hooks is cheap)."""
    return method in vars(callback) or getattr(type(callback), method) is not getattr(Callback,
                                                                                      method)


class EpochSums:
    """Running sample-weighted sums of one epoch, turned into Keras's logs."""

    def __init__(self) -> None:
        self.count = 0.0
        self.batches = 0
        self.loss_sum = 0.0
        self.regularization = 0.0
        self.metric_sums: dict[str, float] = {}

    def add(self, sums: dict, weights: np.ndarray, step: int) -> None:
        """Adds step ``step`` of a chunk's stacked ``sums`` (``weights``: that batch's)."""
        self.count += float(np.sum(weights))
        self.batches += 1
        self.loss_sum += float(sums["loss_sum"][step])
        self.regularization += float(sums["regularization"][step])
        for key, values in sums.items():
            if key.startswith("metric:"):
                name = key[len("metric:"):]
                self.metric_sums[name] = self.metric_sums.get(name, 0.0) + float(values[step])

    def logs(self) -> dict[str, float]:
        logs = {"loss": self.loss_sum / self.count + self.regularization / self.batches}
        logs.update({k: v / self.count for k, v in self.metric_sums.items()})
        return logs


def fit_epochs(model: Any, graph: TrainingGraph, xs: list[np.ndarray], y: np.ndarray,
               batch_size: int, epochs: int, initial_epoch: int, validation: Optional[tuple],
               shuffle: bool, callbacks: Sequence[Callback], verbose: int,
               out: TextIO) -> History:
    """Runs epochs ``initial_epoch`` .. ``epochs - 1`` of ``model.fit``; returns the History."""
    model.history = History()
    everyone = [model.history, *callbacks]
    steps = math.ceil(len(y) / batch_size)
    for callback in everyone:
        callback.set_model(model)
        callback.set_params({"epochs": epochs, "steps": steps, "verbose": verbose})
        callback.on_train_begin({})
    batch_hooks = [c for c in everyone if _overrides(c, "on_train_batch_begin")
                   or _overrides(c, "on_train_batch_end")
                   or _overrides(c, "on_batch_begin") or _overrides(c, "on_batch_end")]
    state = model.weights + graph.optimizer_variables
    last_finite = model.session.run(state)
    bar = bar_class(out, verbose)
    length = chunk_length(steps, chunked=bar is not None)
    fetches = [graph.train_op, graph.fetches()]
    model.stop_training = False
    logs: dict[str, float] = {}
    for epoch in range(initial_epoch, epochs):
        for callback in everyone:
            callback.on_epoch_begin(epoch, {})
        # Each epoch's order is drawn from the model's seed and its count of epochs
        # trained, so a saved and loaded model resumes with the order it would have had.
        rng = np.random.default_rng([model.shuffle_seed, model.epochs_trained])
        order = rng.permutation(len(y)) if shuffle else np.arange(len(y))
        (*x_batches, y_batches), weights = data.padded_batches([*xs, y], order, batch_size,
                                                               model.replicas)
        progress = EpochProgress(out, verbose, bar, epoch, epochs, steps)
        sums = EpochSums()
        for start in range(0, steps, length):
            part = slice(start, start + length)
            feed = {graph.y: y_batches[part], graph.w: weights[part],
                    model._training: np.ones(length, bool),
                    **{t: batches[part] for t, batches in zip(model.inputs, x_batches)}}
            chunk = model.session.run_loop(fetches, feed)[1]
            _check_finite(model, chunk, epoch, epoch == initial_epoch, start, steps, state,
                          last_finite, progress)
            for step in range(length):
                sums.add(chunk, weights[start + step], step)
                if batch_hooks:
                    _batch_callbacks(batch_hooks, start + step, sums.logs())
            progress.advance(length, sums.logs())
            if model.stop_training:
                break
        model.epochs_trained += 1
        logs = sums.logs()
        if validation is not None:
            logs.update({f"val_{k}": v for k, v in model._evaluate_logs(
                graph, *validation, batch_size, everyone).items()})
        progress.finish(logs)
        for callback in everyone:
            callback.on_epoch_end(epoch, logs)
        last_finite = model.session.run(state)
        if model.stop_training:
            break
    for callback in everyone:
        callback.on_train_end(logs)
    return model.history


def _batch_callbacks(callbacks: Sequence[Callback], batch: int, logs: dict[str, float]) -> None:
    for callback in callbacks:
        callback.on_train_batch_begin(batch, {})
        callback.on_train_batch_end(batch, logs)


def _check_finite(model: Any, chunk: dict, epoch: int, first: bool, start: int, steps: int,
                  state: list, last_finite: list, progress: EpochProgress) -> None:
    """Raises FloatingPointError at the first non-finite batch loss, after restoring state."""
    per_batch = chunk["loss_sum"] + chunk["regularization"]
    bad = np.flatnonzero(~np.isfinite(per_batch))
    if not bad.size:
        return
    progress.abandon()
    for variable, value in zip(state, last_finite):
        model.session.load_variable(variable, value)
    batch = start + int(bad[0])
    restored = "their values before this fit" if first else f"the end of epoch {epoch}"
    raise FloatingPointError(
        f"fit: the loss is {per_batch[bad[0]]} at epoch {epoch + 1}, batch {batch + 1} of "
        f"{steps}; the weights and optimizer state were restored to {restored} (the last "
        f"finite state). Lower the learning rate or check the data for NaN/Inf.")
