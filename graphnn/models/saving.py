"""``model.save(path)``, ``save_weights`` and what ``gn.models.load_model`` reads back.

A saved model is a directory holding:

- ``model.json``: the model's class (``Sequential`` or the functional ``Model``), its
  layers' classes and configurations, its inputs (shape, dtype, name), for a
  functional model how the layers connect (each call's layer and sources), the compile
  arguments when they can be written (optimizer by name or built-in class with its
  constructor arguments, loss, metrics by name) and the training counters
  (``epochs_trained``, ``shuffle_seed``);
- ``weights``: a ``gn.train.Saver`` checkpoint of the layers' variables, keyed by
  layer position (``layer0/0``) so a model loads into a graph whose names are taken;
- ``optimizer``: once the model has trained, a checkpoint of the optimizer's state
  (Adam's slots and powers, ...), keyed by creation order, so that training resumes
  exactly where it stood (random draws such as Dropout's masks aside: they are drawn
  per session).

No pickle: custom activations, initializers or regularizers (Python callables)
cannot be saved, and saving says which; a custom optimizer or metric only makes the
loaded model come back uncompiled.
"""
from __future__ import annotations

import json
import os
from typing import Any, Optional, Sequence

from graphnn.io.files import atomic_write
from graphnn.layers import initializers, regularizers
from graphnn.layers.base import Layer
from graphnn.layers.convolutional import Conv2D, MaxPool2D
from graphnn.layers.core import Activation, Dense, Dropout, Flatten
from graphnn.layers.merge import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from graphnn.layers.normalization import BatchNormalization
from graphnn.models import losses
from graphnn.train import optimizers
from graphnn.train.saver import Saver

FORMAT = "graphnn.model"
VERSION = 1
LAYERS = {cls.__name__: cls for cls in (
    Dense, Dropout, Flatten, Activation, Conv2D, MaxPool2D, BatchNormalization, Add, Subtract,
    Multiply, Average, Maximum, Minimum, Concatenate)}
OPTIMIZERS = {cls.__name__: cls for cls in (
    optimizers.GradientDescentOptimizer, optimizers.MomentumOptimizer, optimizers.AdamOptimizer,
    optimizers.RMSPropOptimizer, optimizers.AdagradOptimizer)}
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


# ----- compile arguments ----------------------------------------------------------------------
def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def compile_arguments(optimizer: Any, loss: Any, metrics: Optional[Sequence[Any]]) -> Optional[dict]:
    """The JSON form of ``compile``'s arguments, or None when one cannot be written."""
    if isinstance(optimizer, str):
        saved_optimizer: Any = optimizer
    elif type(optimizer) in OPTIMIZERS.values() and all(
            _plain(v) for v in optimizer.get_config().values()):
        saved_optimizer = {"class_name": type(optimizer).__name__,
                           "config": optimizer.get_config()}
    else:
        return None
    if not all(isinstance(m, str) for m in metrics or ()):
        return None
    if isinstance(loss, str):
        saved_loss: Any = loss
    elif type(loss) in losses.Loss.__subclasses__():
        saved_loss = {"class_name": type(loss).__name__, "from_logits": loss.from_logits}
    else:
        return None
    return {"optimizer": saved_optimizer, "loss": saved_loss, "metrics": list(metrics or ())}


def compiled_from(arguments: dict) -> tuple[Any, Any, list]:
    """``compile``'s (optimizer, loss, metrics) from ``compile_arguments``'s JSON form."""
    optimizer, loss = arguments["optimizer"], arguments["loss"]
    if isinstance(optimizer, dict):
        optimizer = OPTIMIZERS[optimizer["class_name"]](**optimizer["config"])
    if isinstance(loss, dict):
        loss = {cls.__name__: cls for cls in losses.Loss.__subclasses__()}[loss["class_name"]](
            from_logits=loss["from_logits"])
    return optimizer, loss, arguments["metrics"]


# ----- weights and optimizer state ------------------------------------------------------------
def _layer_weights(model: Any) -> dict[str, Any]:
    return {f"layer{i}/{j}": v for i, layer in enumerate(model.layers)
            for j, v in enumerate(layer.weights)}


