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
   repeats (an unrolled RNN, a deep stack of identical blocks; found by
   ``compiler.periods``), so repeated structure gives identical segments; where it does
   not repeat, the cut goes where the fewest values cross it. The single periods of a
   loop to roll that read and pass on values alike share one wiring and key. A large
   AddN (the gradient of a value every step reads) is accumulated where its terms are
   made, so no segment reads thousands of values.
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
from typing import Any, Optional

import numpy as np

from graphnn.compiler.periods import Kinds, cut
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
        sources: the values the ops read that no op of the program makes (feeds, read
            variables, constants), in the order first read.
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
    sources: list
    unit_runs: int = 0
    _structures: dict = dataclasses.field(default_factory=dict, init=False, repr=False)

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
        for tensor in op.inputs:
            if at.get(tensor.op, -1) > i:
                return False
        for control in op.control_inputs:
            if at.get(control, -1) > i:
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
    sums = [op for op in order if op.type == ADD_N_OP and len(reads[op]) > SUM_FAN_IN
            and sum(t.op in where for t in reads[op]) > SUM_FAN_IN]
    if not sums:
        return order
    terms: dict = {}
    for total in sums:
        for tensor in reads[total]:
            if tensor.op in where:
                terms.setdefault(tensor.op, []).append((total, tensor))
    partial: dict = {total: [] for total in sums}  # the sum so far (if any), then new terms
    accumulated, done = [], 0
    for position in sorted(where[op] for op in terms):  # the ops in between stay as they are
        accumulated += order[done:position + 1]
        done = position + 1
        for total, tensor in terms[order[position]]:
            pending = partial[total]
            pending.append(tensor)
            if len(pending) > SUM_GROUP:
                added = _partial_sum(total, pending)
                reads[added] = list(pending)
                accumulated.append(added)
                partial[total] = [added.outputs[0]]
    accumulated += order[done:]
    for total in sums:  # every term is made before its sum
        reads[total] = partial[total] + [t for t in reads[total] if t.op not in where]
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


