"""Run-time value checks (an index in range, an integer divisor not zero), placed where
they cost least.

Each op declares its check beside its lowering (``OpDef.check`` -> ``ValueCheck``); this
module decides, for one compiled run, where each check runs:

- on a constant: once, when the run is compiled; a failing one fails every run (the
  constant folder leaves such an op alone, so the run reports it);
- on a fed value, directly or through integer ops whose numpy reference gives the
  program's values (``OpDef.numpy_exact``: a cast, a reshape, ``labels - 1`` ...): on the
  host, in numpy, before the program is dispatched, so the run stays asynchronous (one
  pass per fed value and rule: a loss and its gradient checking the same labels share it);
- on a value the graph computes: inside the compiled program. The first failing check's
  number, the position and the value come back as one small array beside the results;
  the program returns the variables' old values when a check fails, so the failed run
  changes no variable, and the run waits for that array before it returns.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np

from graphnn.compiler.plan import Plan
from graphnn.errors import InvalidArgumentError
from graphnn.framework.graph import CONST_OP, Operation
from graphnn.framework.registry import ValueCheck
from graphnn.framework.tensor import Tensor
from graphnn.ops.declare import exact_numpy_value


@dataclasses.dataclass(eq=False)
class PlacedCheck:
    """One op's check in one compiled run.

    Attributes:
        op: the op in the run's private graph.
        user_op: the user's op, which the error names.
        check: the op's declared check.
        bound: the bound, when the static shapes give it; a program check records it
            while tracing.
        feed: position of the fed value the checked values come from (host checks).
        chain: (op, input position) from that feed to the checked input, computed on
            the host.
        shape: the checked values' shape (recorded while tracing a program check).
    """

    op: Operation
    user_op: Operation
    check: ValueCheck
    bound: Optional[int] = None
    feed: Optional[int] = None
    chain: tuple = ()
    shape: tuple = ()


def _tf_position(shape: tuple, flat: int) -> str:
    """An element's index as TensorFlow prints it: '' for a scalar, '[3]', '[1,0]'."""
    if not shape:
        return ""
    return "[" + ",".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


def declared_check(op: Operation) -> Optional[ValueCheck]:
    """The check ``op``'s declaration makes for these inputs, or None."""
    declare = op.op_def.check
    return declare(list(op.inputs), **op.attrs) if declare is not None else None


def _static_bound(op: Operation, check: ValueCheck) -> Optional[int]:
    if not all(t.shape.is_fully_defined() for t in op.inputs):
        return None
    return int(check.bound([tuple(t.shape.as_list()) for t in op.inputs]))


def constant_check_fails(op: Operation) -> bool:
    """``op``'s check fails on its constant inputs (the folder must leave it to the run)."""
    check = declared_check(op)
    if check is None or op.inputs[check.input].op.type != CONST_OP:
        return False
    bound = _static_bound(op, check)
    values = op.inputs[check.input].op.attrs["value"]
    return bound is not None and bool(np.any(check.bad(values, bound)))


def _carried_input(op: Operation) -> Optional[int]:
    """The one input whose values ``op`` maps to its output in a way the host can compute
    exactly (declared ``numpy_exact``, integers only, every other input a constant)."""
    if op.control_inputs or len(op.outputs) != 1 or not op.op_def.numpy_exact:
        return None
    if not all(t.dtype.is_integer or t.dtype.is_bool for t in (*op.inputs, *op.outputs)):
        return None
    varying = [i for i, t in enumerate(op.inputs) if t.op.type != CONST_OP]
    return varying[0] if len(varying) == 1 else None


def _host_source(tensor: Tensor, fed: dict) -> tuple[Optional[Tensor], tuple]:
    """The fed or constant tensor whose values reach ``tensor`` through host-computable ops,
    and those ops (with the input carrying the values) in order."""
    chain = []
    while tensor not in fed and tensor.op.type != CONST_OP:
        position = _carried_input(tensor.op)
        if position is None:
            return None, ()
        chain.append((tensor.op, position))
        tensor = tensor.op.inputs[position]
    return tensor, tuple(reversed(chain))


def _through(chain: tuple, values: np.ndarray) -> np.ndarray:
    for op, position in chain:
        inputs = [values if i == position else t.op.attrs["value"]
                  for i, t in enumerate(op.inputs)]
        exact = exact_numpy_value(op, inputs)
        values = exact[0] if exact is not None else _as_lowered(op, inputs)
    return values


def _as_lowered(op: Operation, inputs: list) -> np.ndarray:
    """``op``'s lowering, run now: for values where its declaration does not vouch for numpy."""
    with jax.enable_x64(True):
        return np.asarray(op.op_def.lower(*[jnp.asarray(v) for v in inputs], **op.attrs))


def _through_steps(chain: tuple, values: np.ndarray) -> np.ndarray:
    """``_through`` for run_loop feeds: the ops see one step's value at a time."""
    if not chain:
        return values
    return np.stack([_through(chain, step) for step in values])


def _same_host_check(placed: PlacedCheck, other: PlacedCheck) -> bool:
    return (placed.feed, placed.chain, placed.bound, placed.check.bad) == \
        (other.feed, other.chain, other.bound, other.check.bad)


