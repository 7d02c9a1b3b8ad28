"""Callbacks called by ``fit``, ``evaluate`` and ``predict`` at their start, end, epochs and batches.

The hooks and their names are Keras's. ``fit`` runs an epoch's batches as one
compiled program (or a few chunks of it), so the batch hooks of a chunk are called
after the chunk has run, in batch order, with the epoch's running means in ``logs``.
A callback reaches its model through ``self.model`` (set by ``fit``): it may read and
set ``model.get_weights()`` / ``set_weights``, save the model, and set
``model.stop_training`` (from a batch hook it takes effect after the current chunk).
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Optional

import numpy as np


class Callback:
    """Base class: override the ``on_*`` methods you need."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs: Optional[dict] = None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        """Called once after the last epoch (also after an early stop)."""

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        """Called before epoch ``epoch`` (counted from 0)."""

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        """Called after epoch ``epoch`` with its ``loss``, metrics and ``val_*`` values."""

    def on_train_batch_begin(self, batch: int, logs: Optional[dict] = None) -> None:
        """Called for batch ``batch`` (counted from 0 in each epoch); calls ``on_batch_begin``."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Optional[dict] = None) -> None:
        """Called after batch ``batch`` with the epoch's running ``loss`` and metrics;
        calls ``on_batch_end``."""
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch: int, logs: Optional[dict] = None) -> None:
        """Keras's older name of ``on_train_batch_begin``."""

    def on_batch_end(self, batch: int, logs: Optional[dict] = None) -> None:
        """Keras's older name of ``on_train_batch_end``."""

    def on_test_begin(self, logs: Optional[dict] = None) -> None:
        """Called when ``evaluate`` (or ``fit``'s validation) starts."""

    def on_test_end(self, logs: Optional[dict] = None) -> None:
        """Called when ``evaluate`` (or ``fit``'s validation) ends, with its loss and metrics."""

    def on_test_batch_begin(self, batch: int, logs: Optional[dict] = None) -> None:
        """Called for each batch of ``evaluate`` (after the batches have run)."""

    def on_test_batch_end(self, batch: int, logs: Optional[dict] = None) -> None:
        """Called after each batch of ``evaluate`` with the running loss and metrics."""

    def on_predict_begin(self, logs: Optional[dict] = None) -> None:
        """Called when ``predict`` starts."""

    def on_predict_end(self, logs: Optional[dict] = None) -> None:
        """Called when ``predict`` ends."""

    def on_predict_batch_begin(self, batch: int, logs: Optional[dict] = None) -> None:
        """Called for each batch of ``predict`` (after the batches have run)."""

    def on_predict_batch_end(self, batch: int, logs: Optional[dict] = None) -> None:
        """Called after each batch of ``predict``; ``logs["outputs"]`` holds its outputs."""


class History(Callback):
    """Records each epoch's logs: ``history.history["val_loss"][i]`` is epoch i's.

    ``fit`` returns the model's History.

    Example:
        >>> history = model.fit(x, y, epochs=3, validation_split=0.2)
        >>> history.history["loss"], history.epoch
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class LambdaCallback(Callback):
    """A callback from functions: ``on_epoch_end(epoch, logs)``, ``on_batch_end(batch, logs)``,
    ``on_train_begin(logs)``, ... (Keras's arguments).

    Example:
        >>> printer = gn.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: print(e, logs))
        >>> losses = []
        >>> per_batch = gn.callbacks.LambdaCallback(
        ...     on_batch_end=lambda batch, logs: losses.append(logs["loss"]))
    """

    def __init__(self, on_epoch_begin: Optional[Callable] = None,
                 on_epoch_end: Optional[Callable] = None,
                 on_batch_begin: Optional[Callable] = None,
                 on_batch_end: Optional[Callable] = None,
                 on_train_begin: Optional[Callable] = None,
                 on_train_end: Optional[Callable] = None) -> None:
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_batch_begin": on_batch_begin, "on_batch_end": on_batch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end}
        for name, function in hooks.items():
            if function is not None:
                setattr(self, name, function)


def maximizes(monitor: str) -> bool:
    """Keras's "auto" mode: accuracies and AUCs are maximized, everything else minimized."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    return name in ("acc", "accuracy", "auc") or name.endswith("_accuracy")


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has stopped improving (Keras's semantics).

    After each epoch, the value of ``monitor`` counts as an improvement when it beats the
    best so far by more than ``min_delta``. Training stops when ``patience`` epochs in a
    row brought no improvement (or, with a ``baseline``, none beat the baseline). With
    ``restore_best_weights``, the model ends with the weights from the end of the best
    epoch (also when training ran to the last epoch).

    Example:
        >>> stop = gn.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
        >>> model.fit(x, y, epochs=100, validation_split=0.2, callbacks=[stop])
        >>> stop.stopped_epoch, stop.best_epoch
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: Optional[float] = None,
                 restore_best_weights: bool = False) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"EarlyStopping mode {mode!r} is unknown, fallback to auto mode.",
                          stacklevel=2)
            mode = "auto"
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.mode, self.baseline = mode, baseline
        self.restore_best_weights = restore_best_weights
        maximize = mode == "max" or (mode == "auto" and maximizes(monitor))
        self._better: Callable[[float, float], bool] = np.greater if maximize else np.less
        # Keras: the delta counts toward improvement in the monitored direction.
        self.min_delta = abs(min_delta) if maximize else -abs(min_delta)
        self.wait = 0
        self.stopped_epoch = 0
        self.best: Optional[float] = None
        self.best_weights: Optional[list] = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs or {})}",
                          stacklevel=2)
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def _is_improvement(self, value: float, reference: Optional[float]) -> bool:
        if reference is None:
            return True
        return bool(self._better(value - self.min_delta, reference))
