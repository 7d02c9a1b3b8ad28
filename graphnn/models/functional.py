"""The layer graph of a functional model: found from tensors, replayed on new ones.

``gn.models.Model(inputs, outputs)`` walks back from ``outputs`` through the layer
calls that made each tensor (``gn.layers.base.producer_of``) to ``inputs``, and keeps
the result as a list of ``Node``s in call order: which layer, fed by which model input
or earlier node. Replaying the nodes on other tensors applies the same layers (same
variables) again: the model does it once on its own inputs with its training switch,
and ``model(tensor)`` does it on the caller's tensors. Every tensor between the inputs
and the outputs must be a layer's output: a raw op in between cannot be replayed, and
is refused with its name and the line that made it.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence, Union

from graphnn.framework.tensor import Tensor
from graphnn.layers.base import Layer, LayerCall, producer_of

# Where a node's input comes from: ("input", k) is the model's input k, ("node", j) node j.
Ref = tuple[str, int]


@dataclasses.dataclass(frozen=True)
class Node:
    """One layer call of a functional model: ``layer`` applied to the tensors at ``inputs``."""

    layer: Layer
    inputs: tuple[Ref, ...]
    structured: bool


def _not_from_a_layer(tensor: Tensor) -> ValueError:
    op = tensor.op
    if op.type in ("Placeholder", "PlaceholderWithDefault"):
        return ValueError(f"Model: the outputs depend on the placeholder '{tensor.name}' "
                          f"(created at {op.where}), which is not among the model's inputs; "
                          f"pass it in inputs=[...]")
    return ValueError(f"Model: the tensor '{tensor.name}' between the inputs and the outputs was "
                      f"made by the op {op.describe()}, not by a layer. A functional model "
                      f"re-applies its layers, so build it from layers only (gn.layers.Add, "
                      f"Concatenate, Activation, ...) or make that tensor a model input.")


def _calls_in_order(inputs: Sequence[Tensor], outputs: Sequence[Tensor]) -> list[LayerCall]:
    """The layer calls from ``inputs`` to ``outputs``, each after the calls that feed it."""
    input_ids = {id(t) for t in inputs}
    order: list[LayerCall] = []
    done: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(t, False) for t in reversed(outputs)]
    while stack:
        tensor, expanded = stack.pop()
        if id(tensor) in input_ids:
            continue
        call = producer_of(tensor)
        if call is None:
            raise _not_from_a_layer(tensor)
        if id(call) in done:
            continue
        if expanded:
            done.add(id(call))
            order.append(call)
        else:
            stack.append((tensor, True))
            stack.extend((t, False) for t in reversed(call.inputs))
    return order


def trace(inputs: Sequence[Tensor], outputs: Sequence[Tensor]) -> tuple[list[Node], list[Ref]]:
    """The nodes between ``inputs`` and ``outputs``, and where each output comes from.

    Raises:
        ValueError: a tensor on the way is neither a model input nor a layer's output.
    """
    refs: dict[int, Ref] = {id(t): ("input", k) for k, t in enumerate(inputs)}
    nodes: list[Node] = []
    for call in _calls_in_order(inputs, outputs):
        nodes.append(Node(call.layer, tuple(refs[id(t)] for t in call.inputs), call.structured))
        refs[id(call.output)] = ("node", len(nodes) - 1)
    return nodes, [refs[id(t)] for t in outputs]


def replay(nodes: Sequence[Node], output_refs: Sequence[Ref], inputs: Sequence[Tensor],
           training: Union[bool, Tensor]) -> tuple[list[Tensor], list[Tensor]]:
    """Applies the nodes' layers to ``inputs``; returns (each node's output, the outputs)."""
    values: list[Tensor] = []

    def value(ref: Ref) -> Tensor:
        kind, index = ref
        return inputs[index] if kind == "input" else values[index]

    for node in nodes:
        arguments: Any = [value(r) for r in node.inputs]
        values.append(node.layer(arguments if node.structured else arguments[0],
                                 training=training))
    return values, [value(r) for r in output_refs]


def unique_layers(nodes: Sequence[Node]) -> list[Layer]:
    """The nodes' layers in order of first call, each once (a shared layer is one layer)."""
    layers: list[Layer] = []
    for node in nodes:
        if not any(layer is node.layer for layer in layers):
            layers.append(node.layer)
    return layers
