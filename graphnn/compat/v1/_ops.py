"""TF 1 signatures of graphnn's ops: deprecated argument names, positional orders, aliases.

Each function here only renames or reorders arguments and calls graphnn's own op
(``reduction_indices=`` -> ``axis=``, ``keep_dims=`` -> ``keepdims=``, ``dimension=``,
``squeeze_dims=``, ``dim=``); the ops themselves are declared once, in ``graphnn.ops``.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import graphnn as gn
from graphnn.framework.tensor import Tensor
from graphnn.ops.declare import pair

__all__ = ["arg_max", "arg_min", "argmax", "argmin", "div", "expand_dims", "gather", "matmul",
           "multiply", "rank", "reduce_all", "reduce_any", "reduce_logsumexp", "reduce_max",
           "reduce_mean", "reduce_min", "reduce_prod", "reduce_sum", "reciprocal", "scalar_mul",
           "shape", "size", "squared_difference", "squeeze", "to_double", "to_float", "to_int32",
           "to_int64", "transpose", "zeros_like", "ones_like"]


def _either(new: Any, old: Any, new_name: str, old_name: str, op: str) -> Any:
    """The value of an argument TF 1 accepts under two names (one deprecated)."""
    if new is not None and old is not None:
        raise ValueError(f"{op}: cannot specify both '{new_name}' and '{old_name}'")
    return old if new is None else new


def _reduction(gn_op: Any, op: str):
    def reduce(input_tensor: Any, axis: Any = None, keepdims: Optional[bool] = None,
               name: Optional[str] = None, reduction_indices: Any = None,
               keep_dims: Optional[bool] = None) -> Tensor:
        axis = _either(axis, reduction_indices, "axis", "reduction_indices", op)
        keep = _either(keepdims, keep_dims, "keepdims", "keep_dims", op)
        return gn_op(input_tensor, axis=axis, keepdims=bool(keep), name=name)

    reduce.__name__ = reduce.__qualname__ = op
    reduce.__doc__ = (f"``tf.{op}(input_tensor, axis=None, keepdims=None, name=None, "
                      f"reduction_indices=None, keep_dims=None)`` over ``gn.{op}``.")
    return reduce


reduce_sum = _reduction(gn.reduce_sum, "reduce_sum")
reduce_mean = _reduction(gn.reduce_mean, "reduce_mean")
reduce_max = _reduction(gn.reduce_max, "reduce_max")
reduce_min = _reduction(gn.reduce_min, "reduce_min")
reduce_prod = _reduction(gn.reduce_prod, "reduce_prod")
reduce_all = _reduction(gn.reduce_all, "reduce_all")
reduce_any = _reduction(gn.reduce_any, "reduce_any")
reduce_logsumexp = _reduction(gn.reduce_logsumexp, "reduce_logsumexp")


def argmax(input: Any, axis: Any = None, name: Optional[str] = None,  # noqa: A002 (TF's name)
           dimension: Any = None, output_type: Any = gn.int64) -> Tensor:
    """``tf.argmax`` (TF 1 order: ``name`` before ``dimension`` and ``output_type``)."""
    axis = _either(axis, dimension, "axis", "dimension", "argmax")
    return gn.argmax(input, axis=0 if axis is None else axis, output_type=output_type, name=name)


def argmin(input: Any, axis: Any = None, name: Optional[str] = None,  # noqa: A002 (TF's name)
           dimension: Any = None, output_type: Any = gn.int64) -> Tensor:
    """``tf.argmin`` (TF 1 order: ``name`` before ``dimension`` and ``output_type``)."""
    axis = _either(axis, dimension, "axis", "dimension", "argmin")
    return gn.argmin(input, axis=0 if axis is None else axis, output_type=output_type, name=name)


def arg_max(input: Any, dimension: Any, output_type: Any = gn.int64,  # noqa: A002 (TF's name)
            name: Optional[str] = None) -> Tensor:
    """TF 1's older ``tf.arg_max(input, dimension)``."""
    return gn.argmax(input, axis=dimension, output_type=output_type, name=name)


def arg_min(input: Any, dimension: Any, output_type: Any = gn.int64,  # noqa: A002 (TF's name)
            name: Optional[str] = None) -> Tensor:
    """TF 1's older ``tf.arg_min(input, dimension)``."""
    return gn.argmin(input, axis=dimension, output_type=output_type, name=name)


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, name: Optional[str] = None) -> Tensor:
    """``tf.matmul``; for real tensors ``adjoint`` is ``transpose``; sparsity hints are ignored."""
    return gn.matmul(a, b, transpose_a=transpose_a or adjoint_a,
                     transpose_b=transpose_b or adjoint_b, name=name)


