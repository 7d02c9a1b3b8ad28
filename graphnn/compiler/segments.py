"""Split compilation: a large program lowered and compiled in bounded segments.

XLA's CPU compiler, and its fusion pass above all, is superlinear in the length of
element-wise chains: ``jax.jit(jax.grad(f))`` of a 2,000-op chain takes about a minute to
compile and, fused into a few enormous kernels, about a minute per run. So a program with
more computing ops than ``split_above`` is cut into segments of about ``segment_ops``
ops (``Session(split_above=..., segment_ops=...)``); smaller ones keep being compiled
whole (``compiler.lowering.Executable``). This module plans the cut (``split_plan``); the
executable that runs the pieces is ``compiler.split_executable``.

1. **Order.** The ops are scheduled in the order the user created them (Kahn's algorithm
   keyed by creation id, ops a rewrite made following their inputs; usually the ops
   sorted by creation id are already in a topological order, which is then taken as it
   is), which keeps the steps of an unrolled loop together and their gradients in step
   order.
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
import itertools
from typing import Any

import numpy as np

from graphnn.compiler.plan import Plan
from graphnn.framework.dtypes import DType
from graphnn.framework.graph import Operation
from graphnn.framework.registry import lookup
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
        shape_key: the part of its structural key that does not depend on input values,
            with its ops' signatures numbered as in its ``SplitPlan`` (segments of one
            plan with equal keys share the key object); ``SplitPlan.structure`` gives it
            in full.
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
        periods: the repeat periods the cuts were aligned to, per segment (1: none found).
        signatures: the op signatures (type, attributes, output shapes and dtypes) by the
            numbers the segments' ``shape_key`` holds.
        index: op -> its position in the run order.
        bounds: per segment, the (begin, end) positions of its ops in the run order.
        last_read: tensor -> the position of the last op that reads it (the number of ops
            for the fetches and the variables' final values, which the run returns).
        unit_runs: how many repeated runs were cut into single periods (``unit_periods``).
    """

    segments: list
    reads: dict
    final: dict
    periods: list
    signatures: list
    index: dict
    bounds: list
    last_read: dict
    unit_runs: int = 0
    _structures: dict = dataclasses.field(default_factory=dict)

    def structure(self, segment: Segment) -> tuple:
        """``segment.shape_key`` with its signatures in full, which tells structures of
        different plans apart (the compiled segments of a session are shared)."""
        key = segment.shape_key
        if key not in self._structures:
            numbers, *rest = key
            self._structures[key] = (tuple(self.signatures[n] for n in numbers), *rest)
        return self._structures[key]


def schedule(plan: Plan, origin: dict) -> tuple[list, dict, dict]:
    """The computing ops in creation order (a topological order), each op's effective input
    values, and each written variable's final value.

    Two assigns to one variable keep the plan's order (their results depend on it).
    """
    priority: dict = {}
    for op in plan.ops:
        user = origin.get(op)
        if user is not None and user.graph is not op.graph:
            priority[op] = user._id
        else:  # made by a rewrite: right after its latest input
            priority[op] = max((priority[t.op] for t in op.inputs), default=-1)
    fed = set(plan.feeds)
    fed_ops = {t.op for t in fed}
    compute = [op for op in plan.ops if op.type not in _SOURCE_TYPES
               and (op not in fed_ops or not _is_source(op, fed))]
    assigning = {kind: lookup(kind).assigns for kind in {op.type for op in compute}}
    # The order is the topological one that takes the ready op of lowest (priority, plan
    # position) first. Sorted by that key, the ops are usually already in a topological
    # order, which is then that one: every op is ready when its turn comes.
    order = sorted(compute, key=priority.__getitem__)  # stable: ties keep plan order
    if not _topological(compute, order, assigning):
        order = _kahn(compute, _dependencies(compute, assigning), priority)

    reads, current = {}, {}
    fresh_reads = plan.fresh_reads
    for op in order:
        values = list(op.inputs)
        fresh = fresh_reads.get(op) if fresh_reads else None
        if fresh:
            values = [current.get(t.op, t) if t.op in fresh else t for t in values]
        if assigning[op.type]:
            values[0] = current.get(op.inputs[0].op, op.inputs[0])
            current[op.inputs[0].op] = op.outputs[0]
        reads[op] = values
    return _accumulate_sums(order, reads), reads, current


_SOURCE_TYPES = (CONST_OP, VARIABLE_OP)


def _topological(compute: list, order: list, assigning: dict) -> bool:
    """Whether ``order`` (the ops of ``compute``, which is in plan order) puts every op
    after the ops it must follow (``_dependencies``)."""
    at = {op: i for i, op in enumerate(order)}
    last_assign: dict = {}
    for op in compute:
        i = at[op]
        if any(at.get(t.op, -1) > i for t in op.inputs) or op.control_inputs and any(
                at.get(c, -1) > i for c in op.control_inputs):
            return False
        if assigning[op.type]:
            previous = last_assign.get(op.inputs[0].op)
            if previous is not None and at[previous] > i:
                return False
            last_assign[op.inputs[0].op] = op
    return True