class RunChecks:
    """The checks of one compiled run, split into constant, host and program checks.

    Args:
        plan: the run's optimized plan.
        origin: run-graph op -> user's op.
        enabled: False (``Session(check_indices=False)``) places only the checks that are
            their op's purpose (``ValueCheck.always``: ``gn.debugging.check_numerics``).
    """

    def __init__(self, plan: Plan, origin: dict, enabled: bool):
        self.host: list[PlacedCheck] = []
        self.program: list[PlacedCheck] = []
        self.constant_failure: Optional[InvalidArgumentError] = None
        fed = {t: i for i, t in enumerate(plan.feeds)}
        for op in plan.ops:
            check = declared_check(op)
            if check is None or not (enabled or check.always):
                continue
            placed = PlacedCheck(op, origin.get(op, op), check, _static_bound(op, check))
            source, chain = _host_source(op.inputs[check.input], fed)
            if source is None or placed.bound is None:
                self.program.append(placed)
            elif source in fed:
                placed.feed, placed.chain = fed[source], chain
                # A loss and its gradient check the same fed labels: one check does for both
                # (the first op's error is the one either would raise).
                if not any(_same_host_check(placed, other) for other in self.host):
                    self.host.append(placed)
            elif self.constant_failure is None:
                values = _through(chain, source.op.attrs["value"])
                self.constant_failure = self._first_failure(placed, values, placed.bound)
        self._host_tests = [(placed, placed.check.any_bad) for placed in self.host]

    @property
    def before_run(self) -> bool:
        """Something to check on the host before each run."""
        return bool(self.host) or self.constant_failure is not None

    def check_feeds(self, feed_values: list, steps: Optional[int]) -> None:
        """Raises for the first failing constant or host check; ``steps``: a run_loop's feeds."""
        if self.constant_failure is not None:
            raise self.constant_failure
        for placed, any_bad in self._host_tests:
            values = feed_values[placed.feed]
            if placed.chain:
                values = _through(placed.chain, values) if steps is None else \
                    _through_steps(placed.chain, values)
            if any_bad(values, placed.bound):
                raise self._first_failure(placed, values, placed.bound, steps)

    def _first_failure(self, placed: PlacedCheck, values: np.ndarray, bound: int,
                       steps: Optional[int] = None) -> Optional[InvalidArgumentError]:
        bad = placed.check.bad(values, bound)
        if not bad.any():
            return None
        flat = int(np.argmax(bad))
        value = _reported(placed.check, values).reshape(-1)[flat]
        if steps is None:
            return self.error(placed, flat, value, values.shape, bound, None, None)
        step, flat = divmod(flat, max(math.prod(values.shape[1:]), 1))
        return self.error(placed, flat, value, values.shape[1:], bound, step, steps)

    @staticmethod
    def error(placed: PlacedCheck, flat: int, value: Any, shape: tuple, bound: int,
              step: Optional[int], steps: Optional[int]) -> InvalidArgumentError:
        words = placed.check.message(_tf_position(tuple(shape), flat), value.item(), bound)
        words += "" if words.endswith(".") else "."
        where = "" if step is None else f" At step {step} of run_loop's {steps} (from 0)."
        return InvalidArgumentError(f"{placed.user_op.describe()}: {words}{where} The run "
                                    f"changed no variable.", placed.user_op)

    def program_error(self, status: np.ndarray, steps: Optional[int]) -> InvalidArgumentError:
        """The error for a program's status array (see ``traced_status``)."""
        placed = self.program[int(status[0]) - 1]
        if steps is None:
            return self.error(placed, int(status[1]), status[2], placed.shape, placed.bound,
                              None, None)
        return self.error(placed, int(status[2]), status[3], placed.shape, placed.bound,
                          int(status[1]), steps)


def _reported(check: ValueCheck, values: Any) -> Any:
    """What the error reports of the checked ``values`` (``ValueCheck.reported``)."""
    return values if check.reported is None else check.reported(values)


def traced_status(status: Any, number: int, placed: PlacedCheck, args: list, dtype: Any) -> Any:
    """Adds check ``number`` (on the op's traced ``args``) to a run's status array.

    The status is ``[number + 1 of the first failing check (0: none), flat position,
    value]`` (``initial_status``); a check whose values are empty cannot fail.
    """
    values = args[placed.check.input]
    placed.shape = tuple(np.shape(values))
    placed.bound = int(placed.check.bound([tuple(np.shape(a)) for a in args]))
    if math.prod(placed.shape) == 0:
        return status
    bad = jnp.ravel(placed.check.bad(values, placed.bound))
    position = jnp.argmax(bad)
    reported = jnp.ravel(_reported(placed.check, values))[position]
    found = jnp.stack([jnp.where(bad[position], number + 1, 0).astype(dtype),
                       position.astype(dtype), reported.astype(dtype)])
    return jnp.where(status[0] == 0, found, status)


def initial_status(dtype: Any) -> Any:
    """The status of a run before any check: nothing failed."""
    return jnp.zeros((3,), dtype)
