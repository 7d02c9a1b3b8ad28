"""``model.save(path)`` / ``gn.models.load_model(path)`` for Sequential models.

A saved model is a directory holding ``model.json`` (the layers' classes and
configurations, the input shape, and the compile arguments when they were given
by name) and a ``gn.train.Saver`` checkpoint ``weights`` of the layers' variables,
keyed by layer position so a model loads into a graph whose names are taken. No
pickle: custom activations, initializers or regularizers (Python callables) cannot
be saved, and saving says which. Optimizer state is not saved: a loaded model that
was compiled by name is compiled afresh.
"""
from __future__ import annotations

import json
import os
from typing import Any

from graphnn.layers import initializers, regularizers
from graphnn.layers.base import Layer
from graphnn.layers.convolutional import Conv2D, MaxPool2D
from graphnn.layers.core import Activation, Dense, Dropout, Flatten
from graphnn.layers.normalization import BatchNormalization
from graphnn.models import losses
from graphnn.train.saver import Saver

FORMAT = "graphnn.Sequential"
VERSION = 1
_LAYERS = {cls.__name__: cls for cls in (Dense, Dropout, Flatten, Activation, Conv2D, MaxPool2D,
                                         BatchNormalization)}
_OBJECTS = {**{name: cls for name, cls in vars(initializers).items()
               if isinstance(cls, type) and issubclass(cls, initializers.Initializer)},
            **{name: cls for name, cls in vars(regularizers).items()
               if isinstance(cls, type) and issubclass(cls, regularizers.Regularizer)}}


def _encode(value: Any, where: str) -> Any:
    """A JSON value for a config entry; initializer/regularizer objects by class and config."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_encode(v, where) for v in value]
    if type(value).__name__ in _OBJECTS and isinstance(value, tuple(_OBJECTS.values())):
        return {"class_name": type(value).__name__, "config": value.get_config()}
    raise ValueError(f"Cannot save {where}: {value!r} is not a built-in name or object (no "
                     f"pickle); use a built-in activation/initializer/regularizer")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if isinstance(value, dict):
        return _OBJECTS[value["class_name"]](**value["config"])
    return value


def save_model(model: Any, path: str) -> None:
    """Writes ``model`` to the directory ``path`` (created if needed)."""
    if not model.built:
        raise ValueError(f"Cannot save model '{model.name}' before it is built: its input "
                         f"shape is unknown")
    layers = []
    for layer in model.layers:
        config = {k: _encode(v, f"layer '{layer.name}' ({k})")
                  for k, v in layer.get_config().items() if k != "name"}
        layers.append({"class_name": type(layer).__name__, "config": config})
    description = {"format": FORMAT, "version": VERSION, "name": model.name,
                   "input_shape": model.input.shape.as_list()[1:], "layers": layers,
                   "compile": model._compile_arguments}
    os.makedirs(path, exist_ok=True)
    weights = {f"layer{i}/{j}": v for i, layer in enumerate(model.layers)
               for j, v in enumerate(layer.weights)}
    model.get_weights()  # initializes weights a never-fit model has not used yet
    if weights:
        Saver(weights, max_to_keep=None).save(model.session, os.path.join(path, "weights"))
    with open(os.path.join(path, "model.json"), "w", encoding="utf-8") as file:
        json.dump(description, file, indent=1)


def read_model(path: str) -> tuple[list[Layer], dict]:
    """The (unbuilt) layers and the description saved in ``path``.

    Raises:
        FileNotFoundError: ``path`` holds no ``model.json``.
        ValueError: the file is not a graphnn Sequential model of a known version.
    """
    from_file = os.path.join(path, "model.json")
    if not os.path.isfile(from_file):
        raise FileNotFoundError(f"load_model: no saved model in {path!r} (no model.json)")
    with open(from_file, encoding="utf-8") as file:
        description = json.load(file)
    if description.get("format") != FORMAT or description.get("version") != VERSION:
        raise ValueError(f"load_model: {from_file!r} is not a {FORMAT} file of version {VERSION}")
    layers: list[Layer] = []
    for entry in description["layers"]:
        if entry["class_name"] not in _LAYERS:
            raise ValueError(f"load_model: unknown layer class {entry['class_name']!r}")
        config = {k: _decode(v) for k, v in entry["config"].items()}
        layers.append(_LAYERS[entry["class_name"]](**config))
    return layers, description


def restore_weights(model: Any, path: str) -> None:
    """Loads the checkpoint of ``save_model`` into the (built) ``model``'s session."""
    weights = {f"layer{i}/{j}": v for i, layer in enumerate(model.layers)
               for j, v in enumerate(layer.weights)}
    if weights:
        Saver(weights, max_to_keep=None).restore(model.session, os.path.join(path, "weights"))


def saved_loss(loss: Any) -> Any:
    """The JSON form of a compile loss: its name, or class name and from_logits."""
    if isinstance(loss, str):
        return loss
    return {"class_name": type(loss).__name__, "from_logits": loss.from_logits}


def restored_loss(value: Any) -> Any:
    if isinstance(value, str):
        return value
    return {cls.__name__: cls for cls in losses.Loss.__subclasses__()}[value["class_name"]](
        from_logits=value["from_logits"])
