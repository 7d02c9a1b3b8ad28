"""Keras's losses as per-sample graph functions, with their label checks.

A loss gives one value per sample (shape (batch,)); ``fit`` weights and averages them.
Cross-entropies given probabilities (Keras's default, ``from_logits=False``) compute
from the logits when the model's output is a ``Softmax``/``Sigmoid`` op, as Keras
does, so a saturated softmax cannot give ``log(0)``; otherwise probabilities are
clipped to [1e-7, 1 - 1e-7].

Example:
    >>> model.compile("adam", loss="sparse_categorical_crossentropy")
    >>> model.compile("adam", loss=gn.models.losses.SparseCategoricalCrossentropy(from_logits=True))
"""
from __future__ import annotations

import abc
from typing import Any, Optional

import numpy as np

from graphnn.framework import dtypes
from graphnn.framework.tensor import Tensor
from graphnn.ops.creation import cast, one_hot
from graphnn.ops.math import abs as abs_, clip_by_value, log, square
from graphnn.nn import (sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits,
                        sparse_softmax_cross_entropy_with_logits)
from graphnn.ops.reduction import reduce_mean, reduce_sum

EPSILON = 1e-7


def _mean_over_samples(values: Tensor) -> Tensor:
    """The mean over every axis but the batch axis (a (batch,) Tensor)."""
    rank = values.shape.ndims
    return values if rank == 1 else reduce_mean(values, axis=list(range(1, rank)))


def _logits_behind(output: Tensor, op_type: str) -> Optional[Tensor]:
    """The input of ``output`` when ``output`` is a ``op_type`` (Softmax/Sigmoid) op."""
    if output.op.type != op_type:
        return None
    axis = output.op.attrs.get("axis", -1)
    if op_type == "Softmax" and axis not in (-1, output.shape.ndims - 1):
        return None
    return output.op.inputs[0]


class Loss(abc.ABC):
    """Base class: ``per_sample(y_true, y_pred)`` and the checks of labels before fit.

    Attributes:
        name: the Keras name.
        classification: whether labels are classes (``validation_split`` stratifies).
        sparse: whether labels are class indices (fed as int32).
    """

    name = "loss"
    classification = False
    sparse = False

    def __init__(self, from_logits: bool = False):
        self.from_logits = from_logits

    @abc.abstractmethod
    def per_sample(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """The loss of each sample (shape ``(batch,)``)."""

    def label_shape(self, output_shape: tuple) -> tuple:
        """The per-sample shape of labels for a model output of per-sample ``output_shape``."""
        return output_shape

    def check_labels(self, y: np.ndarray, output_shape: tuple, where: str) -> None:
        """Raises ValueError for labels this loss cannot use with this output."""
        want = self.label_shape(output_shape)
        if tuple(y.shape[1:]) != tuple(want):
            raise ValueError(f"{where}: the loss {self.name} needs labels of per-sample shape "
                             f"{tuple(want)} for a model output of shape (None, "
                             f"{', '.join(map(str, output_shape))}), got y of shape {y.shape}")

    def classes(self, y: np.ndarray) -> Optional[np.ndarray]:
        """The class of each sample, for stratified splits (None when not classification)."""
        return None


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def per_sample(self, y_true, y_pred):
        return _mean_over_samples(square(y_pred - y_true))


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def per_sample(self, y_true, y_pred):
        return _mean_over_samples(abs_(y_pred - y_true))


class BinaryCrossentropy(Loss):
    """Labels in [0, 1] shaped like the output (one column of probabilities)."""

    name = "binary_crossentropy"
    classification = True

    def per_sample(self, y_true, y_pred):
        logits = y_pred if self.from_logits else _logits_behind(y_pred, "Sigmoid")
        if logits is not None:
            return _mean_over_samples(sigmoid_cross_entropy_with_logits(labels=y_true,
                                                                        logits=logits))
        p = clip_by_value(y_pred, EPSILON, 1.0 - EPSILON)
        return _mean_over_samples(-(y_true * log(p) + (1.0 - y_true) * log(1.0 - p)))

    def check_labels(self, y, output_shape, where):
        super().check_labels(y, output_shape, where)
        bad = np.flatnonzero(~((y >= 0) & (y <= 1)).reshape(len(y), -1).all(axis=1))
        if bad.size:
            raise ValueError(f"{where}: binary_crossentropy needs labels in [0, 1]; sample "
                             f"{bad[0]} has {y[bad[0]]}")

    def classes(self, y):
        return np.rint(y).reshape(len(y), -1)[:, 0] if y[0].size == 1 else None


class CategoricalCrossentropy(Loss):
    """One-hot (or probability) labels shaped like the output."""

    name = "categorical_crossentropy"
    classification = True

    def per_sample(self, y_true, y_pred):
        logits = y_pred if self.from_logits else _logits_behind(y_pred, "Softmax")
        if logits is not None:
            return softmax_cross_entropy_with_logits(labels=y_true, logits=logits)
        p = y_pred / reduce_sum(y_pred, axis=-1, keepdims=True)
        return -reduce_sum(y_true * log(clip_by_value(p, EPSILON, 1.0 - EPSILON)), axis=-1)

    def classes(self, y):
        return np.argmax(y, axis=-1)


class SparseCategoricalCrossentropy(Loss):
    """Integer class labels (N,) for an output of (N, classes)."""

    name = "sparse_categorical_crossentropy"
    classification = True
    sparse = True

    def per_sample(self, y_true, y_pred):
        logits = y_pred if self.from_logits else _logits_behind(y_pred, "Softmax")
        if logits is not None:
            return sparse_softmax_cross_entropy_with_logits(labels=y_true, logits=logits)
        depth = y_pred.shape[-1]
        p = clip_by_value(y_pred, EPSILON, 1.0 - EPSILON)
        return -reduce_sum(one_hot(y_true, depth, dtype=y_pred.dtype) * log(p), axis=-1)

    def label_shape(self, output_shape):
        return output_shape[:-1]

    def check_labels(self, y, output_shape, where):
        super().check_labels(y, output_shape, where)
        classes = output_shape[-1]
        integral = np.isfinite(y) & (np.floor(y) == y) if y.dtype.kind == "f" else \
            np.ones(y.shape, bool)
        bad = np.flatnonzero(~(integral & (y >= 0) & (y < classes)).reshape(len(y), -1).all(axis=1))
        if bad.size:
            raise ValueError(f"{where}: sparse_categorical_crossentropy needs integer labels in "
                             f"[0, {classes}) for a model with {classes} outputs; sample "
                             f"{bad[0]} has label {y[bad[0]]}")

    def classes(self, y):
        return y.reshape(len(y), -1)[:, 0] if y[0].size == 1 else None


_BY_NAME = {cls.name: cls for cls in (MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy,
                                      CategoricalCrossentropy, SparseCategoricalCrossentropy)}
_BY_NAME.update({"mse": MeanSquaredError, "mae": MeanAbsoluteError})


def get(identifier: Any) -> Loss:
    """A loss from its Keras name ("mse", "sparse_categorical_crossentropy", ...) or a Loss."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    raise ValueError(f"Unknown loss {identifier!r}; known: {', '.join(sorted(_BY_NAME))}, or a "
                     f"gn.models.losses.Loss object")


def label_dtype(loss: Loss) -> dtypes.DType:
    """The dtype of the labels placeholder: int32 class indices or float32 values."""
    return dtypes.int32 if loss.sparse else dtypes.float32


def as_float(values: Tensor) -> Tensor:
    return values if values.dtype == dtypes.float32 else cast(values, dtypes.float32)
