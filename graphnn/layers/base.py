"""The Layer contract (Keras's build/call): variables at first call, under the layer's scope.

A layer is called on a graph Tensor and returns a graph Tensor. The first call opens a
name scope named after the layer (made unique in the graph: ``dense``, ``dense_1`` ...),
creates the layer's variables there (``build``) and computes the output (``call``);
later calls re-enter that scope and reuse the variables, so one layer applied to two
tensors shares its weights. Every call is recorded (``producer_of(tensor)`` gives the
``LayerCall`` that made a tensor), which is how ``gn.models.Model(inputs, outputs)``
finds its layers. ``training`` is None (inference, as Keras outside ``fit``),
a Python bool, or a bool Tensor (e.g. a ``placeholder_with_default``) that decides at
run time; Dropout and BatchNormalization obey it.

Example:
    >>> x = gn.placeholder(gn.float32, [None, 4])
    >>> dense = gn.layers.Dense(3, activation="relu")
    >>> h = dense(x)                      # creates dense/kernel, dense/bias
    >>> [v.name for v in dense.weights]
    ['dense/kernel:0', 'dense/bias:0']
"""
from __future__ import annotations

import abc
import dataclasses
import math
import re
from typing import Any, Optional, Sequence, Union

import numpy as np

from graphnn.framework import dtypes
from graphnn.framework.graph import Graph, GraphKeys, convert_to_tensor
from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.layers import initializers, regularizers
from graphnn.ops.state import Variable, identity, placeholder

Training = Union[None, bool, Tensor]


@dataclasses.dataclass(frozen=True, eq=False)
class LayerCall:
    """One application of a layer: ``output = layer(inputs)`` (a list when ``structured``)."""

    layer: Layer
    inputs: tuple[Tensor, ...]
    structured: bool
    output: Tensor


def producer_of(tensor: Tensor) -> Optional[LayerCall]:
    """The layer call whose output ``tensor`` is, or None (a placeholder, a raw op's output)."""
    return getattr(tensor, "_layer_call", None)


def snake_case(class_name: str) -> str:
    """Keras's default layer name: ``BatchNormalization`` -> ``batch_normalization``."""
    words = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", class_name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", words).lower()


def resolve_training(training: Any) -> Union[bool, Tensor]:
    """None -> False (inference); a bool stays; a bool Tensor decides at run time."""
    if training is None:
        return False
    if isinstance(training, (bool, np.bool_)):
        return bool(training)
    if isinstance(training, Tensor):
        if training.dtype != dtypes.bool_ or training.shape.ndims not in (0, None):
            raise ValueError(f"training must be a scalar bool Tensor, got '{training.name}' with "
                             f"dtype {training.dtype.name} and shape {training.shape}")
        return training
    raise TypeError(f"training must be None, a bool or a bool Tensor, got {training!r}")


