"""``ModelCheckpoint``: saves the model (or its weights) at the end of epochs (Keras's)."""
from __future__ import annotations

import math
import os
import warnings
from typing import Optional

import numpy as np

from graphnn.callbacks.callbacks import Callback, maximizes


class ModelCheckpoint(Callback):
    """Saves the model at the end of each epoch, or only when ``monitor`` improved.

    ``filepath`` may hold Keras's fields, filled from the epoch (counted from 1) and
    its logs: ``"ckpt/model-{epoch:02d}-{val_loss:.2f}"``. The model is written with
    ``model.save`` (a directory that ``gn.models.load_model`` reads, optimizer state
    included), or with ``model.save_weights`` (a checkpoint that ``load_weights``
    reads) when ``save_weights_only``. With ``save_best_only``, an epoch is saved only
    when ``monitor`` beats the best value so far (``mode``: "min", "max", or "auto":
    accuracies are maximized, everything else minimized), starting from
    ``initial_value_threshold`` when given.

    Example:
        >>> best = gn.callbacks.ModelCheckpoint("best_model", save_best_only=True)
        >>> model.fit(x, y, epochs=50, validation_split=0.2, callbacks=[best])
        >>> model = gn.models.load_model("best_model")

    Raises:
        ValueError: ``save_freq`` is not "epoch" (``fit`` runs batches in compiled
            chunks, so mid-epoch weights are not at hand).
    """

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: str = "epoch",
                 initial_value_threshold: Optional[float] = None) -> None:
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch', got {save_freq!r}")
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"ModelCheckpoint mode {mode!r} is unknown, fallback to auto mode.",
                          stacklevel=2)
            mode = "auto"
        self.filepath = os.fspath(filepath)
        self.monitor, self.verbose = monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.mode, self.save_freq = mode, save_freq
        maximize = mode == "max" or (mode == "auto" and maximizes(monitor))
        self._better = np.greater if maximize else np.less
        self._initial = (initial_value_threshold if initial_value_threshold is not None
                         else -math.inf if maximize else math.inf)
        self.best = self._initial

    def on_train_begin(self, logs=None):
        self.best = self._initial

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as error:
            raise KeyError(f"ModelCheckpoint: filepath {self.filepath!r} names {error}, which "
                           f"is not in the epoch's logs ({', '.join(logs)})") from None
        if not self.save_best_only:
            self._say(f"Epoch {epoch + 1}: saving model to {path}")
            self._save(path)
            return
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available, skipping.",
                          stacklevel=2)
            return
        if self._better(current, self.best):
            self._say(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
            self._save(path)
        else:
            self._say(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")

    def _save(self, path: str) -> None:
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def _say(self, text: str) -> None:
        if self.verbose > 0:
            print(text)
