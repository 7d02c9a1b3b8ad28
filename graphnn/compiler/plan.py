"""What one run needs: the pruned ops in order, and how they touch variables and randomness.

The plan is computed once per (fetches, fed tensors) and never rewrites the user's graph.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import networkx as nx

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


def dependency_graph(graph: Graph, fed: set) -> nx.DiGraph:
    """Ops as nodes; an edge for each data input (unless fed) and each control input."""
    ops = graph.get_operations()
    dag = nx.DiGraph()
    dag.add_nodes_from(ops)
    dag.add_edges_from([(t.op, op) for op in ops for t in op.inputs if t not in fed])
    dag.add_edges_from([(c, op) for op in ops for c in op.control_inputs])
    return dag


def topological_order(graph: Graph, dag: nx.DiGraph, needed: set) -> list:
    """The ``needed`` ops in dependency order, deterministic.

    Creation order when it is one (``Graph.in_creation_order``: a user's graph); once the
    compiler has rewritten a copy it may not be (a folded constant is created after the
    ops that now read it), and networkx sorts the dependency graph (whose nodes are
    inserted in creation order).
    """
    if graph.in_creation_order:
        return sorted(needed, key=_creation_order)
    return [op for op in nx.topological_sort(dag) if op in needed]


def _creation_order(op: Operation) -> int:
    return op._id


def _ancestors(dag: nx.DiGraph, roots: set) -> set:
    """``roots`` and every op they depend on, in one walk of the dependency graph."""
    if not roots:
        return set()
    sink = object()  # one search from a node after every root, instead of one per root
    dag.add_edges_from((root, sink) for root in roots)
    try:
        return nx.ancestors(dag, sink)
    finally:
        dag.remove_node(sink)


def make_plan(graph: Graph, fetches: Sequence, feeds: Sequence[Tensor]) -> Plan:
    fed = set(feeds)
    dag = dependency_graph(graph, fed)
    roots = {f.op if isinstance(f, Tensor) else f for f in fetches
             if not (isinstance(f, Tensor) and f in fed)}
    needed = _ancestors(dag, roots)
    ops = topological_order(graph, dag, needed)

    reads, writes, random_ops = {}, {}, []
    for op in ops:
        if op.type == PLACEHOLDER_OP and op.outputs[0] not in fed:
            raise _missing_feed(op)
        if draws_random(op):
            random_ops.append(op)
        for index, tensor in enumerate(op.inputs):
            if tensor.op.type != VARIABLE_OP or tensor in fed:
                continue
            if op.op_def.assigns and index == 0:
                writes[tensor.op] = None
                if op.op_def.overwrites:
                    continue
            reads[tensor.op] = None
    for f in fetches:
        if isinstance(f, Tensor) and f.op.type == VARIABLE_OP and f not in fed:
            reads[f.op] = None

    fresh_reads = _fresh_reads(dag, ops)
    tensors = [t for op in ops for t in op.outputs] + list(feeds)
    return Plan(ops=ops, fetches=list(fetches), feeds=list(feeds), reads=list(reads),
                writes=list(writes), fresh_reads=fresh_reads, random_ops=random_ops,
                needs_x64=any(t.dtype.is_64bit for t in tensors))


def _fresh_reads(dag: nx.DiGraph, ops: list) -> dict:
    """Ops that read a variable and depend, through control inputs, on an assign to it."""
    fresh = {}
    for op in ops:
        if not op.control_inputs:
            continue
        read_vars = {t.op for i, t in enumerate(op.inputs)
                     if t.op.type == VARIABLE_OP and not (op.op_def.assigns and i == 0)}
        if not read_vars:
            continue
        before = set(op.control_inputs)
        for control in op.control_inputs:
            before |= nx.ancestors(dag, control)
        assigned = {a.inputs[0].op for a in before if a.op_def.assigns}
        if read_vars & assigned:
            fresh[op] = read_vars & assigned
    return fresh


def _missing_feed(op: Operation) -> InvalidArgumentError:
    dtype, shape = op.attrs["dtype"], op.attrs["shape"]
    return InvalidArgumentError(
        f"You must feed a value for placeholder tensor '{op.name}' with dtype {dtype.name} and "
        f"shape {shape} (placeholder created at {op.where})", op)
