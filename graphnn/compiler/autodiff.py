"""Reverse-mode symbolic differentiation: adds gradient nodes to the user's graph.

One backward sweep over the ops between ``xs`` and ``ys`` (linear in their
number). The bookkeeping lives here, never in the rules: pruning to the path and
stopping at ``stop_gradient``/``stop_gradients`` (``gradient_paths.gradient_path``,
which ``explain_gradient`` shares), checking each rule's gradient against its input's
shape and dtype, un-broadcasting each gradient that leads back to an x to its input's
shape (also when shapes are unknown until a run; one shape constant per input of known
shape for the whole call), summing the contributions of fan-out with one AddN, and
refusing a path through an op that declares why it has none (an unbounded loop) rather
than returning a gradient that silently misses that path. Rules of control-flow ops
receive this driver (``OpDef.differentiates_bodies``) to differentiate their bodies.
Each rule, declared with its op, builds graphnn ops, so gradients can be
fetched, drawn, optimized and differentiated again.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from graphnn.compiler.gradient_paths import (gradient_path, gradient_reach, refused_crossings,
                                             stop_set)
from graphnn.framework.gc_pause import gc_paused
from graphnn.framework.graph import Graph, Operation, convert_to_tensor, graph_of
from graphnn.framework.location import in_graphnn, user_code_location
from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.ops.array import reshape
from graphnn.ops.creation import shape as shape_of
from graphnn.ops.creation import zeros_like
from graphnn.ops.declare import apply
from graphnn.ops.math import add_n

_UNCONNECTED = ("none", "zero")


def _as_list(values: Any) -> list:
    if isinstance(values, (list, tuple)):
        return list(values)
    return [values]


class _ShapeConstants:
    """The shapes one ``gradients`` call sums gradients back to: one constant per tensor of
    fully known shape, made under the call's root scope (``root``) as part of the gradient of
    that tensor's op.

    A bias added at every step of an unrolled loop is un-broadcast once per step: a Shape
    op per step would add as many ops, which the compiler then folds and merges one by one.
    """

    def __init__(self, graph: Graph, root: str):
        self._graph, self._root = graph, root
        self._made: dict[Tensor, Tensor] = {}

    def shape_of(self, x: Tensor) -> Tensor:
        """``x``'s shape as an int32 tensor: a constant when fully known, else ``shape(x)``."""
        if not x.shape.is_fully_defined():
            return shape_of(x)
        const = self._made.get(x)
        if const is None:
            graph = self._graph
            with graph.name_scope(self._root), graph.gradient_provenance(x.op):
                const = self._made[x] = graph.constant(
                    np.array(x.shape.as_list(), np.int32), name="Shape")
        return const


def _unbroadcast(op: Operation, grad: Tensor, x: Tensor,
                 shapes: _ShapeConstants) -> Tensor:
    """Sums ``grad`` back to ``x``'s shape where the forward op broadcast ``x``.

    Nothing is added when the static shapes show there is nothing to sum: equal and fully
    known, or equal with a known rank for an op that does not broadcast. Otherwise (an
    unknown rank, or unknown dimensions that a run may broadcast) a SumToShape to
    ``x``'s shape, which the compiler removes where a run's shapes make it the identity.
    """
    if grad.shape == x.shape and x.shape.ndims is not None and (
            x.shape.is_fully_defined() or not op.op_def.broadcasts):
        return grad
    return apply("SumToShape", [grad, shapes.shape_of(x)])


def _broadcasts_to(source: TensorShape, target: TensorShape) -> bool:
    """Whether a tensor of shape ``source`` may broadcast to ``target`` (unknowns may)."""
    if source.ndims is None or target.ndims is None:
        return True
    if source.ndims > target.ndims:
        return False
    return all(s is None or t is None or s in (1, t)
               for s, t in zip(reversed(source.dims), reversed(target.dims)))


