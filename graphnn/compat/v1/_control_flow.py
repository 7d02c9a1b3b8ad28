"""TF 1's control flow and ``tf.Print`` signatures over graphnn's own ``gn.cond``,
``gn.while_loop``, ``gn.scan``, ``gn.map_fn`` and ``gn.print``.

Arguments that tune TF 1's graph executor (``parallel_iterations``, ``swap_memory``,
``infer_shape``) have no meaning under XLA and are accepted; ``back_prop=False`` stops
gradients at the results. What graphnn cannot honour (``shape_invariants``, ``first_n``)
fails with a clear error instead of being silently ignored.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import jax

import graphnn as gn


def _no_gradient(values: Any, back_prop: bool) -> Any:
    if back_prop:
        return values
    return jax.tree_util.tree_map(gn.stop_gradient, values)


def cond(pred: Any, true_fn: Optional[Callable[[], Any]] = None,
         false_fn: Optional[Callable[[], Any]] = None, strict: bool = False,
         name: Optional[str] = None, fn1: Optional[Callable[[], Any]] = None,
         fn2: Optional[Callable[[], Any]] = None) -> Any:
    """``tf.cond(pred, true_fn, false_fn, strict=False, name=None)`` (``fn1``/``fn2``: its
    deprecated names). Only ops created inside a branch function are conditional, as in
    TF 1. Without ``strict``, a branch result that is a list or tuple of one element is
    unpacked, as TF 1 does."""
    true_fn = true_fn if true_fn is not None else fn1
    false_fn = false_fn if false_fn is not None else fn2
    if true_fn is None or false_fn is None:
        raise TypeError("tf.cond: both true_fn and false_fn are required")
    result = gn.cond(pred, true_fn, false_fn, name=name)
    if not strict and isinstance(result, (list, tuple)) and len(result) == 1:
        return result[0]
    return result


def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Sequence[Any],
               shape_invariants: Any = None, parallel_iterations: int = 10,
               back_prop: bool = True, swap_memory: bool = False, name: Optional[str] = None,
               maximum_iterations: Any = None, return_same_structure: bool = False) -> Any:
    """``tf.while_loop`` with TF 1's arguments; differentiable when ``maximum_iterations``
    is given (see ``gn.while_loop``). Loop variables keep their shapes on every
    iteration, so ``shape_invariants`` is refused."""
    if shape_invariants is not None:
        raise NotImplementedError(
            "tf.while_loop: shape_invariants is not supported by graphnn.compat.v1: XLA "
            "loops keep every loop variable's shape; pad to a fixed shape instead")
    result = gn.while_loop(cond, body, loop_vars, maximum_iterations=maximum_iterations,
                           name=name)
    if return_same_structure and isinstance(loop_vars, (list, tuple)) and len(loop_vars) == 1:
        result = type(loop_vars)([result])
    return _no_gradient(result, back_prop)


def scan(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None,
         parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
         infer_shape: bool = True, reverse: bool = False, name: Optional[str] = None) -> Any:
    """``tf.scan`` with TF 1's arguments (see ``gn.scan``)."""
    result = gn.scan(fn, elems, initializer=initializer, reverse=reverse, name=name)
    return _no_gradient(result, back_prop)


def map_fn(fn: Callable[[Any], Any], elems: Any, dtype: Any = None,
           parallel_iterations: Optional[int] = None, back_prop: bool = True,
           swap_memory: bool = False, infer_shape: bool = True,
           name: Optional[str] = None) -> Any:
    """``tf.map_fn`` with TF 1's arguments (see ``gn.map_fn``)."""
    result = gn.map_fn(fn, elems, dtype=dtype, name=name)
    return _no_gradient(result, back_prop)


def Print(input_: Any, data: Sequence[Any], message: Optional[str] = None,  # noqa: N802
          first_n: Optional[int] = None, summarize: Optional[int] = None,
          name: Optional[str] = None) -> gn.Tensor:
    """``tf.Print(input_, data, message)``: ``input_``, printing ``message`` and ``data``
    whenever a run computes it (``gn.print``; every entry is printed, so ``summarize`` has
    no effect)."""
    if first_n is not None and first_n >= 0:
        raise NotImplementedError(
            "tf.Print: first_n is not supported by graphnn.compat.v1 (a compiled program "
            "prints on every run); fetch the value with sess.run for the first steps instead")
    return gn.print(input_, *data, message=message or "", name=name)
