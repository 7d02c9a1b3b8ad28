"""MNIST handwritten digits from the official gzip-compressed IDX files.

One directory is read, chosen by the first that applies: the ``data_dir`` argument,
``$GRAPHNN_DATA/mnist``, or the user cache (``$XDG_CACHE_HOME/graphnn/mnist``, by default
``~/.cache/graphnn/mnist``). Files there are checked by their headers (``idx.py``), not by
their MD5 sums, so a re-compressed copy of the official data reads as well. Only the cache
is downloaded into, and only the files it lacks (MD5-checked, ``download.py``): a directory
the user names is the user's, and a file missing from it is an error saying what to put
where. A directory holding only the two official test files (such as the copy beside the
project for machines without internet) gives a smaller split of those 10,000 images, with
a warning that says so.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np

from graphnn.datasets.download import download
from graphnn.datasets.idx import DatasetFileError, read_idx_gz

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

#: Base URLs tried in order for a download (the original site no longer serves the files).
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
#: The published MD5 sums of the official files, which every download must match.
MNIST_MD5: Mapping[str, str] = MappingProxyType({
    TRAIN_IMAGES: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    TRAIN_LABELS: "d53e105ee54ea40749a09fcbcd1e9432",
    TEST_IMAGES: "9fb629c4189551a2d022fa330f9573f3",
    TEST_LABELS: "ec29112dd5afa0611ce80d1b7f02629c",
})

_CLASSES = 10
# Test-only split: the first 80% of the official test images train, the rest test
# (8,000 and 2,000 of 10,000). Both parts hold every class in about equal shares.
_TEST_ONLY_TRAIN_SHARE = 0.8

Split = tuple[np.ndarray, np.ndarray]


def load_mnist(data_dir: str | os.PathLike | None = None, *,
               mirrors: Sequence[str] | None = None,
               md5: Mapping[str, str] | None = None) -> tuple[Split, Split]:
    """The MNIST digits: 60,000 training and 10,000 test images of 28x28 pixels.

    Reads the four official files ``train-images-idx3-ubyte.gz``,
    ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and
    ``t10k-labels-idx1-ubyte.gz`` from ``data_dir``, else from ``$GRAPHNN_DATA/mnist``,
    else from the user cache (``$XDG_CACHE_HOME/graphnn/mnist``, by default
    ``~/.cache/graphnn/mnist``), downloading into the cache those it lacks (about 11 MB),
    with a progress report on stderr. A directory holding only the two ``t10k`` files
    gives the first 8,000 of those images as the training part and the last 2,000 as the
    test part, with a warning.

    Args:
        data_dir: a directory holding the files; nothing is downloaded into it.
        mirrors: base URLs to download from, in order (default ``MNIST_MIRRORS``).
        md5: the MD5 sum of each file name, which downloads must match (default
            ``MNIST_MD5``, the official sums).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: images uint8 of shape (N, 28, 28),
        pixel values 0 (background) to 255; labels uint8 of shape (N,), digits 0-9.

    Raises:
        FileNotFoundError: a file is missing from ``data_dir`` or ``$GRAPHNN_DATA/mnist``;
            the message names the files, the directory and how to provide them.
        DownloadError: a file is missing from the cache and no mirror delivered it
            (offline, for example); ``ChecksumError`` (a subclass) when a download had
            the wrong MD5 sum. Nothing partial or unverified is left in the cache.
        DatasetFileError: a file is damaged or is not what its name says (a ValueError).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = gn.datasets.load_mnist()
        >>> x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    """
    directory, origin = _data_directory(data_dir)
    present = {name for name in _FILES if os.path.isfile(os.path.join(directory, name))}
    if present == {TEST_IMAGES, TEST_LABELS}:
        return _split_test_files(directory)
    missing = [name for name in _FILES if name not in present]
    if missing and origin != "cache":
        raise FileNotFoundError(
            f"MNIST files missing from {directory} ({origin}): {', '.join(missing)}. Copy the "
            f"official files there, point data_dir or $GRAPHNN_DATA (which holds mnist/) at a "
            f"directory holding them, or leave both unset to download them into the user "
            f"cache, {_cache_directory()}")
    sums = MNIST_MD5 if md5 is None else md5
    unknown = [name for name in missing if name not in sums]
    if unknown:
        raise ValueError(f"load_mnist: md5 gives no MD5 sum for {', '.join(unknown)}; it names "
                         f"{', '.join(sorted(sums))}")
    for name in missing:
        _download_into_cache(name, directory, missing,
                             MNIST_MIRRORS if mirrors is None else mirrors, sums[name])
    return (_read_split(directory, TRAIN_IMAGES, TRAIN_LABELS),
            _read_split(directory, TEST_IMAGES, TEST_LABELS))


def _data_directory(data_dir: str | os.PathLike | None) -> tuple[str, str]:
    """The directory to read and where its choice came from, for messages."""
    if data_dir is not None:
        return os.fspath(data_dir), "the data_dir argument"
    if os.environ.get("GRAPHNN_DATA"):
        return os.path.join(os.environ["GRAPHNN_DATA"], "mnist"), "$GRAPHNN_DATA/mnist"
    return _cache_directory(), "cache"


def _cache_directory() -> str:
    # The XDG base-directory rule: a relative $XDG_CACHE_HOME is invalid and ignored.
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "graphnn", "mnist")


def _download_into_cache(name: str, directory: str, missing: list[str],
                         mirrors: Sequence[str], md5: str) -> None:
    try:
        download(name, directory, mirrors, md5)
    except OSError as error:
        raise type(error)(
            f"MNIST files missing from the user cache {directory}: {', '.join(missing)}, and "
            f"downloading them failed. Without internet, copy the official files into that "
            f"directory, or pass data_dir (or set $GRAPHNN_DATA, which holds mnist/) to read "
            f"them from elsewhere.\n{error}") from error


def _read_split(directory: str, images_name: str, labels_name: str) -> Split:
    images_path = os.path.join(directory, images_name)
    labels_path = os.path.join(directory, labels_name)
    images = read_idx_gz(images_path, [None, 28, 28])
    labels = read_idx_gz(labels_path, [None])
    if len(images) != len(labels):
        raise DatasetFileError(f"{images_path!r} holds {len(images)} images but "
                               f"{labels_path!r} holds {len(labels)} labels")
    if labels.size and labels.max() >= _CLASSES:
        raise DatasetFileError(f"{labels_path!r} holds label {labels.max()}; MNIST labels are "
                               f"digits 0-9")
    return images, labels


def _split_test_files(directory: str) -> tuple[Split, Split]:
    images, labels = _read_split(directory, TEST_IMAGES, TEST_LABELS)
    cut = round(len(images) * _TEST_ONLY_TRAIN_SHARE)
    warnings.warn(
        f"load_mnist: {directory} holds only the official test files, so the training part "
        f"is their first {cut:,} images and the test part their last {len(images) - cut:,} (not "
        f"MNIST's 60,000/10,000 split); add {TRAIN_IMAGES} and {TRAIN_LABELS} there for the "
        f"full data set", UserWarning, stacklevel=3)
    return (images[:cut], labels[:cut]), (images[cut:], labels[cut:])