def _check_gradient(op: Operation, index: int, grad: Tensor) -> None:
    """Rejects a rule's gradient that cannot be its input's (TensorFlow checks the static
    shape of each input gradient when it is built). A gradient may have a shape its input
    broadcasts to: the driver sums it back."""
    x = op.inputs[index]
    if grad.dtype == x.dtype and (grad.shape.dims == x.shape.dims  # equal shapes broadcast
                                  or _broadcasts_to(x.shape, grad.shape)):
        return
    rule = op.op_def.grad
    raise ValueError(
        f"The gradient rule of {op.type} ({rule.__module__}.{rule.__qualname__}) returned a "
        f"gradient of shape {grad.shape} and dtype {grad.dtype.name} for input {index} "
        f"('{x.name}', shape {x.shape}, dtype {x.dtype.name}) of {op.describe()}; a gradient "
        f"must have its input's dtype, and its input's shape or one that shape broadcasts to")


def _aggregate(grads: list) -> Optional[Tensor]:
    if not grads:
        return None
    return grads[0] if len(grads) == 1 else add_n(grads)


def gradients(ys: Any, xs: Any, grad_ys: Any = None, name: str = "gradients",
              stop_gradients: Any = None, unconnected_gradients: str = "none") -> list:
    """Symbolic gradients of ``sum(ys)`` with respect to each of ``xs``.

    Args:
        ys: a Tensor or list of Tensors to differentiate (their sum).
        xs: a Tensor/Variable or list of them.
        grad_ys: initial gradients of ``ys`` (ones by default).
        stop_gradients: tensors treated as constants.
        unconnected_gradients: "none" gives None for an x with no path to ys,
            "zero" gives zeros of x's shape.

    Returns:
        One gradient Tensor (or None) per x, built as nodes of the graph under
        a ``gradients`` name scope.

    Example:
        >>> dW, db = gn.gradients(loss, [W, b])
    """
    if unconnected_gradients not in _UNCONNECTED:
        raise ValueError(f"unconnected_gradients must be one of {_UNCONNECTED}, "
                         f"got {unconnected_gradients!r}")
    with gc_paused():  # a gradient adds as many ops as its path has (see gc_pause)
        return _gradients(_as_list(ys), _as_list(xs), grad_ys, name, stop_gradients,
                          unconnected_gradients)


def _gradients(ys: list, xs: list, grad_ys: Any, name: str, stop_gradients: Any,
               unconnected_gradients: str) -> list:
    graph = graph_of(ys + xs)
    for t in ys + xs:
        if not isinstance(t, Tensor):
            raise TypeError(f"gradients() takes Tensors and Variables, got {t!r}")
    grad_ys = [None] * len(ys) if grad_ys is None else _as_list(grad_ys)
    if len(grad_ys) != len(ys):
        raise ValueError(f"grad_ys has {len(grad_ys)} entries for {len(ys)} ys")
    stop = stop_set(stop_gradients)
    x_set = set(xs)
    reach = gradient_reach(xs, stop)
    for op in refused_crossings(ys, reach, stop):
        raise ValueError(f"gn.gradients cannot go through {op.describe()}: "
                         f"{op.op_def.no_gradient_reason}")

    # Every op built below is built by graphnn's code for this call's user, so it is located
    # at the user's line found once here, not by a walk of the stack per op (rules of the
    # user's own are walked from, in _backprop_op).
    with graph.name_scope(name) as root, graph.user_code_known(user_code_location()):
        pending: dict[Tensor, list] = {}
        for index, (y, grad_y) in enumerate(zip(ys, grad_ys)):
            if not y.dtype.is_floating:
                continue
            with graph.gradient_provenance(y.op):
                if grad_y is None:
                    grad_y = apply("OnesLike", [y], name=f"grad_ys_{index}")
                else:
                    grad_y = convert_to_tensor(grad_y, dtype=y.dtype, graph=graph)
            pending.setdefault(y, []).append(grad_y)

        results: dict[Tensor, Optional[Tensor]] = {}
        shapes = _ShapeConstants(graph, root)
        for op in gradient_path(ys, reach, stop):
            with graph.name_scope(f"{root}{op.name}_grad/"), graph.gradient_provenance(op):
                out_grads = []
                for tensor in op.outputs:
                    total = _aggregate(pending.pop(tensor, []))
                    if tensor in x_set:
                        results[tensor] = total
                    out_grads.append(None if tensor in stop else total)
                if any(g is not None for g in out_grads):
                    _backprop_op(graph, op, out_grads, reach, pending, shapes)

    with graph.name_scope(root):
        answers = []
        for x in xs:
            with graph.gradient_provenance(x.op):
                grad = results[x] if x in results else _aggregate(pending.get(x, []))
                if grad is None and unconnected_gradients == "zero":
                    grad = zeros_like(x)
            answers.append(grad if x.dtype.is_floating else None)
    return answers


