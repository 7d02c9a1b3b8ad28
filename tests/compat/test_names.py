"""graphnn.compat.v1's namespace: real attributes for supported names, a clear error for the rest."""
import importlib

import pytest

import graphnn as gn
import graphnn.compat.v1 as tf
from graphnn.compat.v1._tf1_names import TF1_NAMES
from graphnn.compat.v1._unsupported import UnsupportedTF1Error

MODULES = {"": tf, "nn": tf.nn, "train": tf.train, "summary": tf.summary, "layers": tf.layers,
           "logging": tf.logging, "errors": tf.errors}


@pytest.mark.parametrize("key", sorted(MODULES))
def test_every_supported_name_is_a_real_attribute_listed_by_dir_and_all(key):
    module = MODULES[key]
    assert module.__all__, key
    for name in module.__all__:
        assert name in dir(module), name
        assert name in vars(module), name  # a real attribute, not made up by __getattr__


@pytest.mark.parametrize("key", sorted(MODULES))
def test_supported_names_are_tf1_names(key):
    extra = {"UnsupportedTF1Error"}  # graphnn's own error class, for except clauses
    assert set(MODULES[key].__all__) - TF1_NAMES[key] - extra == set()


@pytest.mark.parametrize("key,name", [("", "contrib"), ("", "py_func"), ("", "FIFOQueue"),
                                      ("", "estimator"), ("nn", "ctc_loss"),
                                      ("train", "Checkpoint"), ("summary", "image"),
                                      ("layers", "Conv3D"), ("errors", "OutOfRangeError")])
def test_unsupported_tf1_names_raise_an_error_naming_the_symbol(key, name):
    module = MODULES[key]
    symbol = "tf." + (key + "." if key else "") + name
    with pytest.raises(UnsupportedTF1Error, match=symbol.replace(".", r"\.")) as caught:
        getattr(module, name)
    assert isinstance(caught.value, NotImplementedError)
    assert isinstance(caught.value, AttributeError)
    assert caught.value.symbol == symbol
    assert not hasattr(module, name)
    assert getattr(module, name, "default") == "default"
    assert name not in dir(module)


def test_unknown_names_and_dunders_behave_as_for_any_module():
    with pytest.raises(AttributeError) as caught:
        tf.not_a_tf_name
    assert not isinstance(caught.value, NotImplementedError)
    assert not hasattr(tf, "__path_hooks__")
    assert tf.__name__ == "graphnn.compat.v1"
    assert tf.__version__ == gn.__version__
    assert importlib.import_module("graphnn.compat.v1.nn") is tf.nn


def test_deprecated_spellings_stay_out_of_the_main_namespace():
    for name in ("arg_max", "arg_min", "to_float", "div", "InteractiveSession", "get_variable",
                 "variable_scope", "disable_v2_behavior"):
        assert not hasattr(gn, name), name
    assert not hasattr(gn.nn, "max_pool")


def test_ops_are_graphnn_functions_not_copies():
    assert tf.matmul is not gn.matmul  # TF 1's adjoint_a/... arguments
    assert tf.reduce_sum(gn.ones([2, 3]), reduction_indices=1).op.type == \
        gn.reduce_sum(gn.ones([2, 3]), axis=1).op.type
    assert tf.exp is gn.exp and tf.placeholder is gn.placeholder
    assert tf.float32 is gn.float32 and tf.string is gn.string and tf.double is gn.float64
