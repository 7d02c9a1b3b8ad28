"""numpy side of ``fit``: input checks, the seeded stratified split, padded batches."""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from graphnn.models.losses import Loss


def as_array(value: Any, what: str, where: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: cannot convert {what} to an array: {error}") from None
    if array.ndim == 0 or len(array) == 0:
        raise ValueError(f"{where}: {what} needs at least one sample along axis 0, got shape "
                         f"{array.shape}")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{where}: {what} must hold numbers, got dtype {array.dtype}")
    return array


def check_features(x: np.ndarray, input_shape: Sequence[Optional[int]], where: str,
                   what: str = "x") -> None:
    """Raises ValueError when samples of ``x`` do not fit the model's per-sample input shape."""
    if len(x.shape) - 1 != len(input_shape) or any(
            want is not None and want != got for want, got in zip(input_shape, x.shape[1:])):
        shown = "(" + ", ".join(str(d) for d in input_shape) + ("," if len(input_shape) == 1 else "") + ")"
        raise ValueError(f"{where}: the model expects samples of shape {shown}, but {what} has "
                         f"shape {x.shape} (samples of shape {x.shape[1:]})")


def fit_labels(y: np.ndarray, loss: Loss, output_shape: tuple) -> np.ndarray:
    """Labels in the layout the loss reads: a column added where the output has one."""
    want = loss.label_shape(output_shape)
    if y.ndim == 1 and tuple(want) == (1,):
        return y[:, None]
    if loss.sparse and y.ndim == 2 and y.shape[1] == 1 and want == ():
        return y[:, 0]
    return y


def check_pair(x: np.ndarray, y: np.ndarray, where: str,
               names: tuple[str, str] = ("x", "y")) -> None:
    if len(x) != len(y):
        raise ValueError(f"{where}: {names[0]} and {names[1]} need the same number of samples; "
                         f"{names[0]} has {len(x)} (shape {x.shape}) and {names[1]} has {len(y)} "
                         f"(shape {y.shape})")


def validation_split_indices(y: np.ndarray, fraction: float, loss: Loss,
                             seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices: a seeded random ``fraction``, stratified by class.

    For a classification loss, each class gives ``round(fraction * its count)`` samples
    (so class-sorted data such as Iris still validates on every class); otherwise a
    random ``round(fraction * n)`` samples.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fit: validation_split must be in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    classes = loss.classes(y) if loss.classification else None
    groups = [np.arange(len(y))] if classes is None else [
        np.flatnonzero(classes == c) for c in np.unique(classes)]
    held = [rng.permutation(g)[:int(round(fraction * len(g)))] for g in groups]
    validation = np.sort(np.concatenate(held))
    if len(validation) == 0 or len(validation) == len(y):
        raise ValueError(f"fit: validation_split={fraction} of {len(y)} samples leaves "
                         f"{len(validation)} for validation and {len(y) - len(validation)} for "
                         f"training; both need at least one")
    train = np.setdiff1d(np.arange(len(y)), validation)
    return train, validation


def padded_batches(arrays: Sequence[np.ndarray], order: np.ndarray, batch_size: int,
                   replicas: int = 1) -> tuple[list[np.ndarray], np.ndarray]:
    """Arrays reshaped to (steps, width, ...) in ``order``, and the sample weights.

    Each step takes the next ``batch_size`` samples of ``order``. The last batch is
    filled up with the first samples of ``order`` given weight 0, so every batch has one
    shape (one compiled program) and every sample counts once. ``width`` is
    ``batch_size`` rounded up to a multiple of ``replicas`` (a MirroredStrategy splits
    each batch that many ways): every batch is then filled up the same way. Padding with
    real samples, not zeros, keeps batch statistics (BatchNormalization) and label
    checks meaningful.
    """
    count = len(order)
    steps = math.ceil(count / batch_size)
    width = math.ceil(batch_size / replicas) * replicas
    column = np.arange(width)
    position = np.arange(steps)[:, None] * batch_size + column
    real = (column < batch_size) & (position < count)
    padding_rank = np.cumsum(~real).reshape(steps, width) - 1  # padding takes order[0], [1] ...
    index = order[np.where(real, np.minimum(position, count - 1), padding_rank % count)]
    batched = [a[index] for a in arrays]
    return batched, real.astype(np.float32)
