"""Split compilation: a large program lowered and compiled in bounded segments.

XLA's CPU compiler, and its fusion pass above all, is superlinear in the length of
element-wise chains: ``jax.jit(jax.grad(f))`` of a 2,000-op chain takes about a minute to
compile and, fused into a few enormous kernels, about a minute per run. So a program with
more computing ops than ``split_above`` is cut into segments of about ``segment_ops``
ops (``Session(split_above=..., segment_ops=...)``); smaller ones keep being compiled
whole (``compiler.lowering.Executable``). This module plans the cut (``split_plan``); the
executable that runs the pieces is ``compiler.split_executable``.

1. **Order.** The ops are scheduled in the order the user created them (Kahn's algorithm
   keyed by creation id, ops a rewrite made following their inputs), which keeps the steps
   of an unrolled loop together and their gradients in step order.
2. **Cuts.** Each segment takes a whole number of periods of the op sequence where it
   repeats (an unrolled RNN, a deep stack of identical blocks), so repeated structure
   gives identical segments; where it does not repeat, the cut goes where the fewest
   values cross it. A large AddN (the gradient of a value every step reads) is
   accumulated where its terms are made, so no segment reads thousands of values.
3. **One compile per structure.** A segment is a plain ``jax.jit`` function of the
   values it reads from earlier segments, the feeds and the variables; its *structure*
   (op types, attributes, internal wiring, input shapes and dtypes, embedded static
   values, donation; under a strategy, the shardings of its inputs and results) is
   hashed, and segments with the same structure share one compiled
   program. Random ops get their keys (from graph seed, op seed and run counter, as in a
   whole program) as arguments, so they do not tell segments apart; a segment with
   program checks bakes their numbers in and is compiled for its program alone.

Values known at compile time (constants, shapes: see ``compiler.lowering``) are embedded
in the segments that read them, exactly as a whole program folds them while tracing.
"""
from __future__ import annotations

import dataclasses
import heapq
from typing import Any

import numpy as np

from graphnn.compiler.plan import Plan
from graphnn.framework.dtypes import DType
from graphnn.framework.graph import Operation
from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.ops.math import ADD_N_OP
from graphnn.ops.state import CONST_OP, VARIABLE_OP

# Programs with more computing ops than this are split. Measured on the gradient of the
# chain in benchmarks/deep_graphs.py (2 cores): whole, 1,400 ops compile and run first in
# 1.1 s against 1.3-1.8 s split; 2,400 ops in 2.5 s against 1.4-1.9 s split (though a run
# takes 0.9 ms whole, 1.6 ms split); 3,600 ops in 8.8 s and 150 ms per run whole, against
# 3 s and 2-4 ms split.
SPLIT_ABOVE = 2000
# Ops per segment. On that chain at N=5,000, 100 to 500 compile (1-2 s of XLA) and run
# (7-10 ms) alike within noise; where dots dominate, a segment's compile grows with its
# size (the unrolled RNN's 5 distinct segments: 2.0 s of XLA at 100 ops, 3.4 s at 200,
# same run time), so segments are small.
SEGMENT_OPS = 100
# The longest period of a repeated structure that cuts are aligned to, and the share of
# a window of ops that must repeat with that period.
MAX_PERIOD = 200
PERIOD_MATCH = 0.9
# A sum of more computed terms than this (the gradient of a value used at every step) is
# accumulated where its terms are made: as one op it would make a segment of thousands of
# inputs, which XLA compiles in seconds, and keep every term alive until the end. Terms
# are added SUM_GROUP at a time: one per op keeps the period of an unrolled loop's
# gradient that of one step, so its segments repeat.
SUM_FAN_IN = 8
SUM_GROUP = 1


def computing_ops(plan: Plan) -> list:
    """The plan's ops that compute (not constants, variables or fed placeholders)."""
    fed = set(plan.feeds)
    return [op for op in plan.ops if not _is_source(op, fed)]


def _is_source(op: Operation, fed: set) -> bool:
    return op.type in (CONST_OP, VARIABLE_OP) or bool(op.outputs) and \
        all(t in fed for t in op.outputs)


def freeze(value: Any) -> Any:
    """A hashable stand-in for an attribute value that equals another exactly when the two
    lower alike (unknown objects compare by identity)."""
    if value is None or isinstance(value, (bool, int, str, DType, TensorShape)):
        return (type(value).__name__, value)
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, np.generic):
        return ("scalar", value.dtype.str, value.tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, freeze(v)) for k, v in value.items())))
    if isinstance(value, slice):
        return ("slice", freeze(value.start), freeze(value.stop), freeze(value.step))
    return ("object", id(value))


