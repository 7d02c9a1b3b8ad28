"""Merge layers (Keras's): called on a list of Tensors, they join branches of a model.

Example:
    >>> x = gn.layers.Input((8,))
    >>> a = gn.layers.Dense(4, activation="relu")(x)
    >>> b = gn.layers.Dense(4, activation="tanh")(x)
    >>> both = gn.layers.Concatenate()([a, b])        # shape (?, 8)
    >>> total = gn.layers.Add()([a, b])               # shape (?, 4)
"""
from __future__ import annotations

import abc
import functools
from typing import Any, Sequence, Union

from graphnn.framework.shapes import TensorShape, broadcast_shapes
from graphnn.framework.tensor import Tensor
from graphnn.layers.base import Layer
from graphnn.ops.array import concat
from graphnn.ops.math import add_n, maximum, minimum


class _Merge(Layer):
    """Base of the element-wise merges: inputs of shapes that broadcast together."""

    takes_list = True

    def build(self, input_shape: Sequence[TensorShape]) -> None:
        if len(input_shape) < 2:
            raise ValueError(f"{type(self).__name__} layer '{self.name}' needs at least 2 "
                             f"inputs, got {len(input_shape)}")
        functools.reduce(broadcast_shapes, input_shape)

    def call(self, inputs: list[Tensor], training: Union[bool, Tensor] = False) -> Tensor:
        return self._merge(inputs)

    @abc.abstractmethod
    def _merge(self, inputs: list[Tensor]) -> Tensor:
        """The merged Tensor."""


class Add(_Merge):
    """The sum of its inputs."""

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        return add_n(inputs)


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    def build(self, input_shape: Sequence[TensorShape]) -> None:
        if len(input_shape) != 2:
            raise ValueError(f"Subtract layer '{self.name}' needs exactly 2 inputs, got "
                             f"{len(input_shape)}")
        super().build(input_shape)

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """The element-wise product of its inputs."""

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        return functools.reduce(lambda a, b: a * b, inputs)


class Average(_Merge):
    """The element-wise mean of its inputs."""

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        return add_n(inputs) / float(len(inputs))


class Maximum(_Merge):
    """The element-wise maximum of its inputs."""

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        return functools.reduce(maximum, inputs)


class Minimum(_Merge):
    """The element-wise minimum of its inputs."""

    def _merge(self, inputs: list[Tensor]) -> Tensor:
        return functools.reduce(minimum, inputs)


class Concatenate(Layer):
    """Joins its inputs along ``axis`` (the last by default).

    Example:
        >>> h = gn.layers.Concatenate()([a, b])
    """

    takes_list = True

    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape: Sequence[TensorShape]) -> None:
        if len(input_shape) < 2:
            raise ValueError(f"Concatenate layer '{self.name}' needs at least 2 inputs, got "
                             f"{len(input_shape)}")

    def call(self, inputs: list[Tensor], training: Union[bool, Tensor] = False) -> Tensor:
        return concat(inputs, axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