def _backprop_op(graph: Graph, op: Operation, out_grads: list, reach: set, pending: dict,
                 shapes: _ShapeConstants) -> None:
    """Adds ``op``'s input gradients, built in ``graph``, to ``pending`` (inside op's
    gradient name scope).

    Only inputs in ``reach`` lead back to an x: a gradient the rule returns for any other
    input (a constant factor, say) is checked but never summed to its input's shape, and a
    rule declared ``grad_skips_inputs`` (MatMul) is told not to build it.
    """
    opdef = op.op_def
    if not opdef.differentiable:
        return
    if opdef.grad is None:
        raise LookupError(f"No gradient defined for op type '{op.type}': {op.describe()}")
    if len(op.outputs) > 1:
        out_grads = [g if g is not None else zeros_like(t) for g, t in zip(out_grads, op.outputs)]
    # A rule that can skip inputs builds only the gradients that lead back to an x.
    needed = {"needed": [t in reach for t in op.inputs]} if opdef.grad_skips_inputs else {}
    if opdef.differentiates_bodies:  # it calls the driver back for its bodies: walked
        with graph.user_code_known(None):
            in_grads = opdef.grad(op, *out_grads, gradients=gradients)
    elif in_graphnn(opdef.grad):
        in_grads = opdef.grad(op, *out_grads, **needed)
    else:  # a rule of the user's own: its ops are located in it
        with graph.user_code_known(None):
            in_grads = opdef.grad(op, *out_grads, **needed)
    if len(in_grads) != len(op.inputs):
        raise AssertionError(f"internal error: the gradient rule of {op.type} returned "
                             f"{len(in_grads)} gradients for {len(op.inputs)} inputs")
    for index, (tensor, grad) in enumerate(zip(op.inputs, in_grads)):
        if grad is None or not tensor.dtype.is_floating:
            continue
        # (DTypes are singletons; a gradient of its input's very shape needs no more check.)
        if grad.dtype is not tensor.dtype or grad.shape.dims != tensor.shape.dims:
            _check_gradient(op, index, grad)
        if tensor in reach:
            pending.setdefault(tensor, []).append(_unbroadcast(op, grad, tensor, shapes))


def hessians(ys: Any, xs: Any, name: str = "hessians") -> list:
    """Second derivatives of ``sum(ys)``: for each x, a tensor of shape ``x.shape + x.shape``.

    Built as gradients of gradients, one per element of x (x needs a static shape).

    Example:
        >>> H, = gn.hessians(loss, [w])
    """
    xs = _as_list(xs)
    answers = []
    for x in xs:
        if not x.shape.is_fully_defined():
            raise ValueError(f"hessians needs '{x.name}' to have a fully defined shape, "
                             f"got {x.shape}")
        with x.graph.name_scope(name):
            grad, = gradients(ys, x, unconnected_gradients="zero")
            flat = reshape(grad, [-1])
            size = x.shape.num_elements()
            rows = [gradients(flat[i], x, unconnected_gradients="zero")[0] for i in range(size)]
            answers.append(reshape(apply("Pack", rows, {"axis": 0}),
                                   x.shape.as_list() + x.shape.as_list()))
    return answers
