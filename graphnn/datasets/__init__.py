"""``gn.datasets``: small classic data sets as numpy arrays, ready for ``fit``.

``load_iris`` and ``load_digits`` read the copies bundled with scikit-learn (an optional
extra: ``pip install graphnn[datasets]``); ``load_mnist`` reads the official MNIST files
from a directory or the user cache, downloading them there when absent.

Example:
    >>> x, y = gn.datasets.load_iris()
    >>> (x_train, y_train), (x_test, y_test) = gn.datasets.load_mnist()
"""
from graphnn.datasets.download import ChecksumError, DownloadError
from graphnn.datasets.idx import DatasetFileError
from graphnn.datasets.mnist import MNIST_MD5, MNIST_MIRRORS, load_mnist
from graphnn.datasets.toy import load_digits, load_iris

__all__ = ["ChecksumError", "DatasetFileError", "DownloadError", "MNIST_MD5", "MNIST_MIRRORS",
           "load_digits", "load_iris", "load_mnist"]
