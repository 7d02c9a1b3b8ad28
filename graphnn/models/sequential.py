"""``Sequential``: a linear stack of layers, a ``Model`` whose layers form a chain.

It shares everything with ``gn.models.Model`` (compile, fit, evaluate, predict,
summary, save, weights); what differs is how it is built: layer by layer with
``add``, its input from ``gn.layers.Input(shape)`` given first, the first layer's
``input_shape=``, or the data of the first ``fit``/``predict``.

Example:
    >>> model = gn.models.Sequential([gn.layers.Dense(16, activation="relu", input_shape=(4,)),
    ...                               gn.layers.Dense(3, activation="softmax")])
    >>> model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=50, validation_split=0.2, verbose=0)
    >>> model.evaluate(x_test, y_test)
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from graphnn.framework.tensor import Tensor
from graphnn.layers.base import Layer, resolve_training
from graphnn.models import functional
from graphnn.models.model import Model, shape_text
from graphnn.ops.state import placeholder, placeholder_with_default


class Sequential(Model):
    """A linear stack of layers, trained by ``fit`` (Keras's ``Sequential``).

    A model is callable on a Tensor (``model(x, training=...)``) and has
    ``trainable_variables``, so a hand-written loop can train it too.
    """

    def __init__(self, layers: Optional[Sequence[Any]] = None, name: str = "sequential"):
        super().__init__(name=name)
        self._layer_shapes: list[tuple] = []
        for layer in layers or ():
            self.add(layer)

    def add(self, layer: Any) -> None:
        """Appends a layer (or, first, a ``gn.layers.Input`` tensor giving the input shape)."""
        if isinstance(layer, Tensor):
            if self.layers or self.inputs:
                raise ValueError("An Input tensor can only come first in a Sequential model")
            if layer.graph is not self.graph:
                raise ValueError(f"Input '{layer.name}' belongs to another gn.Graph than the "
                                 f"model '{self.name}'")
            self._start(layer)
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add needs a gn.layers.Layer, got {layer!r}")
        if layer.takes_list:
            raise TypeError(f"{type(layer).__name__} takes several inputs; use the functional "
                            f"gn.models.Model(inputs, outputs) for merges")
        self.layers.append(layer)
        if not self.inputs and len(self.layers) == 1 and layer.input_shape is not None:
            with self.graph.as_default():
                self._start(placeholder("float32", [None, *layer.input_shape], name="input"))
        elif self.inputs:
            self._apply(layer)

    def _start(self, input_tensor: Tensor) -> None:
        self.inputs = [input_tensor]
        self.outputs = [input_tensor]
        with self.graph.as_default():
            self._training = placeholder_with_default(False, [], name="training")
        for layer in self.layers:
            self._apply(layer)

    def _apply(self, layer: Layer) -> None:
        with self.graph.as_default():
            output = layer(self.outputs[0], training=self._training)
        source = ("input", 0) if not self._nodes else ("node", len(self._nodes) - 1)
        self._nodes.append(functional.Node(layer, (source,), False))
        self._node_outputs.append(output)
        self._output_refs = [("node", len(self._nodes) - 1)]
        self.outputs = [output]
        self._layer_shapes.append(tuple(output.shape.as_list()))
        self._train_graph = None

    def build(self, input_shape: Sequence[Optional[int]]) -> None:
        """Builds the forward pass for samples of ``input_shape`` (no batch axis)."""
        if not self.inputs:
            with self.graph.as_default():
                self._start(placeholder("float32", [None, *input_shape], name="input"))

    def _build_for(self, x: list[np.ndarray]) -> None:
        self.build(x[0].shape[1:])

    def __call__(self, inputs: Any, training: Any = None) -> Tensor:
        """Applies the layers in order to ``inputs`` (sharing the model's variables)."""
        training = resolve_training(training)
        outputs = inputs
        for layer in self.layers:
            outputs = layer(outputs, training=training)
        return outputs

    def _summary_table(self) -> tuple[tuple, tuple, list[tuple]]:
        rows = [(f"{layer.name} ({type(layer).__name__})", shape_text(shape),
                 f"{layer.count_params():,}")
                for layer, shape in zip(self.layers, self._layer_shapes)]
        return ("Layer (type)", "Output Shape", "Param #"), (29, 26, 10), rows