def _dependencies(compute: list, assigning: dict) -> dict:
    """op -> the ops of ``compute`` it must follow (its inputs' and control inputs' ops, and
    the assign to the same variable before it), for the ops that have any."""
    members = set(compute)
    before: dict = {}
    last_assign: dict = {}
    for op in compute:
        deps = {t.op for t in op.inputs if t.op in members}
        if op.control_inputs:
            deps.update(c for c in op.control_inputs if c in members)
        if assigning[op.type]:
            previous = last_assign.get(op.inputs[0].op)
            if previous is not None:
                deps.add(previous)
            last_assign[op.inputs[0].op] = op
        if deps:
            before[op] = deps
    return before


def _kahn(compute: list, before: dict, priority: dict) -> list:
    """Kahn's algorithm over ``compute``, taking the ready op of lowest (priority, plan
    position) first."""
    position = {op: i for i, op in enumerate(compute)}
    waiting = {op: len(before.get(op, ())) for op in compute}
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
    return order


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


def _signature_ids(order: list) -> tuple[list, list]:
    """Per op of ``order``, the number of its signature (type, attributes, output shapes
    and dtypes: ops of one signature lower alike given alike inputs), and the signatures
    by number."""
    numbers: dict = {}
    frozen: dict = {}  # attributes of simple values (most ops) are frozen once per value
    ids = []
    for op in order:
        attrs = op.attrs
        if not attrs:
            attributes = ()
        else:
            types = tuple(map(type, attrs.values()))
            if _SIMPLE.issuperset(types):  # equal values of these types freeze alike
                key = (tuple(attrs.items()), types)
                attributes = frozen.get(key)
                if attributes is None:
                    attributes = frozen[key] = freeze(attrs)
            else:
                attributes = freeze(attrs)
        # A dtype by its name and a shape by its dims hash without Python-level calls.
        signature = (op.type, attributes,
                     tuple([(t.dtype.name, t.shape.dims) for t in op.outputs]))
        ids.append(numbers.setdefault(signature, len(numbers)))
    return ids, list(numbers)


# Attribute values that freeze to their type and value (floats do not: 0.0 == -0.0).
_SIMPLE = frozenset({bool, int, str, type(None), DType, TensorShape})


def _producers(plan: Plan, order: list, reads: dict, index: dict) -> list:
    """Per op of ``order``, where each value it reads comes from: the position of the op
    that makes it, -1 for none (no value, or a variable the run does not read), -2 for a
    source (a feed, a read variable, a constant)."""
    fed, read_variables = set(plan.feeds), set(plan.reads)
    producers = []
    for op in order:
        where = []
        for value in reads[op]:
            if value is None:
                where.append(-1)
                continue
            position = index.get(value.op)
            if position is not None:
                where.append(position)
            elif value.op.type == VARIABLE_OP and value not in fed \
                    and value.op not in read_variables:
                where.append(-1)
            else:
                where.append(-2)
        producers.append(tuple(where))
    return producers


def _row_ids(table: np.ndarray) -> np.ndarray:
    """A number per row of ``table``, equal for equal rows."""
    if not len(table):
        return np.zeros(0, np.int64)
    ranked = np.lexsort(table.T)
    rows = table[ranked]
    new = np.empty(len(rows), bool)
    new[0] = True
    np.any(rows[1:] != rows[:-1], axis=1, out=new[1:])
    ids = np.empty(len(rows), np.int64)
    ids[ranked] = np.cumsum(new)
    return ids


