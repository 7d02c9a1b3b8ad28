"""``tf.nn``: TF 1's signatures over ``gn.nn`` (``keep_prob`` dropout, 4-element strides...).

Compositions TF 1 offers as functions (``relu6``, ``l2_normalize``, ``moments``,
``xw_plus_b``, ``embedding_lookup``) are written with graphnn's ops, declaring none.
"""
from __future__ import annotations

from typing import Any, Optional

import graphnn as gn
from graphnn.compat.v1._ops import _either
from graphnn.compat.v1._unsupported import missing_names
from graphnn.nn import (bias_add, elu, l2_loss, leaky_relu, relu, sigmoid, softplus, tanh)

__all__ = ["avg_pool", "bias_add", "conv2d", "dropout", "elu", "embedding_lookup", "l2_loss",
           "l2_normalize", "leaky_relu", "log_softmax", "max_pool", "moments", "relu", "relu6",
           "sigmoid", "sigmoid_cross_entropy_with_logits", "softmax",
           "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
           "softplus", "sparse_softmax_cross_entropy_with_logits", "tanh", "xw_plus_b"]


def _axis(axis: Any, dim: Any, op: str) -> int:
    axis = _either(axis, dim, "axis", "dim", op)
    return -1 if axis is None else axis


def softmax(logits: Any, axis: Any = None, name: Optional[str] = None, dim: Any = None) -> gn.Tensor:
    """``tf.nn.softmax(logits, axis=None, name=None, dim=None)``."""
    return gn.nn.softmax(logits, axis=_axis(axis, dim, "softmax"), name=name)


def log_softmax(logits: Any, axis: Any = None, name: Optional[str] = None,
                dim: Any = None) -> gn.Tensor:
    """``tf.nn.log_softmax(logits, axis=None, name=None, dim=None)``."""
    return gn.nn.log_softmax(logits, axis=_axis(axis, dim, "log_softmax"), name=name)


def relu6(features: Any, name: Optional[str] = None) -> gn.Tensor:
    """``min(max(features, 0), 6)``."""
    return gn.minimum(gn.nn.relu(features), 6.0, name=name)


def _labels_and_logits(sentinel: Any, labels: Any, logits: Any, op: str) -> None:
    if sentinel is not None or labels is None or logits is None:
        raise ValueError(f"Only call `{op}` with named arguments (labels=..., logits=..., ...)")


def softmax_cross_entropy_with_logits(_sentinel: Any = None, labels: Any = None,
                                      logits: Any = None, dim: Any = -1,
                                      name: Optional[str] = None, axis: Any = None) -> gn.Tensor:
    """TF 1's deprecated form (named arguments only); gradients also reach ``labels``, as in
    ``_v2`` (wrap labels in ``tf.stop_gradient`` when they are computed)."""
    _labels_and_logits(_sentinel, labels, logits, "softmax_cross_entropy_with_logits")
    axis = _either(axis, None if dim == -1 else dim, "axis", "dim",
                   "softmax_cross_entropy_with_logits")
    return gn.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                   axis=-1 if axis is None else axis, name=name)


def softmax_cross_entropy_with_logits_v2(labels: Any, logits: Any, axis: Any = None,
                                         name: Optional[str] = None,
                                         dim: Any = None) -> gn.Tensor:
    """``tf.nn.softmax_cross_entropy_with_logits_v2(labels, logits, axis=None, name=None)``."""
    return gn.nn.softmax_cross_entropy_with_logits(
        labels=labels, logits=logits, axis=_axis(axis, dim, "softmax_cross_entropy"), name=name)


def sparse_softmax_cross_entropy_with_logits(_sentinel: Any = None, labels: Any = None,
                                             logits: Any = None,
                                             name: Optional[str] = None) -> gn.Tensor:
    """TF 1's form: named arguments only."""
    _labels_and_logits(_sentinel, labels, logits, "sparse_softmax_cross_entropy_with_logits")
    return gn.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name=name)


def sigmoid_cross_entropy_with_logits(_sentinel: Any = None, labels: Any = None,
                                      logits: Any = None, name: Optional[str] = None) -> gn.Tensor:
    """TF 1's form: named arguments only."""
    _labels_and_logits(_sentinel, labels, logits, "sigmoid_cross_entropy_with_logits")
    return gn.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name=name)


