"""Where gradients flow: the one reachability computation behind ``gn.gradients`` and
``gn.explain_gradient``, and the diagnosis behind ``minimize``'s errors (TensorFlow 1's
"No gradients provided for any variable", explained).

A gradient with respect to ``xs`` flows back from a floating-point tensor produced by a
differentiable op with a floating-point input it flows back to, unless that tensor is
in ``stop_gradients``. ``gradients`` sweeps exactly the ops of ``gradient_path``, and
``explain_gradient`` says None exactly when that path does not reach ``y``, so the two
cannot disagree.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

from graphnn.framework.graph import Operation
from graphnn.framework.tensor import Tensor
from graphnn.ops.state import VARIABLE_OP


def stop_set(stop_gradients: Any) -> frozenset:
    """``gradients``' ``stop_gradients`` argument (None, a Tensor or a list) as a set."""
    if stop_gradients is None:
        return frozenset()
    if isinstance(stop_gradients, (list, tuple)):
        return frozenset(stop_gradients)
    return frozenset([stop_gradients])


def _carries(op: Operation, output: Tensor, stop: frozenset) -> bool:
    """Whether a gradient arriving at ``output`` of ``op`` goes on to op's inputs."""
    return output.dtype.is_floating and output not in stop and op.op_def.differentiable


def gradient_reach(xs: Iterable[Tensor], stop: frozenset = frozenset()) -> set:
    """Floating-point tensors that a gradient can flow back from to one of ``xs``
    (``xs`` included, even when stopped: a stopped x still gets its own gradient)."""
    reached = {x for x in xs if x.dtype.is_floating}
    stack = list(reached)
    while stack:
        tensor = stack.pop()
        for op in tensor.graph.consumers_of(tensor):
            for out in op.outputs:
                if out not in reached and _carries(op, out, stop):
                    reached.add(out)
                    stack.append(out)
    return reached


def refused_crossings(ys: Sequence[Tensor], reach: set,
                      stop: frozenset = frozenset()) -> list[Operation]:
    """Ops declaring a ``no_gradient_reason`` that a gradient of ``ys`` would have to cross
    back to the tensors of ``reach`` (an input in ``reach``, an output leading to ``ys``)."""
    refusing = {op for tensor in reach for op in tensor.graph.consumers_of(tensor)
                if op.op_def.no_gradient_reason is not None}
    wanted = set(ys)
    return sorted((op for op in refusing
                   if wanted & gradient_reach([t for t in op.outputs], stop)),
                  key=lambda op: op._id)


def gradient_path(ys: Sequence[Tensor], reach: set,
                  stop: frozenset = frozenset()) -> list[Operation]:
    """The ops a gradient of ``ys`` crosses back to the tensors of ``reach``, latest first
    (ids only grow, so reverse id order is a topological order)."""
    on_path: set = set()
    seen: set = set()
    stack = [y for y in ys if y in reach]
    while stack:
        tensor = stack.pop()
        if tensor in seen:
            continue
        seen.add(tensor)
        op = tensor.op
        inputs = [t for t in op.inputs if t in reach]
        if inputs and _carries(op, tensor, stop):
            on_path.add(op)
            stack.extend(inputs)
    return sorted(on_path, key=lambda op: op._id, reverse=True)


def _ops_on_paths(y: Tensor, x: Tensor) -> set:
    """Ops on some data path from ``x`` to ``y``, whatever the dtypes and cuts."""
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


def _why_cut(op: Operation, stop: frozenset) -> Optional[str]:
    """Why gradients cannot cross ``op``, or None if they can (``_carries`` in words)."""
    if op.type == "StopGradient":
        return "stop_gradient blocks gradients on purpose"
    if not op.op_def.differentiable:
        return op.op_def.no_gradient_reason or "it is not differentiable"
    floating = [t for t in op.outputs if t.dtype.is_floating]
    if op.outputs and not floating:
        return (f"its output is {op.outputs[0].dtype.name}, and integer or boolean tensors "
                f"carry no gradient")
    if floating and all(t in stop for t in floating):
        return f"its output '{floating[0].name}' is in stop_gradients"
    return None


def gradient_diagnosis(y: Tensor, x: Tensor, stop_gradients: Any = None) -> Optional[str]:
    """None when ``gn.gradients(y, x, stop_gradients=...)`` is not None; otherwise the
    reason, naming each op that cuts the path and where the user created it."""
    name = x.op.name if x.op.type == VARIABLE_OP else x.name
    what = "Variable" if x.op.type == VARIABLE_OP else "Tensor"
    if not x.dtype.is_floating:
        return f"{what} '{name}' is {x.dtype.name}: integer and boolean tensors get no gradient"
    stop = stop_set(stop_gradients)
    reach = gradient_reach([x], stop)
    if y in reach:
        return None
    on_path = _ops_on_paths(y, x)
    if not on_path:
        return (f"{what} '{name}' (created at {x.op.where}) is not used to compute "
                f"'{y.name}': there is no path from it to the loss")
    cuts = sorted((op for op in on_path
                   if any(t in reach for t in op.inputs) and _why_cut(op, stop) is not None),
                  key=lambda op: op._id)
    reasons = "; ".join(f"{op.type} '{op.name}' created at {op.where} ({_why_cut(op, stop)})"
                        for op in cuts)
    return f"{what} '{name}' reaches '{y.name}' only through ops that cut the gradient: {reasons}"


def explain_gradient(y: Tensor, x: Tensor, stop_gradients: Any = None) -> str:
    """Prints and returns why ``gn.gradients(y, x, stop_gradients=...)`` is (or is not) None.

    Example:
        >>> gn.explain_gradient(loss, W)
        Variable 'W' reaches 'loss:0' only through ops that cut the gradient: ArgMax 'ArgMax'
        created at model.py:12 (it is not differentiable)
    """
    diagnosis = gradient_diagnosis(y, x, stop_gradients)
    if diagnosis is None:
        stop = stop_set(stop_gradients)
        count = len(gradient_path([y], gradient_reach([x], stop), stop))
        diagnosis = f"'{y.name}' has a gradient with respect to '{x.name}' through {count} op(s)"
    print(diagnosis)
    return diagnosis
