"""Bodies of control-flow ops: sub-graphs with inputs, outputs and captured tensors.

A ``FuncGraph`` (TensorFlow's name) is the graph a branch of ``gn.cond`` or the body of
a loop is built in, held by its op as an attribute. While it is the default graph,
every op the user's function creates goes into it; an op that reads a tensor of an
enclosing graph ``capture``s it: the body gets a stand-in (a Placeholder, or a
VariableV2 for a variable, so ``assign`` works on it) and the control-flow op reads
the outer tensor as an input, so gradients reach it. An assign to a captured variable
makes the variable ``written``: the body returns its final value beside its outputs.

``call_body`` runs a body inside a JAX trace (the lowering of control-flow ops),
``evaluate_numpy`` runs it with the ops' numpy references (the harness oracle), and
``copy_body`` rebuilds a body's outputs in another graph (gradients of control flow
recompute the forward computation there).
"""
from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable, Optional, Sequence

import jax
import numpy as np

from graphnn.framework.graph import Graph, Operation, convert_to_tensor, get_default_graph
from graphnn.framework.registry import OP_TABLE, draws_random, lookup
from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.ops.declare import OpDef, Sample, evaluate_static, rand, register
from graphnn.ops.state import PLACEHOLDER_OP, VARIABLE_OP


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """An explicit input of a body: its name, dtype and static shape."""

    name: str
    dtype: Any
    shape: TensorShape


class FuncGraph(Graph):
    """The graph of a control-flow body.

    Attributes:
        name: what the body is, for messages (``"cond/then"``).
        inputs: stand-ins for the body's explicit arguments (loop variables, elements).
        captured: the enclosing graph's tensors the body reads, in order.
        captures: the body's stand-ins for them, aligned with ``captured``.
        outputs: what the body returns.
        written: stand-ins of captured variables the body assigns; a call returns their
            final values after ``outputs``.
    """

    def __init__(self, name: str, outer_graph: Graph):
        super().__init__()
        self.name = name
        self.outer_graph = outer_graph
        self.seed = outer_graph.seed
        self.inputs: list[Tensor] = []
        self.captured: list[Tensor] = []
        self.captures: list[Tensor] = []
        self.outputs: list[Tensor] = []
        self.written: list[Tensor] = []

    def add_input(self, spec: InputSpec) -> Tensor:
        """A new explicit input (a Placeholder) of ``spec``'s dtype and static shape."""
        op = self._create_stand_in(PLACEHOLDER_OP, spec.dtype, spec.shape, spec.name)
        self.inputs.append(op.outputs[0])
        return op.outputs[0]

    def capture(self, tensor: Tensor, op_type: str) -> Tensor:
        """The body's stand-in for ``tensor`` of an enclosing graph (created once)."""
        if self.outer_graph is None or not self.outer_graph.is_within(tensor.graph):
            return super().capture(tensor, op_type)
        source = tensor if tensor.graph is self.outer_graph \
            else self.outer_graph.capture(tensor, op_type)
        for outer, inner in zip(self.captured, self.captures):
            if outer is source:
                return inner
        kind = VARIABLE_OP if source.op.type == VARIABLE_OP else PLACEHOLDER_OP
        self.captured.append(source)
        return self._stand_in(kind, source, f"captured/{source.op.name}", self.captures)

    def _stand_in(self, kind: str, like: Tensor, name: str, into: list) -> Tensor:
        op = self._create_stand_in(kind, like.dtype, like.shape, name)
        into.append(op.outputs[0])
        return op.outputs[0]

    def _create_stand_in(self, kind: str, dtype: Any, shape: Any, name: str) -> Operation:
        with self.control_dependencies(None), self.name_scope(None):
            return self.create_op(kind, [], {"dtype": dtype, "shape": shape}, name=name)

    def align_captures(self, captured: Sequence[Tensor]) -> None:
        """Orders the captures as ``captured`` (a superset), adding stand-ins the body lacks,
        so that several bodies of one op read the same inputs."""
        for tensor in captured:
            self.capture(tensor, "body")
        inner = dict(zip(self.captured, self.captures))
        self.captured = list(captured)
        self.captures = [inner[t] for t in captured]

    def assigned_variables(self) -> list[Tensor]:
        """The enclosing graph's variables that ops of this body assign, in order."""
        stand_ins = {inner: outer for outer, inner in zip(self.captured, self.captures)}
        assigned = [op.inputs[0] for op in self.get_operations() if op.op_def.assigns]
        return [stand_ins[t] for t in dict.fromkeys(assigned) if t in stand_ins]

    def set_written(self, variables: Sequence[Tensor]) -> None:
        """The body returns the final values of ``variables`` (captured ones) after its outputs."""
        inner = dict(zip(self.captured, self.captures))
        self.written = [inner[v] for v in variables]

    def draws_random(self) -> bool:
        """Whether an op of this body (nested bodies included) draws random numbers."""
        return any(draws_random(op) for op in self.get_operations())

    def __repr__(self) -> str:
        return f"<gn.FuncGraph '{self.name}' with {self.num_ops} ops>"


