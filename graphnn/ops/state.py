"""Sources and state: placeholders, constants, variables and their assignments, grouping."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import jax
import numpy as np

from graphnn.errors import DTypeError
from graphnn.framework import dtypes
from graphnn.framework.graph import (CONST_OP, GraphKeys, Operation, convert_to_tensor,
                                     get_default_graph, graph_of)
from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.framework.values import to_numpy
from graphnn.ops.declare import (OpDef, Sample, apply, rand, register, require, to_tensor)

# The op types that the compiler, session and files treat by kind (CONST_OP is the
# framework's, as ``Graph.constant`` makes it); import these rather than spelling them.
VARIABLE_OP = "VariableV2"
PLACEHOLDER_OP = "Placeholder"


def _declared(inputs, dtype, shape, **attrs):
    return [(shape, dtype)]


register(OpDef(PLACEHOLDER_OP, infer=_declared, lower=None, source=True))
register(OpDef(VARIABLE_OP, infer=_declared, lower=None, source=True, stateful=True))
register(OpDef(CONST_OP, infer=lambda inputs, value, dtype: [(TensorShape(value.shape), dtype)],
               lower=lambda value, dtype: value, source=True,
               host=lambda value, dtype: value))  # string constants


def _placeholder_with_default_infer(inputs, shape):
    default = inputs[0]
    require(default.shape.is_compatible_with(shape),
            f"the default value's shape {default.shape} is not compatible with shape {shape}")
    return [(shape, default.dtype)]


register(OpDef("PlaceholderWithDefault", infer=_placeholder_with_default_infer,
               lower=lambda default, shape: default, reference=lambda default, shape: default,
               grad=lambda op, g: [g],
               samples=lambda rng, dtype: [Sample((rand(rng, (2, 3), dtype),),
                                                  {"shape": TensorShape([None, 3])})]))


def _assign_infer(inputs):
    variable, value = inputs
    if variable.op.type != VARIABLE_OP:
        raise TypeError(f"can only assign to a Variable, but '{variable.name}' is the output "
                        f"of a {variable.op.type} op")
    if variable.dtype != value.dtype:
        raise DTypeError(f"cannot assign a {value.dtype} value to {variable.dtype} Variable "
                         f"'{variable.op.name}'")
    require(value.shape.is_compatible_with(variable.shape),
            f"cannot assign a value of shape {value.shape} to Variable '{variable.op.name}' "
            f"of shape {variable.shape}")
    return [(variable.shape, variable.dtype)]


for _op_type, _update, _overwrites in (
        ("Assign", lambda current, value: value, True),
        ("AssignAdd", lambda current, delta: current + delta, False),
        ("AssignSub", lambda current, delta: current - delta, False)):
    register(OpDef(_op_type, infer=_assign_infer, lower=_update, stateful=True, assigns=True,
                   overwrites=_overwrites, differentiable=False))

register(OpDef("Identity", infer=lambda inputs: [(inputs[0].shape, inputs[0].dtype)],
               lower=lambda x: x, reference=lambda x: x, grad=lambda op, g: [g], numpy_exact=True,
               samples=lambda rng, dtype: [Sample((rand(rng, (2, 3), dtype),))]))
register(OpDef("StopGradient", infer=lambda inputs: [(inputs[0].shape, inputs[0].dtype)],
               lower=jax.lax.stop_gradient, reference=lambda x: x, differentiable=False,
               samples=lambda rng, dtype: [Sample((rand(rng, (2, 3), dtype),))]))
register(OpDef("NoOp", infer=lambda inputs: [], lower=lambda: (), differentiable=False,
               source=True))


# ----- public functions -------------------------------------------------------------
def placeholder(dtype: Any, shape: Any = None, name: Optional[str] = None) -> Tensor:
    """A graph input that must be fed at run time; ``None`` dims accept any size.

    Example:
        >>> x = gn.placeholder(gn.float32, shape=[None, 784], name="x")
        >>> sess.run(y, feed_dict={x: batch})
    """
    dtype = dtypes.as_dtype(dtype)
    return get_default_graph().create_op(
        PLACEHOLDER_OP, [], {"dtype": dtype, "shape": TensorShape(shape)},
        name=name or "Placeholder").outputs[0]


def placeholder_with_default(value: Any, shape: Any, name: Optional[str] = None) -> Tensor:
    """A placeholder that computes ``value`` when it is not fed.

    Example:
        >>> training = gn.placeholder_with_default(False, shape=[])
    """
    return apply("PlaceholderWithDefault", [to_tensor(value)], {"shape": TensorShape(shape)},
                 name=name)


def constant(value: Any, dtype: Any = None, shape: Any = None, name: Optional[str] = "Const"
             ) -> Tensor:
    """A tensor holding ``value``; with ``shape``, a scalar is broadcast (TF 1).

    Python floats become float32 and ints int32 unless ``dtype`` says otherwise;
    numpy arrays keep their dtype. Strings make a ``gn.string`` tensor, a host value
    that a run fetches as ``bytes`` (TF 1), for summaries and messages, not arithmetic.

    Example:
        >>> gn.constant([[1.0, 2.0]], name="c")
    """
    if isinstance(value, Tensor):
        raise TypeError(f"gn.constant needs a Python or numpy value, got Tensor '{value.name}'; "
                        f"use gn.identity to copy a tensor")
    array = to_numpy(value, None if dtype is None else dtypes.as_dtype(dtype))
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        if array.size == 1:
            array = np.broadcast_to(array.reshape(()), shape).copy()
        elif array.size == int(np.prod(shape)):
            array = array.reshape(shape)
        else:
            raise ValueError(f"gn.constant: cannot make a tensor of shape {shape} from a value "
                             f"with {array.size} elements")
    return get_default_graph().constant(array, name=name)


class Variable(Tensor):
    """A value kept by the Session across runs: model parameters, counters, optimizer slots.

    A Variable is the Tensor of its VariableV2 op, so it can be used wherever a
    tensor can (``W @ x``, ``sess.run(W)``). Its value lives on the device in
    each Session; ``initializer`` sets it, ``assign*`` change it.

    Example:
        >>> W = gn.Variable(gn.zeros([3, 2]), name="W")
        >>> with gn.Session() as sess:
        ...     sess.run(W.initializer)
        ...     sess.run(W.assign_add(gn.ones([3, 2])))
    """

    def __init__(self, initial_value: Any, trainable: bool = True, name: Optional[str] = None,
                 dtype: Any = None):
        if callable(initial_value):
            initial_value = initial_value()
        graph = graph_of([initial_value])
        if graph.outer_graph is not None:
            raise ValueError(f"Cannot create Variable '{name or 'Variable'}' inside "
                             f"{graph!r}: create variables outside gn.cond, gn.scan and "
                             f"gn.while_loop bodies, and use them inside")
        # As TF 1: the scope "W/" holds the initial value and initializer, and the
        # variable op takes the scope's (unique) name itself.
        with graph.control_dependencies(None), graph.name_scope(name or "Variable") as scope:
            init = convert_to_tensor(initial_value, dtype=None if isinstance(initial_value, Tensor)
                                     else dtype, graph=graph, name="initial_value")
            if dtype is not None and init.dtype != dtypes.as_dtype(dtype):
                init = apply("Cast", [init], {"DstT": dtypes.as_dtype(dtype)})
            init = _reading_initial_values(init)
            if not init.shape.is_fully_defined():
                raise ValueError(f"The initial value of Variable '{scope[:-1]}' must have a fully "
                                 f"defined shape, got {init.shape}")
            op = graph.create_op(VARIABLE_OP, [], {"dtype": init.dtype, "shape": init.shape},
                                 name=scope)
            super().__init__(op, 0, init.shape, init.dtype)
            op.outputs = (self,)
            self.initializer: Operation = graph.create_op("Assign", [self, init])
        self.initial_value = init
        self.trainable = bool(trainable)
        graph.add_to_collection(GraphKeys.GLOBAL_VARIABLES, self)
        if self.trainable:
            graph.add_to_collection(GraphKeys.TRAINABLE_VARIABLES, self)

    @classmethod
    def _from_graph(cls, op: Operation, trainable: bool) -> Variable:
        """Wraps an existing VariableV2 op as a Variable, adding no op and no collection entry.

        For graph import, which re-creates ops one by one: it must be called right
        after ``op`` is created, before any op consumes its output, because the
        Variable replaces that output. The importer sets ``initializer`` and
        ``initial_value`` once it has re-created those ops.
        """
        if op.type != VARIABLE_OP:
            raise TypeError(f"Only a {VARIABLE_OP} op can become a Variable, but '{op.name}' "
                            f"is a {op.type} op")
        if op.graph.consumers_of(op.outputs[0]):
            raise ValueError(f"Variable op '{op.name}' already has consumers; wrap it before "
                             f"creating ops that use it")
        variable = cls.__new__(cls)
        Tensor.__init__(variable, op, 0, op.outputs[0].shape, op.outputs[0].dtype)
        op.outputs = (variable,)
        variable.initializer = None
        variable.initial_value = None
        variable.trainable = bool(trainable)
        return variable

    def _update(self, op_type: str, value: Any, name: Optional[str]) -> Tensor:
        graph = graph_of([self, value])  # a control-flow body, when built inside one
        value = value if isinstance(value, Tensor) else convert_to_tensor(
            value, self.dtype, graph=graph)
        return graph.create_op(op_type, [self, value], name=name).outputs[0]

    def assign(self, value: Any, name: Optional[str] = None) -> Tensor:
        """An op setting the variable to ``value``; its output is the new value."""
        return self._update("Assign", value, name)

    def assign_add(self, delta: Any, name: Optional[str] = None) -> Tensor:
        """An op adding ``delta`` to the variable; its output is the new value."""
        return self._update("AssignAdd", delta, name)

    def assign_sub(self, delta: Any, name: Optional[str] = None) -> Tensor:
        """An op subtracting ``delta`` from the variable; its output is the new value."""
        return self._update("AssignSub", delta, name)

    def value(self) -> Tensor:
        """The variable's value at the start of the run (the variable's own tensor)."""
        return self

    def initialized_value(self) -> Tensor:
        """The value this variable starts with: use it to initialize another variable from
        this one (``Variable(w.initialized_value() * 2)``), which then needs no ordering."""
        return self.initial_value

    def read_value(self) -> Tensor:
        """A fresh read: under ``control_dependencies([assign])`` it sees the assigned value."""
        return apply("Identity", [self], name=self.op.name + "/read")

    def load(self, value: Any, session: Any) -> None:
        """Sets the value in ``session`` from a numpy value without adding ops to the graph."""
        session.load_variable(self, value)

    def __repr__(self) -> str:
        return f"<gn.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"


def _reading_initial_values(value: Tensor) -> Tensor:
    """``value`` recomputed from other variables' initial values instead of their values.

    So ``Variable(w * 2)`` can be initialized in the same run as ``w`` (TF 1 guards such
    initial values the same way); ops that read no variable are reused, not copied.
    """
    graph = value.graph
    variables = {v.op: v for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES)}
    rebuilt: dict[Tensor, Tensor] = {}

    def rebuild(tensor: Tensor) -> Tensor:
        if tensor not in rebuilt:
            op = tensor.op
            if op in variables:
                rebuilt[tensor] = rebuild(variables[op].initial_value)
            else:
                inputs = [rebuild(t) for t in op.inputs]
                if all(new is old for new, old in zip(inputs, op.inputs)):
                    rebuilt[tensor] = tensor
                else:
                    copy = graph.create_op(op.type, inputs, op.attrs, name=op.name.split("/")[-1])
                    rebuilt[tensor] = copy.outputs[tensor.value_index]
        return rebuilt[tensor]

    return rebuild(value)


def global_variables() -> list[Variable]:
    """All variables of the default graph."""
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES)


def trainable_variables() -> list[Variable]:
    """The variables of the default graph created with ``trainable=True``."""
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES)


def group(*inputs: Any, name: Optional[str] = None) -> Operation:
    """One op that runs all ``inputs`` (ops or tensors); fetching it returns None.

    Example:
        >>> train = gn.group(update_w, update_b)
    """
    flat = [i for item in inputs for i in (item if isinstance(item, (list, tuple)) else [item])]
    graph = graph_of(flat)
    ops = [graph._as_control_op(i) for i in flat]
    return graph.create_op("NoOp", [], name=name or "group_deps", control_inputs=ops)


def variables_initializer(var_list: Sequence[Variable], name: str = "init") -> Operation:
    """One op that runs the initializers of ``var_list``."""
    return group(*[v.initializer for v in var_list], name=name)


def global_variables_initializer() -> Operation:
    """One op that initializes every variable of the default graph.

    Example:
        >>> sess.run(gn.global_variables_initializer())
    """
    return variables_initializer(global_variables())


def no_op(name: Optional[str] = None) -> Operation:
    """An op that does nothing; useful as an anchor for control dependencies."""
    return get_default_graph().create_op("NoOp", [], name=name or "NoOp")


def identity(input: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002 (TF's name)
    """Returns a new tensor with the same value (a new node to name, fetch or depend on)."""
    return apply("Identity", [to_tensor(input)], name=name)


def stop_gradient(input: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002 (TF's name)
    """The same value, but gradients do not flow through it."""
    return apply("StopGradient", [to_tensor(input)], name=name)
