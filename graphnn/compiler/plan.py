"""What one run needs: the pruned ops in order, and how they touch variables and randomness.

The plan is computed once per (fetches, fed tensors) and never rewrites the user's graph.
"""
from __future__ import annotations

import dataclasses
import heapq
import operator
from typing import Sequence

from graphnn.errors import InvalidArgumentError
from graphnn.framework.graph import Graph, Operation
from graphnn.framework.registry import draws_random
from graphnn.framework.tensor import Tensor
from graphnn.ops.state import PLACEHOLDER_OP, VARIABLE_OP


@dataclasses.dataclass(eq=False)
class Plan:
    """The pruned subgraph of one run and its state effects.

    Attributes:
        ops: the ops to execute, in a topological order (creation order on a
            user's graph).
        fetches: fetched Tensors and Operations, in the caller's flat order.
        feeds: fed Tensors, in the order their values are passed.
        reads: variables whose value at the start of the run is used.
        writes: variables assigned during the run.
        fresh_reads: ops that read variables after an assign they depend on,
            mapped to those variables (they see the assigned value).
        random_ops: random ops, in the order their counters are passed.
        needs_x64: some tensor of the run is 64-bit.
    """

    ops: list
    fetches: list
    feeds: list
    reads: list
    writes: list
    fresh_reads: dict
    random_ops: list
    needs_x64: bool


def _ancestors(roots, fed: set) -> set:
    """``roots`` and every op they depend on (data inputs, unless fed, and control inputs)."""
    seen = set(roots)
    stack = list(seen)
    while stack:
        op = stack.pop()
        for tensor in op.inputs:
            if tensor.op not in seen and tensor not in fed:
                seen.add(tensor.op)
                stack.append(tensor.op)
        for control in op.control_inputs:
            if control not in seen:
                seen.add(control)
                stack.append(control)
    return seen


def topological_order(graph: Graph, needed: set, fed: set) -> list:
    """The ``needed`` ops in dependency order, deterministic.

    Creation order when it is one (``Graph.in_creation_order``: a user's graph); once the
    compiler has rewritten a copy it may not be (a folded constant is created after the
    ops that now read it), and then each op comes as early in creation order as its
    inputs allow (Kahn's algorithm keyed by creation id).
    """
    if graph.in_creation_order:
        return sorted(needed, key=_creation_order)
    # Edges are counted with their multiplicity (an op reading one op twice waits for it
    # twice and is released by its second decrement): the same order, without a set per op.
    waiting, after = {}, {op: [] for op in needed}
    ready = []
    for op in needed:
        count = 0
        for tensor in op.inputs:
            if tensor not in fed:
                after[tensor.op].append(op)
                count += 1
        for control in op.control_inputs:
            after[control].append(op)
            count += 1
        waiting[op] = count
        if not count:
            ready.append((op._id, op))
    heapq.heapify(ready)
    order = []
    while ready:
        _, op = heapq.heappop(ready)
        order.append(op)
        for successor in after[op]:
            waiting[successor] -= 1
            if not waiting[successor]:
                heapq.heappush(ready, (successor._id, successor))
    return order


_creation_order = operator.attrgetter("_id")  # (attrgetter: no Python call per op)


def make_plan(graph: Graph, fetches: Sequence, feeds: Sequence[Tensor]) -> Plan:
    fed = set(feeds)
    roots = {f.op if isinstance(f, Tensor) else f for f in fetches
             if not (isinstance(f, Tensor) and f in fed)}
    needed = _ancestors(roots, fed)
    ops = topological_order(graph, needed, fed)

    reads, writes, random_ops = {}, {}, []
    for op in ops:
        if op.type == PLACEHOLDER_OP and op.outputs[0] not in fed:
            raise _missing_feed(op)
        opdef = op.op_def
        if (opdef.random or opdef.random_if is not None) and draws_random(op):
            random_ops.append(op)
        for index, tensor in enumerate(op.inputs):
            if tensor.op.type != VARIABLE_OP or tensor in fed:
                continue
            if opdef.assigns and index == 0:
                writes[tensor.op] = None
                if opdef.overwrites:
                    continue
            reads[tensor.op] = None
    for f in fetches:
        if isinstance(f, Tensor) and f.op.type == VARIABLE_OP and f not in fed:
            reads[f.op] = None

    fresh_reads = _fresh_reads(ops, fed)
    used = {t.dtype for op in ops for t in op.outputs} | {t.dtype for t in feeds}
    return Plan(ops=ops, fetches=list(fetches), feeds=list(feeds), reads=list(reads),
                writes=list(writes), fresh_reads=fresh_reads, random_ops=random_ops,
                needs_x64=any(dtype.is_64bit for dtype in used))


def _fresh_reads(ops: list, fed: set) -> dict:
    """Ops that read a variable and depend, through control inputs, on an assign to it."""
    fresh = {}
    for op in ops:
        if not op.control_inputs:
            continue
        read_vars = {t.op for i, t in enumerate(op.inputs)
                     if t.op.type == VARIABLE_OP and not (op.op_def.assigns and i == 0)}
        if not read_vars:
            continue
        before = _ancestors(op.control_inputs, fed)
        assigned = {a.inputs[0].op for a in before if a.op_def.assigns}
        if read_vars & assigned:
            fresh[op] = read_vars & assigned
    return fresh


def _missing_feed(op: Operation) -> InvalidArgumentError:
    dtype, shape = op.attrs["dtype"], op.attrs["shape"]
    return InvalidArgumentError(
        f"You must feed a value for placeholder tensor '{op.name}' with dtype {dtype.name} and "
        f"shape {shape} (placeholder created at {op.where})", op)
