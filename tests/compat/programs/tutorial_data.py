"""MNIST for the TF 1 tutorial programs, as TF 1's ``input_data`` gave it: flat float images in
[0, 1] and one-hot labels, read with numpy only (so the programs also run on TensorFlow).

The official test files are split as graphnn's ``load_mnist`` splits them: the first 8,000
images for training, the last 2,000 for testing. The directory is ``$MNIST_DIR``, else
``../shared/data/mnist`` beside the repository.
"""
import gzip
import os

import numpy as np

MNIST_DIR = os.environ.get("MNIST_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "shared", "data", "mnist")


def _read(name, offset):
    with gzip.open(os.path.join(MNIST_DIR, name), "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


class DataSet:
    def __init__(self, images, labels):
        self.images, self.labels = images, labels
        self.num_examples = len(images)
        self._position = 0

    def next_batch(self, batch_size):
        """The next ``batch_size`` examples, wrapping around (no shuffling: reproducible)."""
        if self._position + batch_size > self.num_examples:
            self._position = 0
        start, self._position = self._position, self._position + batch_size
        return self.images[start:self._position], self.labels[start:self._position]


class Datasets:
    def __init__(self, train, test):
        self.train, self.test = train, test


def read_data_sets(train_size=8000, test_size=2000):
    images = _read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255.0
    labels = np.eye(10, dtype=np.float32)[_read("t10k-labels-idx1-ubyte.gz", 8)]
    return Datasets(DataSet(images[:train_size], labels[:train_size]),
                    DataSet(images[8000:8000 + test_size], labels[8000:8000 + test_size]))
