"""Operation: a node of a Graph (``graphnn.framework.graph`` describes the IR)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from graphnn.framework import registry, session_stack

if TYPE_CHECKING:
    from graphnn.framework.graph import Graph


class Operation:
    """A node of the graph: an op type applied to input Tensors.

    Attributes:
        name: unique hierarchical name, e.g. ``"dense/MatMul"``.
        type: the op type, e.g. ``"MatMul"``.
        inputs: the input Tensors, in order.
        control_inputs: Operations that must run before this one.
        outputs: the output Tensors.
        attrs: static attributes (ints, strings, arrays, sub-graphs ...).
        location: (file, line) where user code created the op.
        gradient_of: for nodes added by ``gn.gradients``, the forward Operation
            they differentiate; None otherwise.
        device: the device ``gn.device`` asked for (``"/device:GPU:0"``), "" if none.
    """

    def __init__(self, graph: Graph, op_type: str, name: str, inputs: tuple, control_inputs: tuple,
                 attrs: dict, location: tuple[str, int], op_id: int, gradient_of: Optional[Operation]):
        self.graph = graph
        self.type = op_type
        self.name = name
        self.inputs = inputs
        self.control_inputs = control_inputs
        self.attrs = attrs
        self.location = location
        self.outputs: tuple = ()
        self.gradient_of = gradient_of
        self.device = graph.device_scope
        self._id = op_id

    @property
    def op_def(self) -> registry.OpDef:
        # Looked up at each use (a registered type's entry is the one in the table now), and
        # directly in the table: the passes ask every op for it several times.
        opdef = registry.OP_TABLE.get(self.type)
        return opdef if opdef is not None else registry.lookup(self.type)

    @property
    def where(self) -> str:
        """``"file.py:42"``: where the user created this op."""
        return f"{self.location[0]}:{self.location[1]}"

    def describe(self) -> str:
        """``"MatMul 'dense/MatMul' created at model.py:42"``, with gradient provenance."""
        text = f"{self.type} '{self.name}' created at {self.where}"
        if self.gradient_of is not None:
            text += f", in the gradient of {self.gradient_of.describe()}"
        return text

    def get_attr(self, name: str) -> Any:
        try:
            return self.attrs[name]
        except KeyError:
            raise ValueError(f"Operation '{self.name}' ({self.type}) has no attribute "
                             f"{name!r}; it has {sorted(self.attrs)}") from None

    def values(self) -> tuple:
        return self.outputs

    def run(self, feed_dict: Optional[dict] = None, session: Any = None) -> None:
        """Runs this op in ``session`` or the default session."""
        session_stack.resolve(session, f"Operation '{self.name}'").run(self, feed_dict=feed_dict)

    def __repr__(self) -> str:
        inputs = ", ".join(t.name for t in self.inputs)
        return f"<gn.Operation '{self.name}' type={self.type} inputs=[{inputs}]>"
