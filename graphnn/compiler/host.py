"""Host values: ``string`` tensors, computed in Python around the device program.

XLA computes numbers only. String constants and serialized summaries (TF 1's
``tf.constant("hi")``, ``tf.summary.merge_all()``) are host values: when a run fetches
one, the Session runs the device program for the numeric tensors the string ops read
(``device_fetches``), then calls each string op's ``OpDef.host`` on those values in
graph order (``HostPlan.evaluate``). A fetched scalar string is ``bytes``, as in TF 1.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from graphnn.framework.graph import Operation
from graphnn.framework.tensor import Tensor


def is_host_value(leaf: Any) -> bool:
    """Whether a fetched Tensor is computed on the host (its dtype is ``string``)."""
    return isinstance(leaf, Tensor) and leaf.dtype.is_string


class HostPlan:
    """How to compute fetches that include host values.

    Attributes:
        device_fetches: the numeric fetches and the numeric inputs of the host ops,
            each once, for the device program.
    """

    def __init__(self, leaves: Sequence[Any]):
        self._leaves = list(leaves)
        self._ops: list[Operation] = []  # host ops, each after the host ops it reads
        device: dict[Any, None] = {}
        visited: set = set()
        for leaf in self._leaves:
            if is_host_value(leaf):
                self._visit(leaf.op, visited, device)
            else:
                device[leaf] = None
        self.device_fetches = list(device)

    def _visit(self, op: Operation, visited: set, device: dict) -> None:
        stack = [(op, False)]
        while stack:  # post-order without recursion: merged summaries can be wide
            current, expanded = stack.pop()
            if expanded:
                self._ops.append(current)
                continue
            if current in visited:
                continue
            visited.add(current)
            if current.op_def.host is None:
                raise TypeError(f"{current.describe()} produces a string tensor but has no "
                                f"host computation: only string constants and summaries can "
                                f"be fetched as strings")
            stack.append((current, True))
            for tensor in reversed(current.inputs):
                if is_host_value(tensor):
                    stack.append((tensor.op, False))
                else:
                    device[tensor] = None

    def evaluate(self, run_device: Callable[[list], list]) -> list:
        """The fetched values: ``run_device(device_fetches)`` gives the numeric ones."""
        fetched = run_device(self.device_fetches) if self.device_fetches else []
        values: dict[Any, Any] = dict(zip(self.device_fetches, fetched))
        for op in self._ops:
            outputs = op.op_def.host(*[values[t] for t in op.inputs], **op.attrs)
            values[op.outputs[0]] = np.asarray(outputs, dtype=object) \
                if op.outputs[0].dtype.is_string else outputs
        return [_as_fetched(leaf, values[leaf]) for leaf in self._leaves]


def _as_fetched(leaf: Any, value: Any) -> Any:
    if is_host_value(leaf) and isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()  # TF 1 fetches a scalar string as bytes
    return value
