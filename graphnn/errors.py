"""Run-time error classes (TensorFlow 1 names).

A leaf module: it imports nothing of graphnn, so every layer may raise these.
Build-time shape problems are ``ValueError`` subclasses, dtype problems
``TypeError`` subclasses (``DTypeError`` is both, as TF 1 raised either).
"""
from __future__ import annotations


class GraphError(Exception):
    """Base class of the errors raised when running a graph.

    Attributes:
        op: the Operation the error is about, or None.
    """

    def __init__(self, message: str, op=None):
        super().__init__(message)
        self.message = message
        self.op = op


class InvalidArgumentError(GraphError):
    """A fed value or an argument is invalid (shape, dtype, device)."""


class FailedPreconditionError(GraphError):
    """The system is not in a state to run the request (uninitialized variable)."""


class NotFoundError(GraphError):
    """A name (tensor, operation, checkpoint entry) does not exist."""


class ResourceExhaustedError(GraphError):
    """A run needs more memory than the device has; it was refused before it started."""


class ShapeError(ValueError):
    """Incompatible static shapes at graph-build time."""


class DTypeError(TypeError, ValueError):
    """Incompatible dtypes at graph-build time (TF 1 raised TypeError or ValueError)."""