def multiply(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """``tf.multiply`` (also ``tf.mul`` in older programs)."""
    return gn.multiply(x, y, name=name)


def div(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """TF 1's Python 2 division: floor division for integers, true division for floats."""
    x, y = pair(x, y, "div")
    return (gn.floordiv if x.dtype.is_integer else gn.divide)(x, y, name=name)


def scalar_mul(scalar: Any, x: Any, name: Optional[str] = None) -> Tensor:
    """``scalar * x``."""
    return gn.multiply(scalar, x, name=name)


def squared_difference(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
    """``(x - y) ** 2``, element-wise."""
    return gn.square(gn.subtract(x, y), name=name)


def reciprocal(x: Any, name: Optional[str] = None) -> Tensor:
    """``1 / x``, element-wise."""
    x = gn.convert_to_tensor(x)
    return gn.divide(gn.ones_like(x), x, name=name)


def transpose(a: Any, perm: Optional[Sequence[int]] = None, name: str = "transpose",
              conjugate: bool = False) -> Tensor:
    """``tf.transpose`` (``conjugate`` changes nothing for real tensors)."""
    return gn.transpose(a, perm, name=name)


def squeeze(input: Any, axis: Any = None, name: Optional[str] = None,  # noqa: A002 (TF's name)
            squeeze_dims: Any = None) -> Tensor:
    """``tf.squeeze`` with TF 1's deprecated ``squeeze_dims=``."""
    return gn.squeeze(input, _either(axis, squeeze_dims, "axis", "squeeze_dims", "squeeze"),
                      name=name)


def expand_dims(input: Any, axis: Any = None, name: Optional[str] = None,  # noqa: A002
                dim: Any = None) -> Tensor:
    """``tf.expand_dims`` with TF 1's deprecated ``dim=``."""
    axis = _either(axis, dim, "axis", "dim", "expand_dims")
    if axis is None:
        raise ValueError("expand_dims: either 'axis' or 'dim' must be given")
    return gn.expand_dims(input, axis, name=name)


def gather(params: Any, indices: Any, validate_indices: Any = None, name: Optional[str] = None,
           axis: Any = None, batch_dims: int = 0) -> Tensor:
    """``tf.gather``; indices are always validated (``Session(check_indices=...)``)."""
    if batch_dims:
        raise NotImplementedError("tf.gather(batch_dims=...) is not supported by graphnn")
    return gn.gather(params, indices, axis=0 if axis is None else axis, name=name)


def shape(input: Any, name: Optional[str] = None, out_type: Any = gn.int32) -> Tensor:  # noqa: A002
    """``tf.shape`` (TF 1 order: ``name`` before ``out_type``)."""
    return gn.shape(input, out_type=out_type, name=name)


def size(input: Any, name: Optional[str] = None, out_type: Any = gn.int32) -> Tensor:  # noqa: A002
    """``tf.size`` (TF 1 order: ``name`` before ``out_type``)."""
    return gn.size(input, out_type=out_type, name=name)


def rank(input: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002 (TF's name)
    """The number of dimensions of ``input``, an int32 scalar."""
    return gn.size(gn.shape(input), name=name)


def zeros_like(tensor: Any, dtype: Any = None, name: Optional[str] = None,
               optimize: bool = True) -> Tensor:
    """``tf.zeros_like`` (``optimize`` is the compiler's business here)."""
    return gn.zeros_like(tensor, dtype=dtype, name=name)


def ones_like(tensor: Any, dtype: Any = None, name: Optional[str] = None,
              optimize: bool = True) -> Tensor:
    """``tf.ones_like`` (``optimize`` is the compiler's business here)."""
    return gn.ones_like(tensor, dtype=dtype, name=name)


def to_float(x: Any, name: str = "ToFloat") -> Tensor:
    """``tf.cast(x, tf.float32)``."""
    return gn.cast(x, gn.float32, name=name)


def to_double(x: Any, name: str = "ToDouble") -> Tensor:
    """``tf.cast(x, tf.float64)``."""
    return gn.cast(x, gn.float64, name=name)


def to_int32(x: Any, name: str = "ToInt32") -> Tensor:
    """``tf.cast(x, tf.int32)``."""
    return gn.cast(x, gn.int32, name=name)


def to_int64(x: Any, name: str = "ToInt64") -> Tensor:
    """``tf.cast(x, tf.int64)``."""
    return gn.cast(x, gn.int64, name=name)
