"""``tf.layers``: TF 1's layer functions and classes over ``gn.layers``.

A function call (``tf.layers.dense(x, 10)``) builds a ``gn.layers`` layer and applies
it. With ``reuse=True`` (or inside a reusing ``variable_scope``) and a ``name``, the
layer made earlier under that name is applied again, sharing its variables, as TF 1
shares them. Initializers default to TF 1's (Glorot uniform kernels, zero biases).
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Optional

import graphnn as gn
from graphnn.compat.v1._unsupported import missing_names
from graphnn.compat.v1._variables import AUTO_REUSE, get_variable_scope
from graphnn.framework.graph import Graph
from graphnn.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, Layer
from graphnn.layers import MaxPool2D as MaxPooling2D

__all__ = ["BatchNormalization", "Conv2D", "Dense", "Dropout", "Flatten", "Layer",
           "MaxPooling2D", "batch_normalization", "conv2d", "dense", "dropout", "flatten",
           "max_pooling2d"]

_NAMED: weakref.WeakKeyDictionary[Graph, dict[str, Layer]] = weakref.WeakKeyDictionary()


def _apply(make: Callable[[], Layer], inputs: Any, name: Optional[str], reuse: Any,
           training: Any = None) -> gn.Tensor:
    graph = gn.get_default_graph()
    named = _NAMED.setdefault(graph, {})
    scope = get_variable_scope()
    key = None if name is None else (f"{scope.name}/{name}" if scope.name else name)
    reusing = reuse is True or reuse is AUTO_REUSE or scope.reuse in (True, AUTO_REUSE)
    if key is not None and reusing and key in named:
        layer = named[key]
    elif reuse is True or scope.reuse is True:
        raise ValueError(f"tf.layers: cannot reuse layer {key or '(unnamed)'}: no layer of "
                         f"that name was made before; give the first call the same name=")
    else:
        layer = make()
        if key is not None:
            named[key] = layer
    return layer(inputs) if training is None else layer(inputs, training=training)


def _initializer(value: Any, default: str) -> Any:
    return default if value is None else value


def dense(inputs: Any, units: int, activation: Any = None, use_bias: bool = True,
          kernel_initializer: Any = None, bias_initializer: Any = "zeros",
          kernel_regularizer: Any = None, bias_regularizer: Any = None,
          activity_regularizer: Any = None, kernel_constraint: Any = None,
          bias_constraint: Any = None, trainable: bool = True, name: Optional[str] = None,
          reuse: Any = None) -> gn.Tensor:
    """``tf.layers.dense(inputs, units, activation=None, ...)``."""
    return _apply(lambda: Dense(units, activation=activation, use_bias=use_bias,
                                kernel_initializer=_initializer(kernel_initializer,
                                                                "glorot_uniform"),
                                bias_initializer=_initializer(bias_initializer, "zeros"),
                                kernel_regularizer=kernel_regularizer,
                                bias_regularizer=bias_regularizer, name=name,
                                trainable=trainable),
                  inputs, name, reuse)


def conv2d(inputs: Any, filters: int, kernel_size: Any, strides: Any = (1, 1),
           padding: str = "valid", data_format: str = "channels_last",
           dilation_rate: Any = (1, 1), activation: Any = None, use_bias: bool = True,
           kernel_initializer: Any = None, bias_initializer: Any = "zeros",
           kernel_regularizer: Any = None, bias_regularizer: Any = None,
           activity_regularizer: Any = None, kernel_constraint: Any = None,
           bias_constraint: Any = None, trainable: bool = True, name: Optional[str] = None,
           reuse: Any = None) -> gn.Tensor:
    """``tf.layers.conv2d(inputs, filters, kernel_size, strides=(1, 1), padding='valid')``."""
    if data_format != "channels_last" or tuple(_pair(dilation_rate)) != (1, 1):
        raise NotImplementedError("tf.layers.conv2d supports data_format='channels_last' and "
                                  "no dilation in graphnn.compat.v1")
    return _apply(lambda: Conv2D(filters, kernel_size, strides=strides, padding=padding,
                                 activation=activation, use_bias=use_bias,
                                 kernel_initializer=_initializer(kernel_initializer,
                                                                 "glorot_uniform"),
                                 bias_initializer=_initializer(bias_initializer, "zeros"),
                                 kernel_regularizer=kernel_regularizer,
                                 bias_regularizer=bias_regularizer, name=name,
                                 trainable=trainable),
                  inputs, name, reuse)


def _pair(value: Any) -> tuple:
    return (value, value) if isinstance(value, int) else tuple(value)


def max_pooling2d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                  data_format: str = "channels_last", name: Optional[str] = None) -> gn.Tensor:
    """``tf.layers.max_pooling2d(inputs, pool_size, strides, padding='valid')``."""
    if data_format != "channels_last":
        raise NotImplementedError("tf.layers.max_pooling2d supports data_format="
                                  "'channels_last' in graphnn.compat.v1")
    return MaxPooling2D(pool_size, strides, padding=padding, name=name)(inputs)


def flatten(inputs: Any, name: Optional[str] = None,
            data_format: str = "channels_last") -> gn.Tensor:
    """``tf.layers.flatten(inputs)``: (batch, ...) -> (batch, features)."""
    return Flatten(name=name)(inputs)


def dropout(inputs: Any, rate: float = 0.5, noise_shape: Any = None, seed: Optional[int] = None,
            training: Any = False, name: Optional[str] = None) -> gn.Tensor:
    """``tf.layers.dropout(inputs, rate=0.5, training=False)``: note TF 1's default, which
    does nothing unless ``training`` is True or a bool tensor that is True."""
    return Dropout(rate, noise_shape=noise_shape, seed=seed, name=name)(inputs, training=training)


def batch_normalization(inputs: Any, axis: int = -1, momentum: float = 0.99,
                        epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                        beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                        moving_mean_initializer: Any = "zeros",
                        moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                        gamma_regularizer: Any = None, beta_constraint: Any = None,
                        gamma_constraint: Any = None, training: Any = False,
                        trainable: bool = True, name: Optional[str] = None,
                        reuse: Any = None, renorm: bool = False, renorm_clipping: Any = None,
                        renorm_momentum: float = 0.99, fused: Any = None,
                        virtual_batch_size: Any = None, adjustment: Any = None) -> gn.Tensor:
    """``tf.layers.batch_normalization(inputs, training=False, ...)``; its moving-statistics
    updates join ``UPDATE_OPS``, and ``minimize`` runs them (no TF 1 trap)."""
    if renorm or virtual_batch_size is not None or adjustment is not None:
        raise NotImplementedError("batch_normalization(renorm, virtual_batch_size, adjustment) "
                                  "is not supported by graphnn.compat.v1")
    return _apply(lambda: BatchNormalization(
        axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
        beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
        moving_mean_initializer=moving_mean_initializer,
        moving_variance_initializer=moving_variance_initializer, name=name,
        trainable=trainable), inputs, name, reuse, training=training)


__getattr__ = missing_names("layers")
