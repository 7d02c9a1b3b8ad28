"""Iris and digits: small classic data sets, from the copies bundled with scikit-learn.

scikit-learn is an optional extra (``pip install graphnn[datasets]``). It is imported
when a loader is first called, not when graphnn is, so ``import graphnn`` stays fast
and works without it; a missing scikit-learn gives an ImportError saying what to install.
"""
from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

_INSTALL_HINT = "pip install graphnn[datasets]"


def load_iris() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's Iris flowers: 150 samples, 4 measurements in cm, 3 classes of 50.

    The samples are sorted by class (50 setosa, then 50 versicolor, then 50 virginica),
    so split them at random (``fit``'s ``validation_split`` draws a stratified random split).

    Returns:
        ``(x, y)``: ``x`` float32 of shape (150, 4) (sepal length, sepal width, petal
        length, petal width), ``y`` int32 of shape (150,) with classes 0, 1, 2.

    Raises:
        ImportError: scikit-learn is not installed (``pip install graphnn[datasets]``).

    Example:
        >>> x, y = gn.datasets.load_iris()
        >>> x.shape, y.shape
        ((150, 4), (150,))
    """
    bunch = _sklearn_datasets("load_iris").load_iris()
    return bunch.data.astype(np.float32), bunch.target.astype(np.int32)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The UCI handwritten digits: 1797 images of 8x8 pixels, classes 0-9 (about 180 each).

    Returns:
        ``(x, y)``: ``x`` float32 of shape (1797, 64), each row an 8x8 image flattened
        row by row, pixel values 0-16 (not rescaled); ``y`` int32 of shape (1797,).

    Raises:
        ImportError: scikit-learn is not installed (``pip install graphnn[datasets]``).

    Example:
        >>> x, y = gn.datasets.load_digits()
        >>> images = x.reshape(-1, 8, 8) / 16.0
    """
    bunch = _sklearn_datasets("load_digits").load_digits()
    return bunch.data.astype(np.float32), bunch.target.astype(np.int32)


def _sklearn_datasets(loader: str) -> ModuleType:
    """``sklearn.datasets``, or an ImportError naming the loader and the extra to install."""
    try:
        importlib.import_module("sklearn")
    except ModuleNotFoundError as error:
        # Only a missing scikit-learn gets the hint; a broken install (one of its own
        # dependencies missing) keeps its original error, which names the real culprit.
        if error.name != "sklearn":
            raise
        raise ImportError(f"gn.datasets.{loader}() reads the copy of the data set bundled with "
                          f"scikit-learn, which is not installed; install it with: "
                          f"{_INSTALL_HINT}") from error
    return importlib.import_module("sklearn.datasets")
