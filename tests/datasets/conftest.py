import gzip
import struct

import numpy as np
import pytest

from graphnn.datasets.mnist import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS


def encode_idx_gz(array, magic=None):
    """The gzip-compressed IDX encoding of a uint8 array (``magic`` overrides the header's)."""
    header = magic if magic is not None else bytes([0, 0, 0x08, array.ndim])
    dims = struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + dims + array.astype(np.uint8).tobytes(), mtime=0)


@pytest.fixture
def idx_gz():
    """Encodes a uint8 array as a gzip-compressed IDX file: ``idx_gz(array, magic=None)``."""
    return encode_idx_gz


@pytest.fixture
def small_mnist():
    """A tiny MNIST in the official format: 6 training and 5 test images, labels 0-9."""
    rng = np.random.default_rng(0)
    return {
        TRAIN_IMAGES: rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        TRAIN_LABELS: np.array([5, 0, 4, 1, 9, 2], np.uint8),
        TEST_IMAGES: rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        TEST_LABELS: np.array([7, 2, 1, 0, 4], np.uint8),
    }


@pytest.fixture
def write_mnist(small_mnist):
    """Writes ``small_mnist``'s files (or those named) into a directory; returns their bytes."""
    def write(directory, names=tuple(small_mnist)):
        directory.mkdir(parents=True, exist_ok=True)
        written = {}
        for name in names:
            written[name] = encode_idx_gz(small_mnist[name])
            (directory / name).write_bytes(written[name])
        return written
    return write


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """No $GRAPHNN_DATA, and a user cache inside tmp_path; returns the MNIST cache directory."""
    monkeypatch.delenv("GRAPHNN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "graphnn" / "mnist"