@dataclasses.dataclass(eq=False)
class Segment:
    """A bounded piece of a split program.

    Attributes:
        ops: its computing ops, in order.
        wiring: per op, where each input comes from: ``("in", k)`` the segment's k-th input,
            ``("op", j, i)`` output i of its j-th op, or ``("none",)``.
        inputs: the values it reads from outside (Tensors), in first-use order.
        outputs: the values it makes that later segments, fetches or the written
            variables need (Tensors).
        random: positions in ``plan.random_ops`` of its random ops, in order.
        checks: (op, check number) of its program checks.
        shape_key: the part of its structural key that does not depend on input values.
    """

    ops: list
    wiring: list
    inputs: list
    outputs: list
    random: list
    checks: list
    shape_key: tuple = ()


@dataclasses.dataclass(eq=False)
class SplitPlan:
    """How a program is cut: segments in order, and which value each op really reads.

    Attributes:
        segments: the Segments, in run order.
        reads: op -> its input values, with a variable's value after the assigns before it
            where the op sees the current value (assigns, reads after a control
            dependency on an assign); None where a whole program passes None.
        final: variable op -> the Tensor holding its value at the end of the run.
        period: the repeat periods the cuts were aligned to, per segment (1: none found).
        unit_runs: how many repeated runs were cut into single periods (``unit_periods``).
    """

    segments: list
    reads: dict
    final: dict
    periods: list
    unit_runs: int = 0


def schedule(plan: Plan, origin: dict) -> tuple[list, dict, dict]:
    """The computing ops in creation order (a topological order), each op's effective input
    values, and each written variable's final value.

    Two assigns to one variable keep the plan's order (their results depend on it).
    """
    fed = set(plan.feeds)
    position = {op: i for i, op in enumerate(plan.ops)}
    priority: dict = {}
    for op in plan.ops:
        user = origin.get(op)
        if user is not None and user.graph is not op.graph:
            priority[op] = user._id
        else:  # made by a rewrite: right after its latest input
            priority[op] = max((priority[t.op] for t in op.inputs), default=-1)
    compute = [op for op in plan.ops if not _is_source(op, fed)]
    members = set(compute)
    assigns = {op for op in compute if op.op_def.assigns}
    before: dict = {op: [] for op in compute}
    last_assign: dict = {}
    for op in compute:
        deps = {t.op for t in op.inputs if t.op in members}
        if op.control_inputs:
            deps.update(c for c in op.control_inputs if c in members)
        if op in assigns:
            previous = last_assign.get(op.inputs[0].op)
            if previous is not None:
                deps.add(previous)
            last_assign[op.inputs[0].op] = op
        before[op] = deps
    waiting = {op: len(deps) for op, deps in before.items()}
    after: dict = {op: [] for op in compute}
    for op, deps in before.items():
        for dep in deps:
            after[dep].append(op)
    ready = [(priority[op], position[op], op) for op in compute if not waiting[op]]
    heapq.heapify(ready)
    order = []
    while ready:
        _, _, op = heapq.heappop(ready)
        order.append(op)
        for successor in after[op]:
            waiting[successor] -= 1
            if not waiting[successor]:
                heapq.heappush(ready, (priority[successor], position[successor], successor))

    reads, current = {}, {}
    for op in order:
        values = list(op.inputs)
        fresh = plan.fresh_reads.get(op)
        if fresh:
            values = [current.get(t.op, t) if t.op in fresh else t for t in values]
        if op in assigns:
            values[0] = current.get(op.inputs[0].op, op.inputs[0])
            current[op.inputs[0].op] = op.outputs[0]
        reads[op] = values
    return _accumulate_sums(order, reads), reads, current


def _accumulate_sums(order: list, reads: dict) -> list:
    """``order`` with each large AddN accumulated as its terms are made: once SUM_GROUP
    terms are ready, a partial AddN adds them to the sum so far, and the AddN itself adds
    the last partial sum to the terms left."""
    where = {op: i for i, op in enumerate(order)}
    sums = {op for op in order if op.type == ADD_N_OP
            and sum(t.op in where for t in reads[op]) > SUM_FAN_IN}
    if not sums:
        return order
    terms: dict = {}
    for total in sums:
        for tensor in reads[total]:
            if tensor.op in where:
                terms.setdefault(tensor.op, []).append((total, tensor))
    partial: dict = {total: [] for total in sums}  # the sum so far (if any), then new terms
    accumulated = []
    for op in order:
        if op in sums:
            reads[op] = partial[op] + [t for t in reads[op] if t.op not in where]
        accumulated.append(op)
        for total, tensor in terms.get(op, ()):
            pending = partial[total]
            pending.append(tensor)
            if len(pending) > SUM_GROUP:
                added = _partial_sum(total, pending)
                reads[added] = list(pending)
                accumulated.append(added)
                partial[total] = [added.outputs[0]]
    return accumulated


