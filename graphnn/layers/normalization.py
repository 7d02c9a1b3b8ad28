"""BatchNormalization: batch statistics in training, moving averages in inference."""
from __future__ import annotations

from typing import Any, Union

from graphnn.framework.graph import convert_to_tensor
from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.layers.base import Layer
from graphnn.ops.array import reshape
from graphnn.ops.creation import where
from graphnn.ops.math import rsqrt, square
from graphnn.ops.reduction import reduce_mean


class BatchNormalization(Layer):
    """Normalizes over every axis but ``axis``: ``gamma * (x - mean) / sqrt(var + eps) + beta``.

    In training, mean and variance are the batch's (the biased variance, as Keras), and
    the moving statistics move toward them by ``1 - momentum`` per step; those updates
    are in ``self.updates`` and the graph's ``GraphKeys.UPDATE_OPS``, and
    ``Optimizer.minimize`` runs those that belong to its loss's forward pass. In
    inference the moving statistics are used. With a Tensor ``training``, the choice
    (and whether the moving statistics change) is made at run time.

    Example:
        >>> h = gn.layers.BatchNormalization()(h, training=True)
        >>> train = gn.train.AdamOptimizer().minimize(loss)   # also updates the statistics
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", **kwargs: Any):
        super().__init__(**kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization momentum must be in [0, 1], got {momentum}")
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center, self.scale = center, scale
        self.initializers = {"beta": beta_initializer, "gamma": gamma_initializer,
                             "moving_mean": moving_mean_initializer,
                             "moving_variance": moving_variance_initializer}
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None
        self._axis = None

    def build(self, input_shape: TensorShape) -> None:
        rank = input_shape.ndims
        if rank is None or not -rank <= self.axis < rank or input_shape[self.axis] is None:
            raise ValueError(f"BatchNormalization layer '{self.name}' needs inputs of known rank "
                             f"with a known axis {self.axis}, got shape {input_shape}")
        self._axis = self.axis % rank
        channels = [input_shape[self._axis]]
        if self.scale:
            self.gamma = self.add_weight("gamma", channels, self.initializers["gamma"])
        if self.center:
            self.beta = self.add_weight("beta", channels, self.initializers["beta"])
        self.moving_mean = self.add_weight("moving_mean", channels,
                                           self.initializers["moving_mean"], trainable=False)
        self.moving_variance = self.add_weight("moving_variance", channels,
                                               self.initializers["moving_variance"],
                                               trainable=False)

    def call(self, inputs: Tensor, training: Union[bool, Tensor] = False) -> Tensor:
        rank = inputs.shape.ndims
        # Statistics have shape (channels,); this shape broadcasts them against the input.
        broadcast = [1] * rank
        broadcast[self._axis] = -1
        mean, variance = self.moving_mean, self.moving_variance
        if training is not False:
            batch_mean, batch_variance = self._moments(inputs, broadcast)
            self._add_moving_updates(batch_mean, batch_variance, training)
            if training is True:
                mean, variance = batch_mean, batch_variance
            else:
                mean = where(training, batch_mean, mean)
                variance = where(training, batch_variance, variance)
        outputs = (inputs - reshape(mean, broadcast)) * reshape(
            rsqrt(variance + self.epsilon), broadcast)
        if self.scale:
            outputs = outputs * reshape(self.gamma, broadcast)
        if self.center:
            outputs = outputs + reshape(self.beta, broadcast)
        return outputs

    def _moments(self, inputs: Tensor, broadcast: list[int]) -> tuple[Tensor, Tensor]:
        axes = [i for i in range(inputs.shape.ndims) if i != self._axis]
        mean = reduce_mean(inputs, axis=axes)
        variance = reduce_mean(square(inputs - reshape(mean, broadcast)), axis=axes)
        return mean, variance

    def _add_moving_updates(self, batch_mean: Tensor, batch_variance: Tensor,
                            training: Union[bool, Tensor]) -> None:
        decay = convert_to_tensor(1.0 - self.momentum, self.moving_mean.dtype)
        for moving, batch in ((self.moving_mean, batch_mean),
                              (self.moving_variance, batch_variance)):
            new_value = moving - (moving - batch) * decay
            if training is not True:
                new_value = where(training, new_value, moving)
            self.add_update(moving.assign(new_value).op)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **{f"{k}_initializer": v for k, v in self.initializers.items()}}