def bodies_draw_random(op: Operation) -> bool:
    """``OpDef.random_if`` of control-flow ops: whether one of the op's bodies draws."""
    return any(isinstance(v, FuncGraph) and v.draws_random() for v in op.attrs.values())


def describe_function(fn: Callable) -> str:
    """``"true_fn (model.py:12)"``: a user function, for messages naming a branch or body."""
    name = getattr(fn, "__name__", None) or repr(fn)
    try:
        file = inspect.getsourcefile(fn)
        line = inspect.getsourcelines(fn)[1]
    except (TypeError, OSError):
        return name
    return f"{name} ({file}:{line})"


def flatten(structure: Any) -> tuple[list, Any]:
    """The leaves (Tensors, Operations, values) of a nested structure, and its tree."""
    return jax.tree_util.tree_flatten(structure, is_leaf=lambda v: isinstance(v, Operation))


def build_body(fn: Callable, name: str, args: Sequence[Any] = ()) -> tuple[FuncGraph, Any, list]:
    """Calls ``fn(*args)`` with a new body graph (nested in the default graph) as the
    default graph.

    ``args`` are nested structures of ``InputSpec``; ``fn`` receives stand-in tensors in
    the same structures. Returns the body (its ``outputs`` set to the Tensors returned),
    the returned structure's tree and its leaves (Tensors, or Operations, which yield no
    output; Python values are converted to Tensors in the body).
    """
    body = FuncGraph(name, get_default_graph())
    with body.as_default():
        stand_ins = [jax.tree_util.tree_map(body.add_input, arg) for arg in args]
        leaves, tree = flatten(fn(*stand_ins))
        leaves = [v if isinstance(v, (Tensor, Operation)) else convert_to_tensor(v)
                  for v in leaves]
        # A returned tensor of an enclosing graph passes through the body.
        leaves = [body.capture(v, "Identity") if isinstance(v, Tensor) and v.graph is not body
                  else v for v in leaves]
    body.outputs = [v for v in leaves if isinstance(v, Tensor)]
    return body, tree, leaves


# ----- running a body -----------------------------------------------------------------
def _walk_body(body: FuncGraph, values: Sequence[Any],
               evaluate: Callable[[Operation, list], Sequence[Any]]) -> list:
    """Runs every op of ``body`` in order with ``evaluate(op, args) -> outputs`` on
    ``values`` for ``inputs + captures``; an assign reads the value its variable was last
    given in the body. Returns the outputs, then the final values of ``written``."""
    env = dict(zip(body.inputs + body.captures, values))
    current: dict[Operation, Any] = {}
    for op in body.get_operations():
        if op.outputs and all(t in env for t in op.outputs):
            continue
        args = [env[t] for t in op.inputs]
        assigns = op.op_def.assigns
        if assigns:
            args[0] = current.get(op.inputs[0].op, args[0])
        outputs = evaluate(op, args)
        if assigns:
            current[op.inputs[0].op] = outputs[0]
        env.update(zip(op.outputs, outputs))
    return [env[t] for t in body.outputs] + [current.get(t.op, env[t]) for t in body.written]


