"""``gn.models.load_model``: a model saved by ``model.save``, rebuilt in the default graph."""
from __future__ import annotations

from graphnn.layers.base import Input
from graphnn.models import saving
from graphnn.models.model import Model
from graphnn.models.sequential import Sequential


def load_model(path: str) -> Model:
    """The model saved by ``model.save(path)``, built in the default graph.

    A ``Sequential`` comes back as a ``Sequential``, a functional model as a ``Model``
    with the same layers, connections and weights. A model compiled with writable
    arguments (see ``saving``) comes back compiled, with the optimizer state it had, so
    ``fit`` continues as the saved model would have: ``fit(2 epochs)`` equals
    ``fit(1)``, save, load, ``fit(1)``.

    Raises:
        FileNotFoundError: ``path`` holds no saved model.
        ValueError: the file is not a graphnn model of a known version.

    Example:
        >>> model.save("iris_model")
        >>> same = gn.models.load_model("iris_model")
        >>> same.predict(x_test)
    """
    layers, description = saving.read_model(path)
    inputs = [Input(i["shape"], dtype=i["dtype"], name=i["name"])
              for i in description["inputs"]]
    if description["class_name"] == "Sequential":
        model: Model = Sequential(name=description["name"])
        if inputs:
            model.add(inputs[0])
        for layer in layers:
            model.add(layer)
    else:
        values: list = []
        for node in description["nodes"]:
            sources = [inputs[k] if kind == "input" else values[k] for kind, k in node["inputs"]]
            layer = layers[node["layer"]]
            values.append(layer(sources if node["structured"] else sources[0]))
        outputs = [inputs[k] if kind == "input" else values[k]
                   for kind, k in description["outputs"]]
        model = Model(inputs, outputs, name=description["name"])
    arguments = description.get("compile")
    if arguments is not None:
        model.compile(*saving.compiled_from(arguments))
    saving.restore_state(model, path, description)
    return model
