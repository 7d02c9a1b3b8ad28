"""Damaged or wrong MNIST files are refused with a DatasetFileError naming the file."""
import gzip

import numpy as np
import pytest

import graphnn as gn
from graphnn.datasets.mnist import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS

IMAGES = np.zeros((6, 28, 28), np.uint8)
LABELS = np.array([1, 2, 3, 4, 5, 6], np.uint8)


def unzipped(encode, array):
    return gzip.decompress(encode(array))


# case: (file replaced, its content from the IDX encoder, what the error says)
BAD_FILES = {
    "labels in the images file": (TRAIN_IMAGES, lambda encode: encode(LABELS),
                                  "magic number is 0x00000801"),
    "16-bit values": (TRAIN_IMAGES, lambda encode: encode(IMAGES, magic=b"\0\0\x0b\x03"),
                      "0x00000b03"),
    "wrong image size": (TRAIN_IMAGES, lambda encode: encode(np.zeros((6, 27, 28), np.uint8)),
                         r"shape \(6, 27, 28\), expected shape \(N, 28, 28\)"),
    "truncated data": (TRAIN_LABELS, lambda encode: gzip.compress(unzipped(encode, LABELS)[:-1]),
                       r"truncated.*shape \(6,\) \(6 bytes of data\) but it holds 5"),
    "data past the end": (TRAIN_LABELS,
                          lambda encode: gzip.compress(unzipped(encode, LABELS) + b"\0"),
                          "more data than its header announces"),
    "short header": (TEST_LABELS, lambda encode: gzip.compress(b"\0\0\x08\x01\0\0"),
                     "too short"),
    "not gzip": (TEST_IMAGES, lambda encode: b"\0\0\x08\x03" + bytes(100),
                 "not a complete, undamaged gzip"),
    "cut gzip stream": (TEST_IMAGES, lambda encode: encode(IMAGES)[:-12],
                        "not a complete, undamaged gzip"),
    "label 10": (TRAIN_LABELS, lambda encode: encode(np.array([1, 10, 3, 4, 5, 6], np.uint8)),
                 "label 10.*digits 0-9"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_refused_naming_it(tmp_path, write_mnist, idx_gz, case):
    name, content, expected = BAD_FILES[case]
    write_mnist(tmp_path)
    (tmp_path / name).write_bytes(content(idx_gz))
    with pytest.raises(gn.datasets.DatasetFileError, match=expected) as raised:
        gn.datasets.load_mnist(tmp_path)
    assert str(tmp_path / name) in str(raised.value)


def test_images_and_labels_of_different_lengths_are_refused_naming_both(tmp_path, write_mnist,
                                                                        idx_gz):
    write_mnist(tmp_path)
    (tmp_path / TEST_LABELS).write_bytes(idx_gz(LABELS))  # 6 labels for 5 test images
    with pytest.raises(ValueError, match=f"{TEST_IMAGES}' holds 5 images but .*{TEST_LABELS}' "
                                         f"holds 6 labels"):
        gn.datasets.load_mnist(tmp_path)
