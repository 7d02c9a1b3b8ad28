"""Activation functions by Keras name, for ``Dense(activation=...)`` and ``Activation``."""
from __future__ import annotations

from typing import Any, Callable, Optional

from graphnn.framework.tensor import Tensor
from graphnn import nn
from graphnn.ops.math import sigmoid, tanh
from graphnn.ops.state import identity


def linear(x: Tensor) -> Tensor:
    """The identity (Keras's "linear", also ``activation=None``)."""
    return x


_BY_NAME: dict[str, Callable[[Tensor], Tensor]] = {
    "linear": linear, "relu": nn.relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": nn.softmax,
    "log_softmax": nn.log_softmax, "elu": nn.elu, "softplus": nn.softplus,
    "leaky_relu": nn.leaky_relu, "identity": identity,
}


def get(identifier: Any) -> Callable[[Tensor], Tensor]:
    """An activation from None (linear), a name ("relu", "softmax", ...) or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown activation {identifier!r}; known: {', '.join(sorted(_BY_NAME))}")
        return _BY_NAME[identifier]
    if callable(identifier):
        return identifier
    raise TypeError(f"An activation must be None, a name or a callable, got {identifier!r}")


def serialize(activation: Optional[Callable]) -> Any:
    """The Keras name of a built-in activation, else the callable itself."""
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return name
    return activation
