"""Rewrite rules: small pattern -> replacement functions, indexed by the root op's type.

The driver never offers a rule an op with control inputs (replacing it would drop what
it waits for, e.g. a read ordered after an assign). A rule gets the root op and returns the Tensor that replaces its (single) output, or
None when the pattern does not match. New nodes are made with ``make``, which gives
them the provenance (user file:line, gradient-of) of the node they replace. No rule
changes results beyond floating-point reassociation: none drops a computation whose
value could be NaN or Inf (so there is no ``x * 0 -> 0``).
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from graphnn.framework.graph import Operation
from graphnn.framework.shapes import broadcast_shapes
from graphnn.framework.tensor import Tensor
from graphnn.ops.state import CONST_OP

Rule = Callable[[Operation], Optional[Tensor]]
SIMPLIFY: dict[str, list[tuple[str, Rule]]] = {}
STABILIZE: dict[str, list[tuple[str, Rule]]] = {}


def rule(table: dict, root: str, name: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        table.setdefault(root, []).append((name, fn))
        return fn
    return register


def make(like: Operation, op_type: str, inputs: list, attrs: Optional[dict] = None) -> Tensor:
    """A new op in ``like``'s graph that inherits ``like``'s provenance."""
    op = like.graph.create_op(op_type, inputs, attrs, name=f"{like.name}/{op_type}")
    op.location, op.gradient_of = like.location, like.gradient_of
    return op.outputs[0]


# ----- matching helpers ----------------------------------------------------------------
def const_value(tensor: Tensor) -> Optional[np.ndarray]:
    return tensor.op.attrs["value"] if tensor.op.type == CONST_OP else None


def is_filled_with(tensor: Tensor, number: float) -> bool:
    """A constant (or ones_like/zeros_like) whose every element equals ``number``."""
    if number == 1 and tensor.op.type == "OnesLike":
        return True
    if number == 0 and tensor.op.type == "ZerosLike":
        return True
    value = const_value(tensor)
    if value is None and tensor.op.type == "Fill":
        value = const_value(tensor.op.inputs[1])
    if value is None or value.size == 0:
        return False
    if value.size == 1:  # a scalar factor, the usual case: no array comparison
        return bool(value.item() == number)
    return bool(np.all(value == number))


def keeps_shape(op: Operation, x: Tensor) -> bool:
    """Replacing ``op``'s output by ``x`` keeps the static shape and dtype (no broadcasting)."""
    out = op.outputs[0]
    return (out.dtype == x.dtype and x.shape.is_fully_defined() and out.shape == x.shape)


def _identity_if(op: Operation, x: Tensor, other: Tensor, number: float) -> Optional[Tensor]:
    return x if is_filled_with(other, number) and keeps_shape(op, x) else None


def _either_operand(op: Operation, number: float) -> Optional[Tensor]:
    """The operand of a commutative op whose other operand is all ``number``."""
    x, y = op.inputs
    found = _identity_if(op, x, y, number)
    return found if found is not None else _identity_if(op, y, x, number)


# ----- algebraic simplification ----------------------------------------------------------
@rule(SIMPLIFY, "Mul", "x * 1 -> x")
def _mul_one(op):
    return _either_operand(op, 1)


@rule(SIMPLIFY, "Add", "x + 0 -> x")
def _add_zero(op):
    return _either_operand(op, 0)


@rule(SIMPLIFY, "Sub", "x - 0 -> x")
def _sub_zero(op):
    return _identity_if(op, op.inputs[0], op.inputs[1], 0)


@rule(SIMPLIFY, "RealDiv", "x / 1 -> x")
def _div_one(op):
    return _identity_if(op, op.inputs[0], op.inputs[1], 1)


@rule(SIMPLIFY, "Neg", "--x -> x")
def _double_negation(op):
    inner = op.inputs[0]
    return inner.op.inputs[0] if inner.op.type == "Neg" else None


@rule(SIMPLIFY, "Identity", "identity(x) -> x")
def _identity(op):
    return op.inputs[0]


@rule(SIMPLIFY, "StopGradient", "stop_gradient(x) -> x")
def _stop_gradient(op):
    # Gradients are built before compilation; at run time it is the identity.
    return op.inputs[0]


def _input_when_shape_is_kept(op):
    """The op's first input, when the op leaves its value and static shape unchanged."""
    return op.inputs[0] if keeps_shape(op, op.inputs[0]) else None


for _root, _name in (("PlaceholderWithDefault", "unfed placeholder_with_default -> default"),
                     ("Reshape", "reshape to its own shape -> x"),
                     ("SumToShape", "sum to its own shape -> x"),
                     ("BroadcastTo", "broadcast to its own shape -> x")):
    rule(SIMPLIFY, _root, _name)(_input_when_shape_is_kept)


@rule(SIMPLIFY, "Cast", "cast to the same dtype -> x")
def _same_cast(op):
    x = op.inputs[0]
    return x if x.dtype == op.attrs["DstT"] else None