class _Kinds:
    """Numbers for the ops of an order that tell which ops repeat: equal when two ops have
    one signature and read their inputs from as many ops back (inputs from further back,
    or from no op of the order, alike)."""

    def __init__(self, signature_ids: list, producers: list) -> None:
        n = len(producers)
        counts = np.fromiter(map(len, producers), np.int64, n)
        flat = np.fromiter(itertools.chain.from_iterable(producers), np.int64,
                           int(counts.sum()))
        rows = np.repeat(np.arange(n), counts)
        columns = np.arange(len(flat)) - np.repeat(np.cumsum(counts) - counts, counts)
        distance = np.where(flat >= 0, rows - flat, -1)
        distance[distance > MAX_PERIOD] = -1
        # Column 0 the signature, then the inputs' distances (-2: no such input).
        self.table = np.full((n, int(counts.max(initial=0)) + 1), -2, np.int64)
        self.table[:, 0] = signature_ids
        self.table[rows, columns + 1] = distance
        self.signatures = np.asarray(signature_ids, np.int64)
        self.all = _row_ids(self.table)  # inputs up to MAX_PERIOD back told apart
        self._within: dict = {}

    def within(self, period: int) -> np.ndarray:
        """The kinds with inputs from more than ``period`` ops back alike: for cuts into
        single periods, where those come from outside the period whatever their distance
        (a gradient step reading its forward step)."""
        if period not in self._within:
            table = self.table.copy()
            distances = table[:, 1:]
            distances[distances > period] = -1
            self._within[period] = _row_ids(table)
        return self._within[period]


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
    index = {op: i for i, op in enumerate(order)}
    signature_ids, signatures = _signature_ids(order)
    producers = _producers(plan, order, reads, index)
    last_read = _last_reads(plan, order, reads, final)
    bounds, periods, unit_runs = _cut(_Kinds(signature_ids, producers), segment_ops,
                                      unit_periods, lambda: _crossing(index, last_read))
    numbered = {placed.op: n for n, placed in enumerate(checks)}
    random_index = {op: i for i, op in enumerate(plan.random_ops)}
    segments, keys = [], {}
    for begin, end in bounds:
        ops = order[begin:end]
        inputs, input_index, wiring = [], {}, []
        for op, where in zip(ops, producers[begin:end]):
            wires = []
            for value, position in zip(reads[op], where):
                if position >= begin:
                    wires.append(("op", position - begin, value.value_index))
                elif position == -1:
                    wires.append(_NONE)
                else:
                    k = input_index.get(value)
                    if k is None:
                        k = input_index[value] = len(inputs)
                        inputs.append(value)
                    wires.append(("in", k))
            wiring.append(tuple(wires))
        outputs = [t for op in ops for t in op.outputs if last_read.get(t, -1) >= end]
        segment = Segment(ops=ops, wiring=wiring, inputs=inputs, outputs=outputs,
                          random=[random_index[op] for op in ops if op in random_index]
                          if random_index else [],
                          checks=[(op, numbered[op]) for op in ops if op in numbered]
                          if numbered else [])
        key = (tuple(signature_ids[begin:end]), tuple(wiring),
               tuple((index[t.op] - begin, t.value_index) for t in outputs),
               tuple((index[op] - begin, number) for op, number in segment.checks))
        segment.shape_key = keys.setdefault(key, key)  # equal keys one object: fast ==
        segments.append(segment)
    return SplitPlan(segments=segments, reads=reads, final=final, periods=periods,
                     signatures=signatures, index=index, bounds=bounds, last_read=last_read,
                     unit_runs=unit_runs)


_NONE = ("none",)


def _cut(kinds: _Kinds, segment_ops: int, unit_periods: bool, crossing) -> tuple:
    """(bounds, periods, unit runs): the (begin, end) positions of the segments, the repeat
    period each cut was aligned to, and how many repeated runs were cut into single
    periods. ``crossing()`` gives ``_crossing``'s counts, made only where needed."""
    size_of_order = len(kinds.all)
    bounds, periods, start, unit_runs = [], [], 0, 0
    crossed = None
    while start < size_of_order:
        period = _period_at(kinds.all, start, 2 * segment_ops)
        if unit_periods:
            # A repeat that starts within the next segment is cut from where it starts.
            probe = _period_at(kinds.signatures, start, 2 * segment_ops)
            if probe == 1:
                probe = _period_at(kinds.signatures, start + segment_ops // 2, 2 * segment_ops)
            # Such a period is found from the ops' signatures alone, then checked with
            # their inputs' distances up to the period.
            offset, repeats = _periodic_run(kinds.within(probe), start, probe,
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
            high = min(size_of_order, start + segment_ops * 5 // 4)
            if low <= high:
                crossed = crossing() if crossed is None else crossed
                size = low + int(np.argmin(crossed[low:high + 1])) - start
            else:
                size = segment_ops
        if size_of_order - (start + size) < segment_ops // 2:
            size = size_of_order - start  # no small remainder at the end
        bounds.append((start, start + size))
        periods.append(period)
        start += size
    return bounds, periods, unit_runs


def _last_reads(plan: Plan, order: list, reads: dict, final: dict) -> dict:
    """Tensor -> the position in ``order`` of the last op that reads it (``len(order)``
    for the fetches and the variables' final values, which the run returns)."""
    last = {}
    for i, op in enumerate(order):
        for value in reads[op]:
            last[value] = i
    last.pop(None, None)
    for fetch in plan.fetches:
        if isinstance(fetch, Tensor):
            last[fetch] = len(order)
    for value in final.values():
        last[value] = len(order)
    return last


def _crossing(index: dict, last_read: dict) -> np.ndarray:
    """``crossing[i]``: how many values made before position i of the order are read at
    or after it (the values a cut before op i passes from one segment to the next)."""
    change = np.zeros(len(index) + 2, np.int64)
    for value, used in last_read.items():
        made = index.get(value.op)
        if made is not None:
            change[made + 1] += 1
            change[used + 1] -= 1
    return np.cumsum(change)[:len(index) + 1]
