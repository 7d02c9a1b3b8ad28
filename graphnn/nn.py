"""``gn.nn``: activations, losses, convolution and pooling (TensorFlow's ``tf.nn``)."""
from graphnn.ops.math import sigmoid, tanh
from graphnn.ops.conv import avg_pool2d, conv2d, max_pool2d
from graphnn.ops.nn import (bias_add, dropout, elu, l2_loss, leaky_relu, log_softmax, relu,
                            sigmoid_cross_entropy_with_logits, softmax,
                            softmax_cross_entropy_with_logits, softplus,
                            sparse_softmax_cross_entropy_with_logits)

__all__ = ["avg_pool2d", "bias_add", "conv2d", "dropout", "elu", "l2_loss", "leaky_relu",
           "log_softmax", "max_pool2d", "relu", "sigmoid", "sigmoid_cross_entropy_with_logits",
           "softmax", "softmax_cross_entropy_with_logits", "softplus",
           "sparse_softmax_cross_entropy_with_logits", "tanh"]