def save_weights(model: Any, path: str) -> None:
    """Writes the layers' variables to the checkpoint ``path`` (keyed by layer position)."""
    weights = _layer_weights(model)
    if weights:
        Saver(weights, max_to_keep=None).save(model.session, path)


def load_weights(model: Any, path: str) -> None:
    """Loads a checkpoint of ``save_weights`` into the (built) ``model``'s session."""
    weights = _layer_weights(model)
    if weights:
        Saver(weights, max_to_keep=None).restore(model.session, path)


def _optimizer_state(model: Any) -> dict[str, Any]:
    graph = model._train_graph
    if graph is None or not graph.optimizer_variables:
        return {}
    return {f"optimizer/{i}": v for i, v in enumerate(graph.optimizer_variables)}


# ----- the model file ---------------------------------------------------------------------
def _describe(model: Any) -> dict:
    layers = []
    for layer in model.layers:
        config = {k: _encode(v, f"layer '{layer.name}' ({k})")
                  for k, v in layer.get_config().items() if k != "name"}
        layers.append({"class_name": type(layer).__name__, "name": layer.name, "config": config})
    description = {
        "format": FORMAT, "version": VERSION, "class_name": type(model).__name__,
        "name": model.name, "layers": layers,
        "inputs": [{"shape": t.shape.as_list()[1:], "dtype": t.dtype.name, "name": t.op.name}
                   for t in model.inputs],
        "compile": model._compile_arguments,
        "training": {"epochs_trained": model.epochs_trained, "shuffle_seed": model.shuffle_seed}}
    if type(model).__name__ != "Sequential":
        index = {id(layer): i for i, layer in enumerate(model.layers)}
        description["nodes"] = [{"layer": index[id(node.layer)], "inputs": list(node.inputs),
                                 "structured": node.structured} for node in model._nodes]
        description["outputs"] = list(model._output_refs)
    return description


def save_model(model: Any, path: str) -> None:
    """Writes ``model`` to the directory ``path`` (created if needed)."""
    if not model.built:
        raise ValueError(f"Cannot save model '{model.name}' before it is built: its input "
                         f"shape is unknown")
    description = _describe(model)
    os.makedirs(path, exist_ok=True)
    model.get_weights()  # initializes weights a never-fit model has not used yet
    save_weights(model, os.path.join(path, "weights"))
    state = _optimizer_state(model)
    if state and model._compile_arguments is not None:
        Saver(state, max_to_keep=None).save(model.session, os.path.join(path, "optimizer"))
        description["optimizer_variables"] = len(state)
    text = json.dumps(description, indent=1).encode("utf-8")
    atomic_write(os.path.join(path, "model.json"), lambda file: file.write(text))


def read_model(path: str) -> tuple[list[Layer], dict]:
    """The (unbuilt) layers and the description saved in ``path``.

    Raises:
        FileNotFoundError: ``path`` holds no ``model.json``.
        ValueError: the file is not a graphnn model of a known version.
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
        if entry["class_name"] not in LAYERS:
            raise ValueError(f"load_model: unknown layer class {entry['class_name']!r}")
        config = {k: _decode(v) for k, v in entry["config"].items()}
        layers.append(LAYERS[entry["class_name"]](name=entry["name"], **config))
    return layers, description


def restore_state(model: Any, path: str, description: dict) -> None:
    """Loads the weights, and the optimizer state when saved, into the built ``model``."""
    load_weights(model, os.path.join(path, "weights"))
    model._initialized.update(model.weights)
    training = description["training"]
    model.epochs_trained, model.shuffle_seed = training["epochs_trained"], training["shuffle_seed"]
    count = description.get("optimizer_variables")
    if count is None or model._compiled is None:
        return
    graph = model._training_graph("load_model")
    if len(graph.optimizer_variables) != count:
        raise ValueError(f"load_model: the saved optimizer state has {count} variables, the "
                         f"rebuilt optimizer {len(graph.optimizer_variables)}")
    Saver(_optimizer_state(model), max_to_keep=None).restore(model.session,
                                                             os.path.join(path, "optimizer"))
    model._initialized.update(graph.optimizer_variables)