def dropout(x: Any, keep_prob: Any = None, noise_shape: Any = None, seed: Optional[int] = None,
            name: Optional[str] = None, rate: Any = None) -> gn.Tensor:
    """TF 1's ``tf.nn.dropout(x, keep_prob)``: keeps each element with probability
    ``keep_prob`` (a number or a fed tensor) and scales it by ``1 / keep_prob``.

    Example:
        >>> keep_prob = tf.placeholder(tf.float32)
        >>> h = tf.nn.dropout(h, keep_prob)       # feed 0.75 to train, 1.0 to evaluate
    """
    if keep_prob is not None and rate is not None:
        raise ValueError("dropout: cannot specify both 'keep_prob' and 'rate'")
    if keep_prob is None and rate is None:
        raise ValueError("dropout: either 'keep_prob' or 'rate' must be given")
    if rate is None:
        if isinstance(keep_prob, (int, float)) and not 0 < keep_prob <= 1:
            raise ValueError(f"keep_prob must be a scalar tensor or a float in the range "
                             f"(0, 1], got {keep_prob}")
        rate = 1.0 - keep_prob
    if isinstance(rate, (int, float)) and rate == 0:
        return gn.identity(x, name=name)
    return gn.nn.dropout(x, rate, training=True, noise_shape=noise_shape, seed=seed, name=name)


def conv2d(input: Any, filter: Any = None, strides: Any = None,  # noqa: A002 (TF's names)
           padding: Any = None, use_cudnn_on_gpu: bool = True, data_format: str = "NHWC",
           dilations: Any = (1, 1, 1, 1), name: Optional[str] = None,
           filters: Any = None) -> gn.Tensor:
    """``tf.nn.conv2d(input, filter, strides=[1, s, s, 1], padding='SAME')``."""
    filters = _either(filters, filter, "filters", "filter", "conv2d")
    if filters is None or strides is None or padding is None:
        raise ValueError("conv2d needs filter, strides and padding")
    return gn.nn.conv2d(input, filters, strides, padding, data_format=data_format,
                        dilations=dilations, name=name)


def max_pool(value: Any, ksize: Any, strides: Any, padding: str, data_format: str = "NHWC",
             name: Optional[str] = None, input: Any = None) -> gn.Tensor:  # noqa: A002
    """``tf.nn.max_pool(value, ksize=[1, k, k, 1], strides=[1, s, s, 1], padding)``."""
    value = _either(value, input, "value", "input", "max_pool")
    return gn.nn.max_pool2d(value, ksize, strides, padding, data_format=data_format, name=name)


def avg_pool(value: Any, ksize: Any, strides: Any, padding: str, data_format: str = "NHWC",
             name: Optional[str] = None, input: Any = None) -> gn.Tensor:  # noqa: A002
    """``tf.nn.avg_pool(value, ksize, strides, padding)``."""
    value = _either(value, input, "value", "input", "avg_pool")
    return gn.nn.avg_pool2d(value, ksize, strides, padding, data_format=data_format, name=name)


def xw_plus_b(x: Any, weights: Any, biases: Any, name: Optional[str] = None) -> gn.Tensor:
    """``matmul(x, weights) + biases``."""
    return gn.nn.bias_add(gn.matmul(x, weights), biases, name=name)


def embedding_lookup(params: Any, ids: Any, partition_strategy: str = "mod",
                     name: Optional[str] = None, validate_indices: bool = True,
                     max_norm: Any = None) -> gn.Tensor:
    """Rows ``ids`` of ``params`` (one tensor; lists of shards are not supported)."""
    if isinstance(params, (list, tuple)):
        if len(params) != 1:
            raise NotImplementedError("embedding_lookup over sharded params is not supported "
                                      "by graphnn.compat.v1")
        params = params[0]
    if max_norm is not None:
        raise NotImplementedError("embedding_lookup(max_norm=...) is not supported by "
                                  "graphnn.compat.v1")
    return gn.gather(params, ids, name=name)


def l2_normalize(x: Any, axis: Any = None, epsilon: float = 1e-12, name: Optional[str] = None,
                 dim: Any = None) -> gn.Tensor:
    """``x / sqrt(max(sum(x ** 2, axis), epsilon))``."""
    axis = _either(axis, dim, "axis", "dim", "l2_normalize")
    squares = gn.reduce_sum(gn.square(x), axis=axis, keepdims=True)
    return gn.multiply(x, gn.rsqrt(gn.maximum(squares, epsilon)), name=name)


def moments(x: Any, axes: Any, shift: Any = None, name: Optional[str] = None,
            keep_dims: Any = None, keepdims: Any = None) -> tuple[gn.Tensor, gn.Tensor]:
    """The mean and variance of ``x`` over ``axes``."""
    keep = bool(_either(keepdims, keep_dims, "keepdims", "keep_dims", "moments"))
    with gn.name_scope(name or "moments"):
        mean = gn.reduce_mean(x, axis=axes, keepdims=True)
        variance = gn.reduce_mean(gn.square(x - gn.stop_gradient(mean)), axis=axes,
                                  keepdims=True)
        if not keep:
            mean, variance = gn.squeeze(mean, axes), gn.squeeze(variance, axes)
        return mean, variance


__getattr__ = missing_names("nn")
