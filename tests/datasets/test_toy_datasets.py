"""Iris and digits from scikit-learn's bundled copies (the optional ``datasets`` extra)."""
import sys

import numpy as np
import pytest

import graphnn as gn


@pytest.fixture
def sklearn():
    return pytest.importorskip("sklearn", reason="scikit-learn (the datasets extra) is not "
                                                 "installed: pip install graphnn[datasets]")


def test_load_iris_is_150_float32_samples_in_three_classes_of_50(sklearn):
    x, y = gn.datasets.load_iris()
    assert x.shape == (150, 4) and x.dtype == np.float32
    assert y.shape == (150,) and y.dtype == np.int32
    assert np.bincount(y).tolist() == [50, 50, 50]
    # Fisher's first flower (setosa): sepal 5.1 x 3.5 cm, petal 1.4 x 0.2 cm.
    np.testing.assert_array_equal(x[0], np.float32([5.1, 3.5, 1.4, 0.2]))


def test_load_digits_is_1797_flattened_8x8_images_of_ten_classes(sklearn):
    x, y = gn.datasets.load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int32
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert x.min() == 0 and x.max() == 16


@pytest.mark.parametrize("loader", ["load_iris", "load_digits"])
def test_without_scikit_learn_the_error_says_what_to_install(monkeypatch, loader):
    for module in [m for m in sys.modules if m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    with pytest.raises(ImportError, match=rf"{loader}\(\).*scikit-learn.*"
                                          rf"pip install graphnn\[datasets\]"):
        getattr(gn.datasets, loader)()