class _Wires:
    """Where each value the ops of an order read comes from, one number per value read
    (``codes``, op after op): -1 for none (no value, or a variable the run does not
    read), ``-2 - k`` for the k-th source value (a feed, a read variable, a constant),
    ``position * width + output index`` for a value made by the op at that position; and
    per value, the position of the last op that reads it (``last_read``; the number of
    ops for the fetches and the variables' final values, which the run returns)."""

    def __init__(self, plan: Plan, order: list, reads: dict, index: dict, final: dict) -> None:
        fed, read_variables = set(plan.feeds), set(plan.reads)
        self.width = width = 1 + max((len(op.outputs) for op in order), default=0)
        sources: dict = {}
        last_read: dict = {}
        codes, counts = [], []
        for i, op in enumerate(order):
            values = reads[op]
            counts.append(len(values))
            for value in values:
                last_read[value] = i
                if value is None:
                    codes.append(-1)
                    continue
                position = index.get(value.op)
                if position is not None:
                    codes.append(position * width + value.value_index)
                elif value.op.type == VARIABLE_OP and value not in fed \
                        and value.op not in read_variables:
                    codes.append(-1)
                else:
                    codes.append(-2 - sources.setdefault(value, len(sources)))
        self.sources = list(sources)
        last_read.pop(None, None)
        for value in [t for t in plan.fetches if isinstance(t, Tensor)] + list(final.values()):
            last_read[value] = len(order)
        self.last_read = last_read
        self.codes = codes
        self.counts = np.array(counts, np.int64)
        self.array = np.array(codes, np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)]).tolist()

    def producers(self) -> np.ndarray:
        """Per value read, the position of the op that makes it (negative for none and
        sources)."""
        return np.where(self.array >= 0, self.array // self.width, -1)


class _Builder:
    """Builds the Segments of a cut: one at a time, or a run of single periods at once."""

    def __init__(self, plan: Plan, order: list, reads: dict, wires: _Wires,
                 signature_ids: list, last_read: dict, index: dict, checks: list) -> None:
        self.order, self.reads, self.wires = order, reads, wires
        self.signature_ids, self.last_read, self.index = signature_ids, last_read, index
        self.numbered = {placed.op: n for n, placed in enumerate(checks)}
        self.random_index = {op: i for i, op in enumerate(plan.random_ops)}
        self.keys: dict = {}  # equal shape keys as one object (find_loops compares them)
        self.outputs_last = np.array([last_read.get(t, -1) for op in order
                                      for t in op.outputs], np.int64)
        counts = np.fromiter((len(op.outputs) for op in order), np.int64, len(order))
        self.output_starts = np.concatenate([[0], np.cumsum(counts)]).tolist()

    def segment(self, begin: int, end: int) -> Segment:
        """The segment of the ops at positions ``begin`` to ``end``."""
        ops = self.order[begin:end]
        codes, width, low = self.wires.codes, self.wires.width, begin * self.wires.width
        at = self.wires.starts[begin]
        inputs, input_index, wiring = [], {}, []
        for op in ops:
            wires = []
            for value in self.reads[op]:
                code = codes[at]
                at += 1
                if code >= low:
                    wires.append(("op", code // width - begin, value.value_index))
                elif code == -1:
                    wires.append(_NONE)
                else:
                    k = input_index.get(value)
                    if k is None:
                        k = input_index[value] = len(inputs)
                        inputs.append(value)
                    wires.append(("in", k))
            wiring.append(tuple(wires))
        last_read, index, numbered = self.last_read, self.index, self.numbered
        outputs = [t for op in ops for t in op.outputs if last_read.get(t, -1) >= end]
        segment = Segment(ops=ops, wiring=wiring, inputs=inputs, outputs=outputs,
                          random=self._random(ops),
                          checks=[(op, numbered[op]) for op in ops if op in numbered]
                          if numbered else [])
        key = (tuple(self.signature_ids[begin:end]), tuple(wiring),
               tuple((index[t.op] - begin, t.value_index) for t in outputs),
               tuple((index[op] - begin, number) for op, number in segment.checks))
        segment.shape_key = self.keys.setdefault(key, key)
        return segment

    def _random(self, ops: list) -> list:
        random_index = self.random_index
        return [random_index[op] for op in ops if op in random_index] if random_index else []

    def run(self, begin: int, repeats: int, period: int) -> list:
        """The segments of ``repeats`` single periods from position ``begin``. Where every
        period reads alike (from the same relative positions, and outside values in the
        same pattern) and passes on the same outputs, the first one's wiring and key
        serve them all, and only their values are gathered."""
        first = self.segment(begin, begin + period)
        rest = range(begin + period, begin + repeats * period, period)
        starts = np.arange(begin, begin + repeats * period, period)
        shared = self._shared_reads(starts, period) if not self.numbered else None
        outputs = self._shared_outputs(starts, period) if shared is not None else None
        if outputs is None:
            return [first] + [self.segment(b, b + period) for b in rest]
        order, reads = self.order, self.reads
        segments = [first]
        for b in rest:
            ops = order[b:b + period]
            segment = Segment(ops=ops, wiring=first.wiring,
                              inputs=[reads[ops[o]][s] for o, s in shared],
                              outputs=[ops[o].outputs[k] for o, k in outputs],
                              random=self._random(ops), checks=[])
            segment.shape_key = first.shape_key
            segments.append(segment)
        return segments

    def _shared_reads(self, starts: np.ndarray, period: int) -> Optional[list]:
        """When the periods from ``starts`` read alike, the (op, argument) at which each of
        their inputs is first read; else None."""
        wires = self.wires
        low, high = wires.starts[starts[0]], wires.starts[starts[-1] + period]
        per = wires.starts[starts[0] + period] - low
        if high - low != per * len(starts):
            return None
        rows = wires.array[low:high].reshape(len(starts), per)
        offsets = (starts * wires.width)[:, None]
        relative = np.where(rows >= offsets, rows - offsets, np.where(rows == -1, -1, -2))
        if not (relative == relative[0]).all():
            return None
        columns = np.flatnonzero(relative[0] == -2)
        outside = rows[:, columns]
        same = outside[:, :, None] == outside[:, None, :]
        if not (same == same[0]).all():
            return None
        firsts = sorted(columns[np.unique(outside[0], return_index=True)[1]].tolist())
        arguments = [(o, s) for o, op in enumerate(self.order[starts[0]:starts[0] + period])
                     for s in range(len(self.reads[op]))]
        return [arguments[c] for c in firsts]

    def _shared_outputs(self, starts: np.ndarray, period: int) -> Optional[list]:
        """When the periods from ``starts`` pass on the same outputs, their (op, output
        index) positions; else None."""
        low = self.output_starts[starts[0]]
        high = self.output_starts[starts[-1] + period]
        per = self.output_starts[starts[0] + period] - low
        if high - low != per * len(starts):
            return None
        needed = self.outputs_last[low:high].reshape(len(starts), per) \
            >= (starts + period)[:, None]
        if not (needed == needed[0]).all():
            return None
        positions = [(o, k) for o, op in enumerate(self.order[starts[0]:starts[0] + period])
                     for k in range(len(op.outputs))]
        return [positions[c] for c in np.flatnonzero(needed[0]).tolist()]


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
    wires = _Wires(plan, order, reads, index, final)
    last_read = wires.last_read
    bounds, periods, runs = cut(Kinds(signature_ids, wires.counts, wires.producers()),
                                segment_ops, unit_periods, lambda: _crossing(index, last_read))
    build = _Builder(plan, order, reads, wires, signature_ids, last_read, index, checks)
    segments: list = []
    runs_at = dict(runs)
    while len(segments) < len(bounds):
        begin, end = bounds[len(segments)]
        repeats = runs_at.get(len(segments))
        segments += build.run(begin, repeats, end - begin) if repeats else \
            [build.segment(begin, end)]
    return SplitPlan(segments=segments, reads=reads, final=final, periods=periods,
                     signatures=signatures, index=index, bounds=bounds, last_read=last_read,
                     sources=wires.sources, unit_runs=len(runs))


_NONE = ("none",)


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