@rule(SIMPLIFY, "Transpose", "transpose(transpose(x)) -> transpose(x) or x")
def _transpose_twice(op):
    inner = op.inputs[0]
    if inner.op.type != "Transpose" or op.inputs[0].shape.ndims is None:
        return None
    rank = inner.shape.ndims
    outer_perm = op.attrs.get("perm") or tuple(reversed(range(rank)))
    inner_perm = inner.op.attrs.get("perm") or tuple(reversed(range(rank)))
    combined = tuple(inner_perm[p] for p in outer_perm)
    x = inner.op.inputs[0]
    if combined == tuple(range(rank)):
        return x
    return make(op, "Transpose", [x], {"perm": combined})


@rule(SIMPLIFY, "Reshape", "reshape(reshape(x)) -> reshape(x)")
def _reshape_twice(op):
    inner = op.inputs[0]
    if inner.op.type != "Reshape":
        return None
    return make(op, "Reshape", [inner.op.inputs[0], op.inputs[1]])


@rule(SIMPLIFY, "SumToShape", "sum of a broadcast back to the source shape -> x * count")
def _sum_of_broadcast(op):
    inner = op.inputs[0]
    if inner.op.type != "BroadcastTo" or not keeps_shape(op, inner.op.inputs[0]):
        return None
    x = inner.op.inputs[0]
    if not inner.shape.is_fully_defined() or not x.dtype.is_floating:
        return None
    count = inner.shape.num_elements() // max(x.shape.num_elements(), 1)
    return make(op, "Mul", [x, op.graph.constant(np.array(count, x.dtype.as_numpy_dtype))])


def _implicit_broadcast(op):
    """An element-wise op reading an explicit BroadcastTo can broadcast by itself."""
    x, y = op.inputs
    out = op.outputs[0]
    if (x.op.type != "BroadcastTo" and y.op.type != "BroadcastTo") \
            or not out.shape.is_fully_defined():
        return None
    for index, tensor in enumerate((x, y)):
        if tensor.op.type != "BroadcastTo":
            continue
        source, other = tensor.op.inputs[0], (y, x)[index]
        if not source.shape.is_fully_defined() or not other.shape.is_fully_defined():
            continue
        if broadcast_shapes(source.shape, other.shape) == out.shape:
            inputs = [source, y] if index == 0 else [x, source]
            return make(op, op.type, inputs)
    return None


for _op_type in ("Add", "Sub", "Mul", "RealDiv"):
    rule(SIMPLIFY, _op_type, "element-wise op of broadcast_to(x) -> implicit broadcast")(
        _implicit_broadcast)


@rule(SIMPLIFY, "Sum", "sum over size-1 axes -> reshape")
def _sum_unit_axes(op):
    x, out = op.inputs[0], op.outputs[0]
    axes = op.attrs.get("axis")
    if axes is None or not x.shape.is_fully_defined() or not out.shape.is_fully_defined():
        return None
    if any(x.shape[a] != 1 for a in axes):
        return None
    return make(op, "Reshape", [x, op.graph.constant(np.array(out.shape.as_list(), np.int32))])


@rule(SIMPLIFY, "Select", "select(c, x, x) -> x")
def _select_same(op):
    _, x, y = op.inputs
    return x if x is y and keeps_shape(op, x) else None


# ----- numerical stabilization ------------------------------------------------------------
@rule(STABILIZE, "Log", "log(softmax(x)) -> log_softmax(x)")
def _log_softmax(op):
    inner = op.inputs[0]
    if inner.op.type != "Softmax":
        return None
    return make(op, "LogSoftmax", [inner.op.inputs[0]], {"axis": inner.op.attrs.get("axis", -1)})


@rule(STABILIZE, "Log", "log(sigmoid(x)) -> -softplus(-x)")
def _log_sigmoid(op):
    inner = op.inputs[0]
    if inner.op.type != "Sigmoid":
        return None
    x = inner.op.inputs[0]
    return make(op, "Neg", [make(op, "Softplus", [make(op, "Neg", [x])])])


@rule(STABILIZE, "Log", "log(1 + x) -> log1p(x)")
def _log1p(op):
    inner = op.inputs[0]
    if inner.op.type != "Add":
        return None
    a, b = inner.op.inputs
    for one, x in ((a, b), (b, a)):
        if is_filled_with(one, 1) and const_value(one) is not None and \
                const_value(one).size == 1 and keeps_shape(inner.op, x):
            return make(op, "Log1p", [x])
    return None


def _last_axis(op: Operation, tensor: Tensor) -> bool:
    rank = tensor.shape.ndims
    axis = op.attrs.get("axis")
    return rank is not None and axis is not None and tuple(axis) == (rank - 1,) \
        and not op.attrs.get("keepdims")


@rule(STABILIZE, "Sum", "sum(labels * log_softmax(logits)) -> -softmax_cross_entropy")
def _fused_cross_entropy(op):
    product = op.inputs[0]
    if product.op.type != "Mul" or not _last_axis(op, product):
        return None
    for labels, log_probs in (product.op.inputs, tuple(reversed(product.op.inputs))):
        if log_probs.op.type == "LogSoftmax" and log_probs.op.attrs.get("axis", -1) in (
                -1, log_probs.shape.ndims - 1) and labels.shape == log_probs.shape \
                and labels.shape.is_fully_defined() and labels.dtype == log_probs.dtype:
            fused = make(op, "SoftmaxCrossEntropyWithLogits", [labels, log_probs.op.inputs[0]])
            return make(op, "Neg", [fused])
    return None