def _partial_sum(total: Operation, terms: list) -> Operation:
    """An AddN of ``terms`` standing for part of ``total``: an op of the split program
    only, so it is made directly rather than added to a graph (no name, no inference:
    it has ``total``'s output shape and dtype, and errors name ``total``)."""
    added = Operation(total.graph, ADD_N_OP, total.name, tuple(terms), (), {}, total.location,
                      total._id, total.gradient_of)
    output = total.outputs[0]
    added.outputs = (Tensor(added, 0, output.shape, output.dtype),)
    return added


def _op_signature(op: Operation) -> tuple:
    return (op.type, freeze(op.attrs), tuple((t.dtype, t.shape) for t in op.outputs))


def _period_at(kinds: np.ndarray, start: int, limit: int) -> int:
    """The shortest period p of the op sequence ``kinds`` over ``limit`` elements from
    ``start``: the smallest p up to MAX_PERIOD with ``kinds[i] == kinds[i + p]`` for nearly
    all i there (a repeated block may begin after ``start``); 1 when none."""
    window = kinds[start:start + limit]
    for p in range(1, min(MAX_PERIOD, len(window) // 3) + 1):
        if np.mean(window[p:] == window[:-p]) >= PERIOD_MATCH:
            return p
    return 1


def _periodic_run(kinds: np.ndarray, start: int, period: int, reach: int) -> tuple[int, int]:
    """(offset, repeats): the first offset below ``reach`` from ``start`` where the block of
    ``period`` ops repeats exactly at least three times, and how many times; (0, 0) if
    none. Offsets are tried on three blocks each; only the run found is followed to its
    end (so a call costs the run's length, not the program's)."""
    for offset in range(reach):
        begin = start + offset
        if begin + 3 * period > len(kinds):
            break
        block = kinds[begin:begin + period]
        if not (np.array_equal(kinds[begin + period:begin + 2 * period], block)
                and np.array_equal(kinds[begin + 2 * period:begin + 3 * period], block)):
            continue
        repeats, chunk = 3, 64
        while True:  # follow the run in chunks of blocks
            at = begin + repeats * period
            count = min(chunk, (len(kinds) - at) // period)
            if count <= 0:
                return offset, repeats
            same = np.all(kinds[at:at + count * period].reshape(count, period) == block,
                          axis=1)
            if not same.all():
                return offset, repeats + int(np.argmin(same))
            repeats += count
            chunk *= 2
    return 0, 0


def split_plan(plan: Plan, origin: dict, segment_ops: int, checks: list,
               unit_periods: bool = False) -> SplitPlan:
    """Cuts ``plan`` into segments of about ``segment_ops`` computing ops.

    Args:
        plan: the optimized plan.
        origin: run-graph op -> the user's op (for the creation order).
        segment_ops: the target size of a segment.
        checks: the program checks (``checks.PlacedCheck``), numbered by position.
        unit_periods: cut a repeated structure into single periods (one loop iteration
            each, for ``compiler.rolled``) rather than into segments of about
            ``segment_ops`` ops.
    """
    order, reads, final = schedule(plan, origin)
    fed = set(plan.feeds)
    # Signatures with inputs as offsets back in the order (far ones alike) find periods.
    index = {op: i for i, op in enumerate(order)}
    interned: dict = {}
    signatures = [_op_signature(op) for op in order]
    kinds = np.empty(len(order), np.int64)
    all_offsets = []
    for i, op in enumerate(order):
        offsets = tuple(i - index[t.op] if t is not None and t.op in index
                        and i - index[t.op] <= MAX_PERIOD else -1 for t in reads[op])
        all_offsets.append(offsets)
        kinds[i] = interned.setdefault((signatures[i], offsets), len(interned))
    # For cuts into single periods p, inputs from more than p ops back come from outside the
    # period whatever their distance (a gradient step reading its forward step); such a
    # period is found from the ops' signatures alone, then checked with these kinds.
    signature_kinds = np.array([interned.setdefault(("signature", sig), len(interned))
                                for sig in signatures], np.int64)
    width = max((len(o) for o in all_offsets), default=0)
    offsets_table = np.full((len(order), width + 1), -2, np.int64)  # -2: no such input
    offsets_table[:, 0] = signature_kinds
    for i, offsets in enumerate(all_offsets):
        offsets_table[i, 1:1 + len(offsets)] = offsets
    within: dict = {}

    def kinds_within(p: int) -> np.ndarray:
        if p not in within:
            table = offsets_table.copy()
            table[:, 1:][table[:, 1:] > p] = -1
            within[p] = np.unique(table, axis=0, return_inverse=True)[1].reshape(-1)
        return within[p]
    crossing = _crossing(order, index, reads, plan, final)
    bounds, periods, start, unit_runs = [], [], 0, 0
    while start < len(order):
        period = _period_at(kinds, start, 2 * segment_ops)
        if unit_periods:
            # A repeat that starts within the next segment is cut from where it starts.
            probe = _period_at(signature_kinds, start, 2 * segment_ops)
            if probe == 1:
                probe = _period_at(signature_kinds, start + segment_ops // 2, 2 * segment_ops)
            offset, repeats = _periodic_run(kinds_within(probe), start, probe,
                                            max(probe, segment_ops)) if probe > 1 else (0, 0)
            if repeats:
                unit_runs += 1
                period = probe
                if offset:
                    bounds.append((start, start + offset))
                    periods.append(1)
                begin = start + offset
                bounds += [(begin + j * period, begin + (j + 1) * period)
                           for j in range(repeats)]
                periods += [period] * repeats
                start = begin + repeats * period
                continue
        if period > 1:
            size = period * max(1, round(segment_ops / period))
        else:  # no repeat to follow: cut where the fewest values cross
            low = start + max(1, segment_ops * 3 // 4)
            high = min(len(order), start + segment_ops * 5 // 4)
            size = (low + int(np.argmin(crossing[low:high + 1])) - start) if low <= high \
                else segment_ops
        if len(order) - (start + size) < segment_ops // 2:
            size = len(order) - start  # no small remainder at the end
        bounds.append((start, start + size))
        periods.append(period)
        start += size

    segment_of = {}
    for number, (begin, end) in enumerate(bounds):
        for op in order[begin:end]:
            segment_of[op] = number
    needed_after = _last_uses(plan, order, reads, final, segment_of, len(bounds))
    numbered = {placed.op: n for n, placed in enumerate(checks)}
    random_index = {op: i for i, op in enumerate(plan.random_ops)}
    segments = []
    for number, (begin, end) in enumerate(bounds):
        ops = order[begin:end]
        local = {op: j for j, op in enumerate(ops)}
        inputs, input_index, wiring = [], {}, []
        for op in ops:
            wires = []
            for value in reads[op]:
                if value is None or (value.op.type == VARIABLE_OP and value not in fed
                                     and value.op not in plan.reads):
                    wires.append(("none",))
                elif value.op in local:
                    wires.append(("op", local[value.op], value.value_index))
                else:
                    if value not in input_index:
                        input_index[value] = len(inputs)
                        inputs.append(value)
                    wires.append(("in", input_index[value]))
            wiring.append(tuple(wires))
        outputs = [t for op in ops for t in op.outputs if needed_after.get(t, -1) > number]
        segment = Segment(ops=ops, wiring=wiring, inputs=inputs, outputs=outputs,
                          random=[random_index[op] for op in ops if op in random_index],
                          checks=[(op, numbered[op]) for op in ops if op in numbered])
        segment.shape_key = _shape_key(segment, local, signatures[begin:end])
        segments.append(segment)
    return SplitPlan(segments=segments, reads=reads, final=final, periods=periods,
                     unit_runs=unit_runs)


def _crossing(order: list, index: dict, reads: dict, plan: Plan, final: dict) -> np.ndarray:
    """``crossing[i]``: how many values made before position i of ``order`` are read at or
    after it (the values a cut before op i passes from one segment to the next)."""
    last = {}
    for i, op in enumerate(order):
        for value in reads[op]:
            if value is not None and value.op in index:
                last[value] = i
    for value in [f for f in plan.fetches if isinstance(f, Tensor)] + list(final.values()):
        if value.op in index:
            last[value] = len(order)
    change = np.zeros(len(order) + 2, np.int64)
    for value, used in last.items():
        change[index[value.op] + 1] += 1
        change[used + 1] -= 1
    return np.cumsum(change)[:len(order) + 1]


def _last_uses(plan: Plan, order: list, reads: dict, final: dict, segment_of: dict,
               count: int) -> dict:
    """Tensor -> the last segment that reads it (``count`` for the fetches and the
    variables' final values, which the run returns)."""
    last = {}
    for op in order:
        where = segment_of[op]
        for value in reads[op]:
            if value is not None and last.get(value, -1) < where:
                last[value] = where
    for fetch in plan.fetches:
        if isinstance(fetch, Tensor):
            last[fetch] = count
    for value in final.values():
        last[value] = count
    return last


def _shape_key(segment: Segment, local: dict, signatures: list) -> tuple:
    """The structure of ``segment`` apart from its inputs' values and shapes."""
    outputs = tuple((local[t.op], t.value_index) for t in segment.outputs)
    checks = tuple((local[op], number) for op, number in segment.checks)
    return (tuple(signatures), tuple(segment.wiring), outputs, checks)
