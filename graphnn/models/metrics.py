"""Metrics as per-sample graph functions; ``fit`` reports their sample-weighted means.

"accuracy" (or "acc") means, as in Keras, the accuracy that fits the loss: sparse
categorical for integer labels, categorical for one-hot labels, binary (threshold 0.5)
for binary cross-entropy.
"""
from __future__ import annotations

from typing import Any, Callable

from graphnn.framework import dtypes
from graphnn.framework.tensor import Tensor
from graphnn.models import losses
from graphnn.ops.creation import cast
from graphnn.ops.math import abs as abs_, equal, greater, square
from graphnn.ops.reduction import argmax, reduce_mean

Metric = Callable[[Tensor, Tensor], Tensor]


def _per_sample(values: Tensor) -> Tensor:
    rank = values.shape.ndims
    return values if rank == 1 else reduce_mean(values, axis=list(range(1, rank)))


def sparse_categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """1 where the largest output is at the integer label, else 0."""
    return cast(equal(argmax(y_pred, axis=-1, output_type=dtypes.int32), y_true), dtypes.float32)


def categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """1 where the largest output is where the one-hot label is largest, else 0."""
    return cast(equal(argmax(y_pred, axis=-1, output_type=dtypes.int32),
                      argmax(y_true, axis=-1, output_type=dtypes.int32)), dtypes.float32)


def binary_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """The fraction of outputs on the label's side of 0.5."""
    predicted = cast(greater(y_pred, 0.5), dtypes.float32)
    return _per_sample(cast(equal(predicted, y_true), dtypes.float32))


def mean_squared_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return _per_sample(square(y_pred - y_true))


def mean_absolute_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return _per_sample(abs_(y_pred - y_true))


_BY_NAME: dict[str, Metric] = {
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "categorical_accuracy": categorical_accuracy, "binary_accuracy": binary_accuracy,
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
}
_ACCURACY_FOR_LOSS = {
    losses.SparseCategoricalCrossentropy: sparse_categorical_accuracy,
    losses.CategoricalCrossentropy: categorical_accuracy,
    losses.BinaryCrossentropy: binary_accuracy,
}


def get(identifier: Any, loss: losses.Loss) -> Metric:
    """A metric from its Keras name (resolving "accuracy" by ``loss``) or a callable.

    Raises:
        ValueError: an unknown name, or "accuracy" with a regression loss.
    """
    if identifier in ("accuracy", "acc"):
        for loss_type, metric in _ACCURACY_FOR_LOSS.items():
            if isinstance(loss, loss_type):
                return metric
        raise ValueError(f"The metric {identifier!r} needs a classification loss, but the loss "
                         f"is {loss.name}")
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown metric {identifier!r}; known: accuracy, "
                             f"{', '.join(sorted(_BY_NAME))}, or a callable (y_true, y_pred)")
        return _BY_NAME[identifier]
    if callable(identifier):
        return identifier
    raise TypeError(f"A metric must be a name or a callable (y_true, y_pred) -> Tensor, "
                    f"got {identifier!r}")


def name_of(identifier: Any) -> str:
    """The History key of a metric: its name as given, or the callable's ``__name__``."""
    return identifier if isinstance(identifier, str) else getattr(identifier, "__name__", "metric")
