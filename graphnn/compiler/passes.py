"""The optimization passes over a run's private copy, and the pass manager that reports them.

The pipeline is one literal, ordered list (``PIPELINE``). Each pass edits the copy,
returns a Counter of what it rewrote, and is timed; rewrite passes run their rules to
a fixpoint with a bound on the number of sweeps. What the fetches need is computed once
per change of the copy (``_live_ops``): the ops a pass leaves unused are removed right
after it from that same walk, so each record's node counts are live ops. A pass that
meets the copy exactly as it last left it (a second round after a first that changed
nothing) is recorded with no rewrites without walking the copy again.
"""
from __future__ import annotations

import collections
import dataclasses
import time
from typing import Any, Callable, Optional

import numpy as np

from graphnn.compiler import rules
from graphnn.compiler.checks import constant_check_fails
from graphnn.compiler.subgraph import RunGraph
from graphnn.framework.graph import Operation
from graphnn.framework.tensor import Tensor
from graphnn.ops.declare import evaluate_static, exact_numpy_value
from graphnn.ops.state import CONST_OP

FOLD_LIMIT = 1 << 16  # elements: larger constants would bloat the XLA program
MAX_SWEEPS = 20


@dataclasses.dataclass
class PassRecord:
    """What one pass did: node counts, rules fired (name -> times) and time taken."""

    name: str
    nodes_before: int
    nodes_after: int
    rewrites: dict
    seconds: float


def _replace(run: RunGraph, old: Tensor, new: Tensor) -> None:
    run.graph.replace_uses(old, new)
    run.fetches = [new if f is old else f for f in run.fetches]


def _live_ops(run: RunGraph) -> list[Operation]:
    """The ops the fetches need (through inputs and control inputs), each after its inputs.

    One depth-first walk from the fetches gives both what is live and an order; it is
    kept until the copy or its fetches change, so a pass that changes nothing and the
    dead-code removal after each pass reuse it instead of walking again.
    """
    key = (run.graph.version, tuple(run.fetches))
    if run.live is not None and run.live[0] == key:
        return run.live[1]
    order: list = []
    # Post-order without recursion (gradient chains are deep) and without a tuple per
    # visit: an op is pushed once more below its inputs when first seen (state False),
    # and emitted when popped again (state True); in an acyclic graph nothing above that
    # second copy can be the op itself, so every op it waits for is in ``order`` first.
    # An input already emitted is not pushed again (popping it would do nothing).
    state: dict = {}
    stack = [f.op if isinstance(f, Tensor) else f for f in reversed(run.fetches)]
    while stack:
        op = stack.pop()
        seen = state.get(op)
        if seen is None:
            state[op] = False
            stack.append(op)
            # Pushed in reverse, so the first input is walked first.
            if op.control_inputs:
                stack.extend(reversed(op.control_inputs))
            stack.extend([t.op for t in reversed(op.inputs) if t.op not in state])
        elif seen is False:
            state[op] = True
            order.append(op)
    run.live = (key, order)
    return order


# ----- passes ----------------------------------------------------------------------------
def eliminate_dead_code(run: RunGraph) -> collections.Counter:
    live = _live_ops(run)
    if len(live) == run.graph.num_ops:
        return collections.Counter()
    alive = set(live)
    dead = [op for op in run.graph.get_operations() if op not in alive]
    run.graph.remove_ops(dead)
    run.live = ((run.graph.version, tuple(run.fetches)), live)  # removing the dead keeps it
    return collections.Counter({"unused op removed": len(dead)})


def _foldable(op: Operation) -> bool:
    """Whether ``op`` computes its outputs from its inputs alone, now known."""
    opdef = op.op_def
    inputs = op.inputs
    # Whether the inputs are known first: it rules out most ops of a program at once
    # (a loop, not all() of a generator: this is asked of every op).
    if opdef.from_shapes is None or not all(t.shape.is_fully_defined() for t in inputs):
        if not inputs:
            return False
        for tensor in inputs:
            if tensor.op.type != CONST_OP:
                return False
    if op.control_inputs or opdef.stateful or opdef.random or opdef.source \
            or opdef.lower is None or not op.outputs:
        return False
    # A check failing on a constant is left to the run, which raises the op's error.
    return not constant_check_fails(op)


def _evaluate(op: Operation) -> Optional[tuple]:
    """The outputs the compiled program would compute for ``op``, or None to leave it."""
    opdef = op.op_def
    if opdef.from_shapes is not None and all(t.shape.is_fully_defined() for t in op.inputs):
        return opdef.from_shapes(op)
    values = [t.op.attrs["value"] for t in op.inputs]
    # Ops declared exact in numpy skip compiling a one-op XLA program per folded op.
    exact = exact_numpy_value(op, values)
    if exact is not None:
        return exact
    try:
        return evaluate_static(op, values)
    except Exception:  # noqa: BLE001 -- left to run time, which reports it with the op's name
        return None


