"""The classic TensorFlow 1 tutorial programs, unchanged but for ``import graphnn.compat.v1 as tf``.

Each program in ``programs/`` runs as a subprocess (as a user runs it) with a few steps on
small slices of MNIST (the official test files: 8,000 training and 2,000 test images from
``../shared/data/mnist``), and its printed accuracy or loss is checked against a threshold.
``benchmarks/tf1_programs.py`` runs the same files on TensorFlow.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).resolve().parent / "programs"
REPO = Path(__file__).resolve().parents[2]
MNIST_DIR = Path(os.environ.get("MNIST_DIR") or REPO.parent / "shared" / "data" / "mnist")


def run_program(name, *args):
    """The program's standard output; fails the test with its output when it fails."""
    env = dict(os.environ, PYTHONPATH=str(REPO), MNIST_DIR=str(MNIST_DIR))
    result = subprocess.run([sys.executable, str(PROGRAMS / f"{name}.py"), *map(str, args)],
                            capture_output=True, text=True, env=env, cwd=PROGRAMS, timeout=900)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr[-3000:]}"
    return result.stdout


def printed(output, label):
    """Every number printed after ``label`` (``"Accuracy:"``), in order."""
    return [float(v) for v in re.findall(re.escape(label) + r"\s*=?\s*([-+0-9.e]+)", output)]


@pytest.fixture
def mnist():
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"the official MNIST test files are not at {MNIST_DIR}")


def test_hello_world_prints_the_string_constant_as_bytes():
    assert run_program("hello_world").strip() == "b'Hello, TensorFlow!'"


def test_basic_operations():
    output = run_program("basic_operations")
    for line in ["Addition with constants: 5", "Multiplication with constants: 6",
                 "Addition with variables: 5", "Multiplication with variables: 6",
                 "Matrix product: [[12.]]"]:
        assert line in output


def test_linear_regression_with_a_run_per_sample_and_shapeless_placeholders():
    output = run_program("linear_regression")
    assert printed(output, "Training cost=")[0] < 0.11
    assert printed(output, "Testing cost=")[0] < 0.11


@pytest.mark.slow
def test_logistic_regression(mnist):
    assert printed(run_program("logistic_regression"), "Accuracy:")[0] > 0.88


@pytest.mark.slow
def test_multilayer_perceptron(mnist):
    assert printed(run_program("multilayer_perceptron"), "Accuracy:")[0] > 0.7


@pytest.mark.slow
def test_nearest_neighbor_with_a_run_per_test_image(mnist):
    assert printed(run_program("nearest_neighbor"), "Accuracy:")[0] > 0.85


@pytest.mark.slow
def test_raw_convolutional_network_with_keep_prob(mnist):
    assert printed(run_program("convolutional_network_raw"), "Testing Accuracy:")[0] > 0.8


@pytest.mark.slow
def test_autoencoder(mnist):
    output = run_program("autoencoder")
    first = printed(output, "Minibatch Loss:")[0]
    test_loss = printed(output, "Test Loss:")[0]
    assert test_loss < 0.23 and test_loss < first


@pytest.mark.slow
def test_gan(mnist):
    output = run_program("gan")
    discriminator = printed(output, "Discriminator Loss:")
    generator = printed(output, "Generator Loss:")
    assert discriminator[-1] < 1.0 < generator[-1]
    assert discriminator[-1] < discriminator[0]


@pytest.mark.slow
def test_variational_autoencoder(mnist):
    output = run_program("variational_autoencoder")
    assert printed(output, "Test Loss:")[0] < 250 < printed(output, "Loss:")[0]


@pytest.mark.slow
def test_save_and_restore(mnist, tmp_path):
    output = run_program("save_restore_model", tmp_path)
    assert "Restored exactly: True" in output
    assert printed(output, "Accuracy after resuming:")[0] > 0.85
    assert list(tmp_path.iterdir())


@pytest.mark.slow
def test_tensorboard_basic(mnist, tmp_path):
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    output = run_program("tensorboard_basic", tmp_path)
    assert printed(output, "Accuracy:")[0] > 0.88
    accumulator = event_accumulator.EventAccumulator(str(tmp_path), size_guidance={"scalars": 0})
    accumulator.Reload()
    # As TF 1 names them: the scopes "Loss" and "Accuracy" took "loss" and "accuracy".
    assert sorted(accumulator.Tags()["scalars"]) == ["accuracy_1", "loss_1"]
    assert len(accumulator.Scalars("loss_1")) == 160 and accumulator.Graph() is not None


@pytest.mark.slow
def test_tensorboard_advanced_with_histograms_of_weights_and_gradients(mnist, tmp_path):
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    output = run_program("tensorboard_advanced", tmp_path)
    assert printed(output, "Accuracy:")[0] > 0.6
    accumulator = event_accumulator.EventAccumulator(str(tmp_path))
    accumulator.Reload()
    histograms = set(accumulator.Tags()["histograms"])
    assert {"W1_0", "W1_0/gradient", "b3_0/gradient", "Model/relu1"} <= histograms
