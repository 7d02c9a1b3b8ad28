"""Why a tensor has no gradient: the diagnosis behind ``minimize``'s errors and
``gn.explain_gradient`` (TensorFlow 1's "No gradients provided for any variable",
explained)."""
from __future__ import annotations

from typing import Optional

from graphnn.framework.graph import Operation
from graphnn.framework.tensor import Tensor
from graphnn.ops.state import VARIABLE_OP


def _ops_on_paths(y: Tensor, x: Tensor) -> set:
    """Ops on some data path from ``x`` to ``y``, whatever the dtypes."""
    graph = x.graph
    downstream: set = set()
    stack = [x]
    while stack:
        for op in graph.consumers_of(stack.pop()):
            if op not in downstream:
                downstream.add(op)
                stack.extend(op.outputs)
    on_path: set = set()
    stack = [y.op] if y.op in downstream else []
    while stack:
        op = stack.pop()
        if op not in on_path:
            on_path.add(op)
            stack.extend(t.op for t in op.inputs if t.op in downstream)
    return on_path


def _why_cut(op: Operation) -> Optional[str]:
    """Why gradients cannot cross ``op``, or None if they can."""
    if op.type == "StopGradient":
        return "stop_gradient blocks gradients on purpose"
    if not op.op_def.differentiable:
        return "it is not differentiable"
    if op.outputs and not any(t.dtype.is_floating for t in op.outputs):
        return (f"its output is {op.outputs[0].dtype.name}, and integer or boolean tensors "
                f"carry no gradient")
    return None


def _gradient_reach(x: Tensor) -> set:
    """Tensors that a gradient with respect to ``x`` can flow back from."""
    graph = x.graph
    reached = {x}
    stack = [x]
    while stack:
        for op in graph.consumers_of(stack.pop()):
            if _why_cut(op) is None:
                for out in op.outputs:
                    if out.dtype.is_floating and out not in reached:
                        reached.add(out)
                        stack.append(out)
    return reached


def gradient_diagnosis(y: Tensor, x: Tensor) -> Optional[str]:
    """None when a gradient can flow from ``y`` back to ``x``; otherwise the reason, naming
    each op that cuts the path and where the user created it."""
    name = x.op.name if x.op.type == VARIABLE_OP else x.name
    what = "Variable" if x.op.type == VARIABLE_OP else "Tensor"
    if not x.dtype.is_floating:
        return f"{what} '{name}' is {x.dtype.name}: integer and boolean tensors get no gradient"
    on_path = _ops_on_paths(y, x)
    if not on_path:
        return (f"{what} '{name}' (created at {x.op.where}) is not used to compute "
                f"'{y.name}': there is no path from it to the loss")
    reach = _gradient_reach(x)
    if y in reach:
        return None
    cuts = sorted((op for op in on_path
                   if any(t in reach for t in op.inputs) and _why_cut(op) is not None),
                  key=lambda op: op._id)
    reasons = "; ".join(f"{op.type} '{op.name}' created at {op.where} ({_why_cut(op)})"
                        for op in cuts)
    return f"{what} '{name}' reaches '{y.name}' only through ops that cut the gradient: {reasons}"


def explain_gradient(y: Tensor, x: Tensor) -> str:
    """Prints and returns why ``gn.gradients(y, x)`` is (or is not) None.

    Example:
        >>> gn.explain_gradient(loss, W)
        Variable 'W' reaches 'loss:0' only through ops that cut the gradient: ArgMax 'ArgMax'
        created at model.py:12 (it is not differentiable)
    """
    diagnosis = gradient_diagnosis(y, x)
    if diagnosis is None:
        count = len(_ops_on_paths(y, x))
        diagnosis = f"'{y.name}' has a gradient with respect to '{x.name}' through {count} op(s)"
    print(diagnosis)
    return diagnosis