def fold_constants(run: RunGraph) -> collections.Counter:
    """Evaluates ops whose inputs are all constants (and shapes that are fully known) once."""
    fired: collections.Counter = collections.Counter()
    for op in _live_ops(run):
        if not _foldable(op):
            continue
        known = [t.shape.num_elements() for t in op.outputs]
        if any(n is None or n > FOLD_LIMIT for n in known):
            continue
        values = _evaluate(op)
        if values is None:
            continue
        for tensor, value in zip(op.outputs, values):
            const = run.graph.constant(value.astype(tensor.dtype.as_numpy_dtype),
                                       name=f"{op.name}/folded", location=op.location)
            const.op.gradient_of = op.gradient_of
            _replace(run, tensor, const)
        fired[f"{op.type} folded"] += 1
    return fired


def _freeze(value: Any) -> Any:
    """A hashable key for an attribute value (arrays by content when small)."""
    if isinstance(value, dict):
        if not value:
            return ()
        if not any(type(v) is np.ndarray for v in value.values()):
            items = tuple(sorted(value.items()))
            try:
                hash(items)  # only hashable values, which freeze to themselves
                return items
            except TypeError:
                pass
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, np.ndarray):
        if value.size > FOLD_LIMIT:
            return ("array", id(value))
        return ("array", value.dtype.str, value.shape, value.tobytes())
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return value


def merge_common_subexpressions(run: RunGraph) -> collections.Counter:
    """Ops of one type, with the same inputs and attributes, compute the same value once."""
    fired: collections.Counter = collections.Counter()
    seen: dict = {}
    for op in _live_ops(run):
        opdef = op.op_def
        if opdef.stateful or opdef.random or opdef.lower is None or not op.outputs:
            continue  # state, randomness and fed values are not functions of their inputs
        key = (op.type, op.inputs, op.control_inputs, _freeze(op.attrs) if op.attrs else ())
        first = seen.setdefault(key, op)
        if first is op:
            continue
        for old, new in zip(op.outputs, first.outputs):
            _replace(run, old, new)
        fired[f"{op.type} merged"] += 1
    return fired


def _rewrite_with(table: dict) -> Callable[[RunGraph], collections.Counter]:
    def rewrite(run: RunGraph) -> collections.Counter:
        fired: collections.Counter = collections.Counter()
        for _ in range(MAX_SWEEPS):
            changed = False
            for op in _live_ops(run):
                if op.control_inputs:
                    continue  # replacing it would drop what it must wait for
                for name, fn in table.get(op.type, ()):
                    replacement = fn(op)
                    if replacement is not None and replacement is not op.outputs[0]:
                        _replace(run, op.outputs[0], replacement)
                        fired[name] += 1
                        changed = True
                        break
            if not changed:
                return fired
        raise RuntimeError(f"rewrite rules did not settle after {MAX_SWEEPS} sweeps: {dict(fired)}")
    return rewrite


simplify = _rewrite_with(rules.SIMPLIFY)
stabilize = _rewrite_with(rules.STABILIZE)

PIPELINE: tuple = (
    ("fold_constants", fold_constants),
    ("merge_common_subexpressions", merge_common_subexpressions),
    ("simplify", simplify),
    ("stabilize", stabilize),
    ("fold_constants_again", fold_constants),
    ("merge_again", merge_common_subexpressions),
    ("simplify_again", simplify),
    ("eliminate_dead_code", eliminate_dead_code),
)


def run_pipeline(run: RunGraph, optimize: bool) -> list[PassRecord]:
    """Runs the passes (or only dead-code elimination when ``optimize`` is False)."""
    records = []
    pipeline = PIPELINE if optimize else (("eliminate_dead_code", eliminate_dead_code),)
    # Each pass leaves the copy at a fixpoint of its own rules, so a pass meeting the copy
    # as it last left it (same version, same fetches) would change nothing: it is recorded
    # without walking the copy again (the second round after a first that changed nothing).
    settled: dict = {}
    for name, fn in pipeline:
        before = run.graph.num_ops
        start = time.perf_counter()
        if settled.get(fn) == (run.graph.version, tuple(run.fetches)):
            fired: collections.Counter = collections.Counter()
        else:
            fired = fn(run)
            if name != "eliminate_dead_code":
                eliminate_dead_code(run)
            settled[fn] = (run.graph.version, tuple(run.fetches))
        records.append(PassRecord(name, before, run.graph.num_ops, dict(fired),
                                  time.perf_counter() - start))
    return records
