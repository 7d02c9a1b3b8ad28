"""Dense, Dropout, Flatten and Activation layers (Keras semantics)."""
from __future__ import annotations

import math
from typing import Any, Optional, Union

from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.layers import activations, initializers, regularizers
from graphnn.layers.base import Layer
from graphnn.ops.array import reshape
from graphnn.ops.products import matmul, tensordot
from graphnn.nn import bias_add, dropout


class Dense(Layer):
    """``activation(inputs @ kernel + bias)``, applied to the last axis.

    Example:
        >>> h = gn.layers.Dense(64, activation="relu", kernel_regularizer="l2")(x)
    """

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"Dense units must be a positive int, got {units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel = self.bias = None

    def build(self, input_shape: TensorShape) -> None:
        if input_shape.ndims is None or input_shape.ndims < 1 or input_shape[-1] is None:
            raise ValueError(f"Dense layer '{self.name}' needs inputs whose last dimension is "
                             f"known, got shape {input_shape}")
        self.kernel = self.add_weight("kernel", [input_shape[-1], self.units],
                                      self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.units], self.bias_initializer,
                                        self.bias_regularizer)

    def call(self, inputs: Tensor, training: Union[bool, Tensor] = False) -> Tensor:
        if inputs.shape.ndims == 2:
            outputs = matmul(inputs, self.kernel)
        else:
            outputs = tensordot(inputs, self.kernel, [[inputs.shape.ndims - 1], [0]])
        if self.use_bias:
            outputs = bias_add(outputs, self.bias)
        return self.activation(outputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": self.kernel_regularizer,
                "bias_regularizer": self.bias_regularizer}


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of its inputs in training (scaling the rest by
    1 / (1 - rate)); the identity in inference.

    Example:
        >>> h = gn.layers.Dropout(0.5)(h, training=is_training)
    """

    def __init__(self, rate: float, noise_shape: Any = None, seed: Optional[int] = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate}")
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed

    def call(self, inputs: Tensor, training: Union[bool, Tensor] = False) -> Tensor:
        if training is False or self.rate == 0:
            return inputs
        return dropout(inputs, self.rate, training=training, noise_shape=self.noise_shape,
                       seed=self.seed)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}


class Flatten(Layer):
    """Reshapes (batch, d1, d2, ...) to (batch, d1 * d2 * ...); the d's must be known.

    Example:
        >>> h = gn.layers.Flatten()(images)     # (?, 28, 28) -> (?, 784)
    """

    def call(self, inputs: Tensor, training: Union[bool, Tensor] = False) -> Tensor:
        dims = inputs.shape.as_list() if inputs.shape.ndims is not None else None
        if dims is None or None in dims[1:]:
            raise ValueError(f"Flatten layer '{self.name}' needs every dimension but the batch "
                             f"known, got shape {inputs.shape} for '{inputs.name}'")
        return reshape(inputs, [-1, math.prod(dims[1:])])


class Activation(Layer):
    """Applies an activation by name ("relu", "softmax", ...) or a callable.

    Example:
        >>> probabilities = gn.layers.Activation("softmax")(logits)
    """

    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: Tensor, training: Union[bool, Tensor] = False) -> Tensor:
        return self.activation(inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
