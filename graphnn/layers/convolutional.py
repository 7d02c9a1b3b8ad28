"""Conv2D and MaxPool2D layers on channels-last (NHWC) images, as Keras's defaults."""
from __future__ import annotations

from typing import Any, Optional, Union

from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.layers import activations, initializers, regularizers
from graphnn.layers.base import Layer
from graphnn.nn import bias_add, conv2d, max_pool2d


def _pair(value: Any, what: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise ValueError(f"{what} must be a positive int or a pair of them, got {value!r}")
    return pair


def _padding(padding: str) -> str:
    if padding.lower() not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return padding.lower()


class Conv2D(Layer):
    """2-D convolution of (batch, height, width, channels) images with ``filters`` kernels.

    Example:
        >>> h = gn.layers.Conv2D(32, 3, activation="relu", padding="same")(images)
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"Conv2D filters must be a positive int, got {filters!r}")
        self.filters = filters
        self.kernel_size = _pair(kernel_size, "Conv2D kernel_size")
        self.strides = _pair(strides, "Conv2D strides")
        self.padding = _padding(padding)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel = self.bias = None

    def build(self, input_shape: TensorShape) -> None:
        if input_shape.ndims != 4 or input_shape[-1] is None:
            raise ValueError(f"Conv2D layer '{self.name}' needs (batch, height, width, channels) "
                             f"inputs with known channels, got shape {input_shape}")
        self.kernel = self.add_weight("kernel", [*self.kernel_size, input_shape[-1], self.filters],
                                      self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.filters], self.bias_initializer,
                                        self.bias_regularizer)

    def call(self, inputs: Tensor, training: Union[bool, Tensor] = False) -> Tensor:
        outputs = conv2d(inputs, self.kernel, strides=self.strides, padding=self.padding.upper())
        if self.use_bias:
            outputs = bias_add(outputs, self.bias)
        return self.activation(outputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": self.kernel_regularizer,
                "bias_regularizer": self.bias_regularizer}


class MaxPool2D(Layer):
    """Maximum over ``pool_size`` windows moved by ``strides`` (default: ``pool_size``).

    Example:
        >>> h = gn.layers.MaxPool2D(2)(h)      # (?, 28, 28, 32) -> (?, 14, 14, 32)
    """

    def __init__(self, pool_size: Any = (2, 2), strides: Optional[Any] = None,
                 padding: str = "valid", **kwargs: Any):
        super().__init__(**kwargs)
        self.pool_size = _pair(pool_size, "MaxPool2D pool_size")
        self.strides = self.pool_size if strides is None else _pair(strides, "MaxPool2D strides")
        self.padding = _padding(padding)

    def call(self, inputs: Tensor, training: Union[bool, Tensor] = False) -> Tensor:
        if inputs.shape.ndims != 4:
            raise ValueError(f"MaxPool2D layer '{self.name}' needs (batch, height, width, "
                             f"channels) inputs, got shape {inputs.shape} for '{inputs.name}'")
        return max_pool2d(inputs, self.pool_size, self.strides, self.padding.upper())

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding}
