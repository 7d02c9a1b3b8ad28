"""load_mnist: where it looks, what it returns, and the test-files-only split."""
from pathlib import Path

import numpy as np
import pytest

import graphnn as gn
from graphnn.datasets.mnist import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS

# The official test split, kept beside the project (never in it) for machines without internet.
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture
def shared_mnist():
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip(f"the official MNIST test files are not at {SHARED_DATA / 'mnist'}")
    return SHARED_DATA / "mnist"


def test_official_test_files_alone_give_8000_training_and_2000_test_images(shared_mnist,
                                                                             clean_environment):
    with pytest.warns(UserWarning, match="only the official test files.*first 8,000.*last 2,000"):
        (x_train, y_train), (x_test, y_test) = gn.datasets.load_mnist(shared_mnist)
    assert x_train.shape == (8000, 28, 28) and x_test.shape == (2000, 28, 28)
    assert y_train.shape == (8000,) and y_test.shape == (2000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_train[:5].tolist() == [7, 2, 1, 0, 4]  # the official test set's first digits
    # Class counts published with the data (shared/data/mnist/README.md).
    counts = np.bincount(np.concatenate([y_train, y_test]), minlength=10)
    assert counts.tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert x_train.min() == 0 and x_train.max() == 255


def test_graphnn_data_environment_variable_names_the_parent_of_mnist(shared_mnist,
                                                                      clean_environment,
                                                                      monkeypatch):
    monkeypatch.setenv("GRAPHNN_DATA", str(shared_mnist.parent))
    with pytest.warns(UserWarning, match="only the official test files"):
        (_, y_train), _ = gn.datasets.load_mnist()
    assert y_train.shape == (8000,)


def test_data_dir_takes_precedence_over_graphnn_data(tmp_path, write_mnist, small_mnist,
                                                     clean_environment, monkeypatch):
    monkeypatch.setenv("GRAPHNN_DATA", str(tmp_path / "nowhere"))
    write_mnist(tmp_path / "mine")
    (x_train, y_train), (x_test, y_test) = gn.datasets.load_mnist(tmp_path / "mine")
    np.testing.assert_array_equal(x_train, small_mnist[TRAIN_IMAGES])
    np.testing.assert_array_equal(y_train, small_mnist[TRAIN_LABELS])
    np.testing.assert_array_equal(x_test, small_mnist[TEST_IMAGES])
    np.testing.assert_array_equal(y_test, small_mnist[TEST_LABELS])
    x_train[0, 0, 0] = 1  # arrays belong to the caller: writeable


def test_the_user_cache_follows_xdg_cache_home(clean_environment, write_mnist, small_mnist):
    write_mnist(clean_environment)
    (_, y_train), _ = gn.datasets.load_mnist()
    np.testing.assert_array_equal(y_train, small_mnist[TRAIN_LABELS])


def test_a_relative_xdg_cache_home_is_ignored_for_the_home_cache(tmp_path, monkeypatch,
                                                                  write_mnist, small_mnist):
    monkeypatch.delenv("GRAPHNN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    write_mnist(tmp_path / ".cache" / "graphnn" / "mnist")
    (_, y_train), _ = gn.datasets.load_mnist()
    np.testing.assert_array_equal(y_train, small_mnist[TRAIN_LABELS])


def test_test_files_alone_split_four_fifths_for_training(tmp_path, write_mnist, small_mnist,
                                                         clean_environment):
    write_mnist(tmp_path, [TEST_IMAGES, TEST_LABELS])
    with pytest.warns(UserWarning, match=f"add {TRAIN_IMAGES} and {TRAIN_LABELS} there"):
        (x_train, y_train), (x_test, y_test) = gn.datasets.load_mnist(tmp_path)
    np.testing.assert_array_equal(x_train, small_mnist[TEST_IMAGES][:4])
    np.testing.assert_array_equal(y_test, small_mnist[TEST_LABELS][4:])


@pytest.mark.parametrize("present", [[], [TRAIN_IMAGES, TEST_IMAGES, TEST_LABELS],
                                     [TEST_LABELS]])
def test_files_missing_from_a_named_directory_fail_at_once_saying_how_to_provide_them(
        tmp_path, write_mnist, clean_environment, monkeypatch, present):
    write_mnist(tmp_path, present)
    missing = [name for name in (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
               if name not in present]
    with pytest.raises(FileNotFoundError) as raised:
        gn.datasets.load_mnist(tmp_path)
    message = str(raised.value)
    assert all(name in message for name in missing)
    assert str(tmp_path) in message and "data_dir" in message and "GRAPHNN_DATA" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(present)  # nothing downloaded
    assert not clean_environment.exists()
