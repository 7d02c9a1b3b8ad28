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
        ops: the ops to execute, in a topological order (creation order).
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
    dag = nx.DiGraph()
    for op in graph.get_operations():
        dag.add_node(op)
        for tensor in op.inputs:
            if tensor not in fed:
                dag.add_edge(tensor.op, op)
        for control in op.control_inputs:
            dag.add_edge(control, op)
    return dag


def topological_order(dag: nx.DiGraph) -> list:
    """Ops in dependency order, deterministic (nodes are inserted in creation order).

    Creation order alone is not enough once the compiler has rewritten a copy: a folded
    constant is created after the ops that now read it.
    """
    return list(nx.topological_sort(dag))


def make_plan(graph: Graph, fetches: Sequence, feeds: Sequence[Tensor]) -> Plan:
    fed = set(feeds)
    dag = dependency_graph(graph, fed)
    roots = {f.op if isinstance(f, Tensor) else f for f in fetches
             if not (isinstance(f, Tensor) and f in fed)}
    needed = set(roots)
    for root in roots:
        needed |= nx.ancestors(dag, root)
    ops = topological_order(dag.subgraph(needed))

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
        read_vars = {t.op for i, t in enumerate(op.inputs)
                     if t.op.type == VARIABLE_OP and not (op.op_def.assigns and i == 0)}
        if not read_vars or not op.control_inputs:
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
