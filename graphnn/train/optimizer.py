"""Optimizer: gradients of a loss, then one group of variable updates (TensorFlow 1 API).

Unlike TensorFlow 1, ``minimize`` also runs the ``GraphKeys.UPDATE_OPS`` (e.g.
BatchNormalization's moving statistics) that belong to its loss's forward pass.
"""
from __future__ import annotations

import warnings
from typing import Any, Optional, Sequence

from graphnn.compiler.autodiff import gradients
from graphnn.compiler.gradient_paths import gradient_diagnosis
from graphnn.framework.dtypes import DType
from graphnn.framework.graph import GraphKeys, Operation, convert_to_tensor
from graphnn.framework.tensor import Tensor
from graphnn.ops.creation import cast, fill
from graphnn.ops.state import PLACEHOLDER_OP, VARIABLE_OP, Variable, group

# Ops that start a computation: reaching one is not evidence of sharing a forward pass.
_SOURCE_OPS = frozenset({PLACEHOLDER_OP, VARIABLE_OP, "PlaceholderWithDefault", "Const"})


class Optimizer:
    """Base class: subclasses declare slots and write ``_apply_dense`` for one variable.

    The train op that ``minimize``/``apply_gradients`` return is one ``gn.group`` of
    assigns, so a training step is one run of one compiled program. The built-in
    optimizers also have ``get_config()``, their constructor arguments
    (``type(opt)(**opt.get_config())`` makes a twin), which ``model.save`` writes.
    """

    def __init__(self, name: str):
        self._name = name
        self._slots: dict[tuple[str, Variable], Variable] = {}

    # ----- public API -----------------------------------------------------------------
    def compute_gradients(self, loss: Tensor, var_list: Optional[Sequence[Variable]] = None
                          ) -> list[tuple[Optional[Tensor], Variable]]:
        """(gradient, variable) pairs; the gradient is None where no path exists.

        Example:
            >>> grads_and_vars = opt.compute_gradients(loss)
        """
        if not isinstance(loss, Tensor):
            raise TypeError(f"loss must be a Tensor, got {loss!r}")
        var_list = self._variables(loss, var_list)
        grads = gradients(loss, var_list)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars: Sequence[tuple[Optional[Tensor], Variable]],
                        global_step: Optional[Variable] = None, name: Optional[str] = None
                        ) -> Operation:
        """One op that applies each non-None gradient to its variable (and bumps global_step).

        Example:
            >>> train = opt.apply_gradients(opt.compute_gradients(loss))
        """
        return self._apply_gradients(grads_and_vars, global_step, name, extra_ops=())

    def _apply_gradients(self, grads_and_vars: Sequence[tuple[Optional[Tensor], Variable]],
                         global_step: Optional[Variable], name: Optional[str],
                         extra_ops: Sequence[Operation]) -> Operation:
        for _, var in grads_and_vars:
            if not isinstance(var, Variable):
                raise TypeError(f"apply_gradients needs (gradient, gn.Variable) pairs; got "
                                f"{var!r} in place of a Variable")
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            names = ", ".join(f"'{v.op.name}'" for _, v in grads_and_vars)
            raise ValueError(f"No gradients provided for any variable: {names}")
        graph = pairs[0][1].graph
        # As TF 1: the update ops live in the scope "<name>/" and the train op is "<name>".
        with graph.name_scope(name or self._name) as scope:
            for _, var in pairs:
                self._create_slots(var)
            updates = []
            for grad, var in pairs:
                with graph.name_scope(f"update_{var.op.name.replace('/', '_')}"):
                    grad = convert_to_tensor(grad, graph=graph)
                    if grad.dtype != var.dtype:
                        grad = cast(grad, var.dtype)
                    updates.append(self._apply_dense(grad, var))
            with graph.control_dependencies(updates):
                finish = self._finish()
                if global_step is not None:
                    finish.append(global_step.assign_add(
                        convert_to_tensor(1, global_step.dtype, graph=graph)))
            train_op = group(*updates, *finish, *extra_ops, name=scope)
        graph.add_to_collection(GraphKeys.TRAIN_OP, train_op)
        return train_op

    def minimize(self, loss: Tensor, global_step: Optional[Variable] = None,
                 var_list: Optional[Sequence[Variable]] = None, name: Optional[str] = None
                 ) -> Operation:
        """The train op for one step of descent on ``loss``.

        The train op also runs the ops of the ``GraphKeys.UPDATE_OPS`` collection that
        belong to the forward pass of ``loss`` (they read an intermediate result that
        ``loss`` depends on, such as BatchNormalization's batch mean), so moving
        statistics are updated without TF 1's ``control_dependencies(UPDATE_OPS)`` idiom.

        Raises ValueError when no variable gets a gradient, naming each variable and
        the op that cuts its path (file:line); warns, naming them, when only some lack one.

        Example:
            >>> train = gn.train.AdamOptimizer(1e-3).minimize(loss)
            >>> sess.run(train, feed_dict={x: batch_x, y: batch_y})
        """
        grads_and_vars = self.compute_gradients(loss, var_list)
        missing = [v for g, v in grads_and_vars if g is None]
        if missing:
            reasons = "\n".join(f"  - {gradient_diagnosis(loss, v)}" for v in missing)
            if len(missing) == len(grads_and_vars):
                raise ValueError(f"No gradients provided for any variable: no variable gets a "
                                 f"gradient from '{loss.name}'.\n{reasons}")
            warnings.warn(f"{len(missing)} of {len(grads_and_vars)} variables get no gradient "
                          f"from '{loss.name}' and will not be trained:\n{reasons}", stacklevel=2)
        return self._apply_gradients(grads_and_vars, global_step, name,
                                     extra_ops=update_ops_of(loss))

    def get_slot(self, var: Variable, name: str) -> Optional[Variable]:
        """The slot variable ``name`` (e.g. "m") that this optimizer keeps for ``var``."""
        return self._slots.get((name, var))

    def get_slot_names(self) -> list[str]:
        return sorted({name for name, _ in self._slots})

    def variables(self) -> list[Variable]:
        return list(self._slots.values())

    # ----- for subclasses ---------------------------------------------------------------
    def _create_slots(self, var: Variable) -> None:
        """Creates the slot variables ``var`` needs (none by default)."""

    def _apply_dense(self, grad: Tensor, var: Variable) -> Tensor:
        raise TypeError(f"{type(self).__name__} must define _apply_dense")

    def _finish(self) -> list:
        """Ops run once per step after all updates (e.g. Adam's beta powers)."""
        return []

    def _slot(self, var: Variable, name: str, initial: float = 0.0) -> Variable:
        """A non-trainable variable shaped like ``var``, named ``<var>/<Optimizer>[_k]``."""
        key = (name, var)
        if key not in self._slots:
            graph = var.graph
            with graph.name_scope(None), graph.control_dependencies(None):
                with graph.name_scope(var.op.name + "/"):
                    value = fill(var.shape.as_list(), convert_to_tensor(initial, var.dtype,
                                                                         graph=graph))
                    self._slots[key] = Variable(value, trainable=False, name=self._name)
        return self._slots[key]

    def _hyper(self, value: Any, dtype: DType, graph) -> Tensor:
        """A hyper-parameter (float or tensor, e.g. a learning-rate placeholder) in ``dtype``."""
        tensor = convert_to_tensor(value, graph=graph) if isinstance(value, Tensor) \
            else convert_to_tensor(value, dtype, graph=graph)
        return tensor if tensor.dtype == dtype else cast(tensor, dtype)

    def _variables(self, loss: Tensor, var_list: Optional[Sequence[Variable]]) -> list[Variable]:
        if var_list is None:
            var_list = loss.graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize: create gn.Variable(...) with "
                             "trainable=True or pass var_list")
        for var in var_list:
            if not isinstance(var, Variable):
                raise TypeError(f"var_list must hold gn.Variable objects, got {var!r}")
        return var_list


def update_ops_of(loss: Tensor) -> list[Operation]:
    """The ops of ``GraphKeys.UPDATE_OPS`` that share a computed (non-source) op with ``loss``."""
    graph = loss.graph
    updates = [u.op if isinstance(u, Tensor) else u
               for u in graph.get_collection(GraphKeys.UPDATE_OPS)]
    if not updates:
        return []
    forward = _ancestors([loss.op])
    return [u for u in updates if any(op.type not in _SOURCE_OPS for op in _ancestors([u]) & forward)]


def _ancestors(ops: Sequence[Operation]) -> set[Operation]:
    """``ops`` and every op they depend on, through data and control inputs."""
    seen: set[Operation] = set()
    stack = list(ops)
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return seen