class Layer(abc.ABC):
    """Base class of layers: subclasses define ``build(input_shape)`` and ``call``.

    Attributes:
        name: the layer's name; after the first call, its (unique) name scope.
        built: whether the variables exist.
        losses: regularization penalties (scalar Tensors) of this layer's weights.
        updates: state updates (BatchNormalization's moving statistics), also in the
            graph's ``GraphKeys.UPDATE_OPS`` collection.
        input_shape: the per-sample input shape given at construction, if any.
        takes_list: whether the layer is called on a list of Tensors (merge layers).
    """

    takes_list = False

    def __init__(self, name: Optional[str] = None, trainable: bool = True,
                 input_shape: Optional[Sequence[Optional[int]]] = None):
        self.name = name or snake_case(type(self).__name__)
        self.trainable = trainable
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self.built = False
        self.losses: list[Tensor] = []
        self.updates: list = []
        self.output_shape: Optional[TensorShape] = None
        self._weights: list[Variable] = []
        self._graph: Optional[Graph] = None
        self._scope: Optional[str] = None

    # ----- the contract ------------------------------------------------------------------
    def build(self, input_shape: TensorShape) -> None:
        """Creates the layer's variables for inputs of ``input_shape`` (none by default)."""

    @abc.abstractmethod
    def call(self, inputs: Tensor, training: Union[bool, Tensor] = False) -> Tensor:
        """The layer's output for ``inputs`` (``training`` switches Dropout/BN behaviour)."""

    def __call__(self, inputs: Any, training: Training = None) -> Tensor:
        """Applies the layer to a Tensor (or, for merge layers, a list of Tensors).

        The first call builds the layer. Each call is recorded (``producer_of``), so a
        functional ``gn.models.Model`` can find the layers between its inputs and outputs.

        Raises:
            ValueError: ``inputs`` belong to another graph than the layer's variables.
        """
        structured = self.takes_list
        if structured and not (isinstance(inputs, (list, tuple)) and inputs):
            raise TypeError(f"Layer '{self.name}' ({type(self).__name__}) takes a list of "
                            f"Tensors, got {inputs!r}")
        tensors = [convert_to_tensor(t) for t in (inputs if structured else [inputs])]
        training = resolve_training(training)
        graph = tensors[0].graph
        for tensor in tensors:
            if tensor.graph is not (self._graph or graph):
                raise ValueError(f"Layer '{self.name}' has its variables in another gn.Graph "
                                 f"than its input '{tensor.name}'; a layer lives in one graph")
        value = list(tensors) if structured else tensors[0]
        if not self.built:
            with graph.name_scope(self.name) as scope:
                self._graph, self._scope, self.name = graph, scope, scope[:-1]
                self.build([t.shape for t in tensors] if structured else tensors[0].shape)
                self.built = True
                outputs = self._output(value, tensors, training)
        else:
            with graph.name_scope(self._scope):
                outputs = self._output(value, tensors, training)
        self.output_shape = outputs.shape
        # Kept on the tensor itself (as Keras's _keras_history), so it lives and dies with
        # the graph; a side table keyed by tensor would keep every graph alive.
        outputs._layer_call = LayerCall(self, tuple(tensors), structured, outputs)
        return outputs

    def _output(self, value: Any, tensors: list[Tensor], training: Union[bool, Tensor]) -> Tensor:
        outputs = self.call(value, training=training)
        # A layer that passes its input through (Dropout in inference) still gets an
        # output of its own, so each tensor has one producing call.
        return identity(outputs) if any(outputs is t for t in tensors) else outputs

    # ----- variables -----------------------------------------------------------------------
    def add_weight(self, name: str, shape: Sequence[int], initializer: Any = "glorot_uniform",
                   regularizer: Any = None, trainable: bool = True,
                   dtype: Any = dtypes.float32) -> Variable:
        """A variable ``<layer scope>/<name>`` with its initializer and optional regularizer.

        Call it from ``build``. The regularizer's penalty goes to ``self.losses`` and the
        graph's ``GraphKeys.REGULARIZATION_LOSSES`` collection.
        """
        graph = self._graph
        init = initializers.get(initializer)
        with graph.control_dependencies(None):
            with graph.name_scope(f"{name}_initializer"):
                initial_value = init(list(shape), dtypes.as_dtype(dtype))
            variable = Variable(initial_value, trainable=trainable, name=name)
        penalty_of = regularizers.get(regularizer)
        if penalty_of is not None:
            with graph.name_scope(f"{name}_regularizer"):
                penalty = penalty_of(variable)
            self.losses.append(penalty)
            graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, penalty)
        self._weights.append(variable)
        return variable

    def add_update(self, update: Any) -> None:
        """Records a state update that training must run (``GraphKeys.UPDATE_OPS``)."""
        self.updates.append(update)
        self._graph.add_to_collection(GraphKeys.UPDATE_OPS, update)

    @property
    def weights(self) -> list[Variable]:
        """All variables of the layer, in creation order."""
        return list(self._weights)

    @property
    def trainable_variables(self) -> list[Variable]:
        """The variables an optimizer should train (none when ``trainable`` is False)."""
        if not self.trainable:
            return []
        return [v for v in self._weights if v.trainable]

    trainable_weights = trainable_variables

    @property
    def non_trainable_variables(self) -> list[Variable]:
        if not self.trainable:
            return list(self._weights)
        return [v for v in self._weights if not v.trainable]

    non_trainable_weights = non_trainable_variables

    def count_params(self) -> int:
        """The number of scalars in the layer's variables."""
        return sum(math.prod(v.shape.as_list()) for v in self._weights)

    # ----- configuration ---------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments: ``type(layer)(**layer.get_config())`` makes a twin."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self.input_shape is not None:
            config["input_shape"] = self.input_shape
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<gn.layers.{type(self).__name__} '{self.name}'>"


def Input(shape: Sequence[Optional[int]], dtype: Any = dtypes.float32,  # noqa: N802 (Keras's name)
          name: Optional[str] = None) -> Tensor:
    """A placeholder for a batch of samples of ``shape`` (the batch axis is added, None).

    Example:
        >>> x = gn.layers.Input((4,))          # a placeholder of shape (?, 4)
        >>> y = gn.layers.Dense(3)(x)
    """
    return placeholder(dtype, [None, *shape], name=name or "input")
