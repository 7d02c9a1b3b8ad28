"""``tf.errors``: graphnn's error classes under TF 1's names."""
from graphnn.compat.v1._unsupported import missing_names
from graphnn.errors import (FailedPreconditionError, GraphError, InvalidArgumentError,
                            NotFoundError, ResourceExhaustedError)

OpError = GraphError

__all__ = ["FailedPreconditionError", "InvalidArgumentError", "NotFoundError", "OpError",
           "ResourceExhaustedError"]

__getattr__ = missing_names("errors")