def call_body(body: FuncGraph, values: Sequence[Any], key: Any = None) -> list:
    """Runs ``body`` inside a JAX trace on ``values`` for ``inputs + captures``.

    Every op of the body runs (an assign in a branch happens when the branch runs, even
    if no output uses it); values known at compile time stay numpy, as in the top-level
    lowering, so shape arithmetic works. Random ops draw from ``key`` folded with their id.
    Returns the outputs, then the final values of the ``written`` variables.
    """
    def lower(op: Operation, args: list) -> Sequence[Any]:
        opdef = op.op_def
        if not opdef.stateful and args and all(isinstance(a, np.ndarray) for a in args):
            return evaluate_static(op, args)
        kwargs = dict(op.attrs)
        if draws_random(op):
            base = key if key is not None else jax.random.PRNGKey(0)
            kwargs["key"] = jax.random.fold_in(base, op._id)
        result = opdef.lower(*args, **kwargs)
        return result if isinstance(result, tuple) else (result,)

    return _walk_body(body, values, lower)


def evaluate_numpy(body: FuncGraph, values: Sequence[Any]) -> list:
    """``call_body`` with the ops' numpy references (for the op harness)."""
    def reference(op: Operation, args: list) -> Sequence[Any]:
        opdef = op.op_def
        if opdef.assigns:
            outputs = (opdef.lower(*args),)
        elif opdef.source:
            outputs = (op.attrs["value"],)
        else:
            result = opdef.reference(*args, **op.attrs)
            outputs = result if isinstance(result, tuple) else (result,)
        return tuple(np.asarray(o) for o in outputs)

    return _walk_body(body, values, reference)


# ----- rebuilding a body elsewhere (gradients) -----------------------------------------
def copy_body(body: FuncGraph, values: Sequence[Tensor]) -> list[Tensor]:
    """Rebuilds the ops ``body.outputs`` need in the default graph, reading ``values`` for
    ``inputs + captures``; returns the rebuilt outputs.

    An assign needed by an output is rebuilt as ``AssignedValue`` (the value it would
    write, written nowhere): a gradient recomputes the forward pass without its effects.
    """
    graph = get_default_graph()
    env: dict[Tensor, Tensor] = dict(zip(body.inputs + body.captures, values))
    current: dict[Operation, Tensor] = {}
    for op in _needed(body):
        if op.outputs and all(t in env for t in op.outputs):
            continue
        inputs = [env[t] for t in op.inputs]
        if op.op_def.assigns:
            inputs[0] = current.get(op.inputs[0].op, inputs[0])
            copy = graph.create_op("AssignedValue", inputs, {"of": op.type},
                                   name=op.name.rsplit("/", 1)[-1], location=op.location)
            current[op.inputs[0].op] = copy.outputs[0]
        else:
            copy = graph.create_op(op.type, inputs, op.attrs, name=op.name.rsplit("/", 1)[-1],
                                   location=op.location)
        env.update(zip(op.outputs, copy.outputs))
    return [env[t] for t in body.outputs]


def _needed(body: FuncGraph) -> list[Operation]:
    """The ops ``body.outputs`` depend on, in creation (topological) order."""
    needed: set = set()
    stack = [t.op for t in body.outputs]
    while stack:
        op = stack.pop()
        if op not in needed:
            needed.add(op)
            stack.extend(t.op for t in op.inputs)
    return sorted(needed, key=lambda op: op._id)


def _assigned_value_infer(inputs, of):
    variable, value = inputs
    return [(variable.shape.merge_with(value.shape) if variable.shape.is_compatible_with(
        value.shape) else variable.shape, variable.dtype)]


def _assigned_value_lower(current, value, of):
    return lookup(of).lower(current, value)


def _assigned_value_samples(rng, dtype):
    return [Sample((rand(rng, (2, 3), dtype), rand(rng, (2, 3), dtype)), {"of": of})
            for of in sorted(t for t, d in OP_TABLE.items() if d.assigns)]


# Not differentiable, as the assigns it stands for: a gradient never flows into state.
register(OpDef("AssignedValue", infer=_assigned_value_infer, lower=_assigned_value_lower,
               reference=_assigned_value_lower, samples=_assigned_value_samples,
               differentiable=False))
