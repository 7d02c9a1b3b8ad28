"""``gn.layers``: Keras-style layers callable on graph Tensors (see ``base`` for the contract)."""
from graphnn.layers import activations, initializers, regularizers
from graphnn.layers.base import Input, Layer
from graphnn.layers.convolutional import Conv2D, MaxPool2D
from graphnn.layers.core import Activation, Dense, Dropout, Flatten
from graphnn.layers.merge import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from graphnn.layers.normalization import BatchNormalization

__all__ = ["Activation", "Add", "Average", "BatchNormalization", "Concatenate", "Conv2D", "Dense",
           "Dropout", "Flatten", "Input", "Layer", "MaxPool2D", "Maximum", "Minimum", "Multiply",
           "Subtract", "activations", "initializers", "regularizers"]
