"""The private copy of the subgraph one run needs: the compiler optimizes this, never the
user's graph. Fed tensors become placeholders of the fed shape, so static shapes in the
copy are as precise as the feeds (the copy is made per feed signature)."""
from __future__ import annotations

import dataclasses
from typing import Optional

from graphnn.compiler.plan import Plan
from graphnn.errors import DTypeError, InvalidArgumentError, ShapeError
from graphnn.framework.graph import Graph, Operation
from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.ops.state import PLACEHOLDER_OP


@dataclasses.dataclass(eq=False)
class RunGraph:
    """A copy of the ops of a Plan in a fresh Graph.

    Attributes:
        graph: the copy (an ordinary gn.Graph the passes may edit).
        fetches: the copy's fetched Tensors/Operations, in the original order.
        feeds: the copy's placeholders for the fed tensors, in the original order.
        origin: copy op -> original op (variables and random ops keep their state
            and seeds under the original op).
        live: the passes' last liveness walk, ``((graph version, fetches), ops)``,
            valid while neither changes.
    """

    graph: Graph
    fetches: list
    feeds: list
    origin: dict
    live: Optional[tuple] = None


def copy_for_run(source: Graph, plan: Plan, feed_shapes: list) -> RunGraph:
    graph = Graph()
    graph.seed = source.seed
    tensors: dict[Tensor, Tensor] = {}
    ops: dict[Operation, Operation] = {}
    origin: dict[Operation, Operation] = {}
    for tensor, shape in zip(plan.feeds, feed_shapes):
        name = tensor.op.name if tensor.op.type == PLACEHOLDER_OP else f"{tensor.op.name}_fed"
        placeholder = graph.create_op(PLACEHOLDER_OP, [], {"dtype": tensor.dtype,
                                                           "shape": TensorShape(shape)}, name=name)
        placeholder.location = tensor.op.location
        tensors[tensor] = placeholder.outputs[0]
        origin[placeholder] = tensor.op
    # Tensors whose copy may be known less or differently than the original while building:
    # a fed placeholder of a more precise shape, any other fed tensor (a fed constant has
    # no known value any more), and what follows. Only ops reading one are inferred again;
    # the others keep their outputs' shapes and dtypes.
    changed = {copied for original, copied in tensors.items()
               if original.op.type != PLACEHOLDER_OP or copied.shape != original.shape}
    fed_ops = {t.op for t in plan.feeds}
    for op in plan.ops:
        if op in fed_ops and op.outputs and all(t in tensors for t in op.outputs):
            ops[op] = tensors[op.outputs[0]].op
            continue
        inputs = tuple([tensors[t] for t in op.inputs])
        controls = tuple([ops[c] for c in op.control_inputs if c in ops]) \
            if op.control_inputs else ()
        same = not changed or changed.isdisjoint(inputs)
        if same:
            copy = graph.copy_op(op, inputs, controls)
        else:
            try:
                copy = graph.create_op(op.type, inputs, op.attrs, name=op.name,
                                       location=op.location, control_inputs=controls)
            except (ShapeError, DTypeError) as error:
                raise InvalidArgumentError(f"With the fed shapes, {error}", op) from None
            copy.gradient_of = op.gradient_of
            changed.update(copy.outputs)
        ops[op] = copy
        origin[copy] = op
        for original, copied in zip(op.outputs, copy.outputs):
            tensors.setdefault(original, copied)
    fetches = [tensors[f] if isinstance(f, Tensor) else ops[f] for f in plan.fetches]
    feeds = [tensors[t] for t in plan.feeds]
    return RunGraph(graph=graph, fetches=fetches, feeds=feeds, origin=origin)
