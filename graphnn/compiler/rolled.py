"""Rolled loops: a split program whose segments repeat, traced as one program of loops.

An unrolled loop (a TF 1 ``static_rnn``, a deep stack of identical blocks, the chain of
issue 20) is cut by ``compiler.segments`` into runs of identical segments. Compiling
each distinct segment once already bounds XLA's work, but a run still dispatches every
segment and XLA never sees the loop. When a run of at least ``ROLL_MIN`` consecutive
segments has one structure and passes values from one to the next in one fixed way, it
is traced here as a single ``lax.scan`` whose body is one segment:

- an input every member reads from the same value (a weight) is closed over;
- an input each member reads from an output of the member before it (the state) is the
  scan's carry, started from what the first member reads;
- any other input (a time step's feed, a forward activation its gradient reads) has a
  value per member, made before the run: the values are stacked (or, when they are one
  earlier loop's stacked outputs in order or in reverse, sliced from them) and scanned;
- an output something after the run reads is stacked (the last member's state comes
  from the final carry).

The segments outside such runs are traced in line, and the whole is compiled as one
program when it is small enough to compile whole (``split_above``); otherwise the split
program keeps its separately compiled segments. A run whose members turn out not to
agree while traced (shapes, values only known at compile time) makes the whole attempt
fall back to the segments, which then report any error in the user's graph.

Rolled programs have the promises of a whole program (``compiler.lowering``): the same
values (each op lowered by the same ``_lower_op``), variables donated and updated all at
once, random ops drawing with the keys a whole program derives (the graph and op seed,
and the run counter), and under a strategy the shardings a whole program gets (arguments
as ``compiler.placement`` places them, a stack of feeds as its members, results as
stored or replicated). Programs with value checks keep their segments.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from graphnn.compiler.segment_programs import run_segment
from graphnn.compiler.segments import Segment, SplitPlan
from graphnn.framework.tensor import Tensor

# The fewest identical consecutive segments rolled into a loop.
ROLL_MIN = 3


@dataclasses.dataclass(eq=False)
class Loop:
    """A run of identical segments traced as one ``lax.scan``.

    Attributes:
        first: the position of its first segment in the split plan.
        count: how many segments (iterations) it has.
        invariant: input positions every member reads from one value.
        carried: input position -> the output position of the member before that feeds it.
        stepped: input positions with a value per member (scanned over).
        stacked: output positions something after the loop reads from some member.
        final: output positions something after the loop reads from the last member only,
            which the carry holds.
    """

    first: int
    count: int
    invariant: list
    carried: dict
    stepped: list
    stacked: list
    final: list

    @property
    def members(self) -> range:
        return range(self.first, self.first + self.count)


def find_loops(split: SplitPlan, results: set) -> list:
    """The runs of ``split``'s segments that roll into loops, in order.

    Args:
        split: the cut program.
        results: values the run returns (fetches, the variables' final values).
    """
    segments = split.segments
    loops, start = [], 0
    while start < len(segments):
        key = segments[start].shape_key  # equal keys of one plan are one object
        end = start + 1
        while end < len(segments) and segments[end].shape_key is key:
            end += 1
        loop = None
        if not segments[start].checks:
            for first in (start, start + 1):  # the first member may start differently
                if end - first >= ROLL_MIN:
                    loop = _as_loop(split, first, end, results)
                    if loop is not None:
                        break
        if loop is not None:
            loops.append(loop)
        start = end
    return loops


def _as_loop(split: SplitPlan, first: int, end: int, results: set) -> Optional[Loop]:
    """``split.segments[first:end]`` as a Loop, or None when they do not pass values one
    way."""
    members = split.segments[first:end]
    begin, after = split.bounds[first][0], split.bounds[end - 1][1]
    invariant, carried, stepped = [], {}, []
    for p in range(len(members[0].inputs)):
        values = [m.inputs[p] for m in members]
        if all(v is values[0] for v in values):
            invariant.append(p)
            continue
        source = _output_position(members[0], values[1])
        if source is not None and all(v is m.outputs[source]
                                      for v, m in zip(values[1:], members)):
            carried[p] = source
        elif all(split.index.get(v.op, -1) < begin for v in values):
            stepped.append(p)
        else:
            return None
    stacked, final = [], []
    last_read = split.last_read
    for q in range(len(members[0].outputs)):
        outside = [n for n, m in enumerate(members) if m.outputs[q] in results
                   or last_read.get(m.outputs[q], -1) >= after]
        if outside == [len(members) - 1] and q in carried.values():
            final.append(q)
        elif outside:
            stacked.append(q)
    return Loop(first=first, count=len(members), invariant=invariant, carried=carried,
                stepped=stepped, stacked=stacked, final=final)


def _output_position(segment: Segment, value: Tensor) -> Optional[int]:
    for q, output in enumerate(segment.outputs):
        if output is value:
            return q
    return None


def rolled_size(split: SplitPlan, loops: list) -> int:
    """The ops a rolled program traces: each loop's body once, other segments whole."""
    inside = {n for loop in loops for n in loop.members}
    size = sum(len(s.ops) for n, s in enumerate(split.segments) if n not in inside)
    return size + sum(len(split.segments[loop.first].ops) for loop in loops)


class _Values:
    """Each value of the program being traced; a loop's outputs stay stacked until read."""

    def __init__(self, known: dict, sequences: dict, random: Optional[tuple]) -> None:
        self.known = known
        self.random = random  # (base keys, counters) of the program's random ops
        self.stacked: dict = {}  # tensor -> (stacked array, index)
        self.sequences = sequences  # tuple of tensors -> their values stacked

    def __getitem__(self, tensor: Tensor) -> Any:
        if tensor not in self.known:
            array, index = self.stacked[tensor]
            self.known[tensor] = array[index]
        return self.known[tensor]

    def sequence(self, tensors: list) -> Any:
        """``tensors``' values stacked: sliced from one loop's outputs where they are its
        consecutive members', in order or in reverse."""
        key = tuple(tensors)
        if key in self.sequences:
            return self.sequences[key]
        if key[::-1] in self.sequences:
            return lax.rev(self.sequences[key[::-1]], (0,))
        where = [self.stacked.get(t) for t in tensors]
        if all(w is not None and w[0] is where[0][0] for w in where):
            array, begin = where[0]
            indices = [w[1] for w in where]
            step = 1 if len(indices) < 2 else indices[1] - indices[0]
            if step in (1, -1) and indices == list(range(begin, begin + step * len(indices),
                                                         step)):
                low = min(indices)
                part = lax.slice_in_dim(array, low, low + len(indices))
                return part if step == 1 else lax.rev(part, (0,))
        return jnp.stack([jnp.asarray(self[t]) for t in tensors])


    def keys(self, positions: list) -> list:
        """The PRNG keys of the random ops at ``positions`` (of ``plan.random_ops``)."""
        base, counters = self.random
        return [jax.random.fold_in(base[i], counters[i]) for i in positions]


def trace_rolled(split: SplitPlan, loops: list, known: dict, sequences: dict,
                 results: list, random: Optional[tuple] = None) -> list:
    """Traces the program: segments in order, each loop as one ``lax.scan``.

    Args:
        split: the cut program.
        loops: its loops (``find_loops``).
        known: the values of its sources (feeds, variables, constants): traced or static.
        sequences: tuples of fed values -> the values stacked (passed so, not one by one).
        results: the values to return.
        random: (base keys, counters) of the plan's random ops, if it has any.
    """
    values = _Values(dict(known), dict(sequences), random)
    starts = {loop.first: loop for loop in loops}
    inside = {n for loop in loops for n in loop.members}
    for n, segment in enumerate(split.segments):
        if n in starts:
            _trace_loop(split.segments, starts[n], values)
        elif n not in inside:
            outputs, _ = run_segment(segment, [values[v] for v in segment.inputs],
                                     values.keys(segment.random) if segment.random else None)
            values.known.update(zip(segment.outputs, outputs))
    return [values[t] for t in results]


def _same_static(value: Any, other: np.ndarray) -> bool:
    """Whether ``value`` is a static value identical to ``other`` (bit for bit: -0.0 and
    0.0 differ, as do NaNs of different payloads)."""
    return isinstance(value, np.ndarray) and value.dtype == other.dtype \
        and value.shape == other.shape and value.tobytes() == other.tobytes()


class _NotStatic(Exception):
    """A carried value known at compile time changed in the loop's body."""


def _trace_loop(segments: list, loop: Loop, values: _Values) -> None:
    members = [segments[n] for n in loop.members]
    body_segment = members[0]
    closed = {p: values[body_segment.inputs[p]] for p in loop.invariant}
    stepped = []
    for p in loop.stepped:  # equal values known at compile time (shapes) stay static
        first = values.known.get(body_segment.inputs[p])
        if isinstance(first, np.ndarray) and all(
                _same_static(values.known.get(m.inputs[p]), first) for m in members):
            closed[p] = first
        else:
            stepped.append(p)
    scanned = tuple(values.sequence([m.inputs[p] for m in members]) for p in stepped)
    if body_segment.random:  # each iteration draws with its own ops' keys
        base, counters = values.random
        positions = np.array([m.random for m in members])
        scanned += (base[positions], counters[positions])
    # A carried value known at compile time (a shape passed along) is first assumed to stay
    # the same, so it stays static in the body; if it does not, it is carried as an array.
    starts = {p: values[body_segment.inputs[p]] for p in loop.carried}
    static_outputs: dict = {}  # made from static values alone: the same in every member
    for assume_static in (True, False):
        fixed = {p: v for p, v in starts.items() if assume_static and isinstance(v, np.ndarray)}
        static_outputs.clear()  # what a failed attempt found static may vary after all
        carried = [(p, q) for p, q in loop.carried.items() if p not in fixed]
        init = tuple(jnp.asarray(starts[p]) for p, _ in carried)

        def body(carry, step):
            inputs = [None] * len(body_segment.inputs)
            inputs_from = list(closed.items()) + list(fixed.items()) \
                + [(p, c) for (p, _), c in zip(carried, carry)] + list(zip(stepped, step))
            for p, value in inputs_from:
                inputs[p] = value
            keys = None
            if body_segment.random:
                base_keys, counts = step[-2:]
                keys = [jax.random.fold_in(base_keys[j], counts[j])
                        for j in range(len(body_segment.random))]
            outputs, _ = run_segment(body_segment, inputs, keys)
            static_outputs.update((q, outputs[q]) for q in loop.stacked
                                  if isinstance(outputs[q], np.ndarray))
            if not all(_same_static(outputs[loop.carried[p]], v) for p, v in fixed.items()):
                raise _NotStatic()
            return (tuple(jnp.asarray(outputs[q]) for _, q in carried),
                    tuple(jnp.asarray(outputs[q]) for q in loop.stacked))

        try:
            carry, stacked = lax.scan(body, init, scanned, length=loop.count)
            break
        except _NotStatic:
            continue
    for q, array in zip(loop.stacked, stacked):
        for i, member in enumerate(members):
            if q in static_outputs:
                values.known[member.outputs[q]] = static_outputs[q]
            else:
                values.stacked[member.outputs[q]] = (array, i)
    final = {q: value for (_, q), value in zip(carried, carry)}
    final.update((loop.carried[p], value) for p, value in fixed.items())
    for q in loop.final:
        values.known[members[-1].outputs[q]] = final[q]


@dataclasses.dataclass(eq=False)
class RolledProgram:
    """A split program traced and lowered as one program of loops (``lower_rolled``).

    Attributes:
        loops: its Loops.
        lowered: the lowered program (``jax.stages.Lowered``), taking ``arguments`` then
            one array per tuple of ``stacks`` and returning ``results``.
        xla_choice: the XLA options chosen for it.
        arguments: the source values it takes one by one, in order.
        stacks: tuples of fed values it takes stacked (a loop's input per iteration: an
            unrolled loop's time steps are stacked by the caller, on the host, since XLA
            compiles a program of a thousand parameters slowly).
        results: the values it returns, in order.
        trace_seconds: time to trace and lower it.
    """

    loops: list
    lowered: Any
    xla_choice: Any
    arguments: list
    stacks: list
    results: list
    trace_seconds: float


def _fed_stacks(split: SplitPlan, loops: list, fed: set, spec_of: dict) -> list:
    """The tuples of fed values (of one shape and dtype) that loops read per iteration."""
    stacks: dict = {}
    for loop in loops:
        members = [split.segments[n] for n in loop.members]
        for p in loop.stepped:
            values = tuple(m.inputs[p] for m in members)
            specs = {(spec_of[v].shape, spec_of[v].dtype) if v in spec_of else None
                     for v in values}
            if all(v in fed for v in values) and len(specs) == 1 and None not in specs \
                    and values[::-1] not in stacks:
                stacks[values] = True
    return list(stacks)


def _read_alone(split: SplitPlan, loops: list, stacks: list, results: list) -> set:
    """The values the program reads other than through ``stacks``."""
    stacked = set(stacks) | {s[::-1] for s in stacks}
    starts = {loop.first: loop for loop in loops}
    inside = {n for loop in loops for n in loop.members}
    read = set(results)
    for n, segment in enumerate(split.segments):
        if n not in inside:
            read.update(segment.inputs)
        elif n in starts:
            loop = starts[n]
            members = [split.segments[m] for m in loop.members]
            read.update(segment.inputs[p] for p in loop.invariant + list(loop.carried))
            for p in loop.stepped:
                values = tuple(m.inputs[p] for m in members)
                if values not in stacked:
                    read.update(values)
    return read


def lower_rolled(split: SplitPlan, arguments: list, specs: list, static: dict, results: list,
                 donated: set, fed: set, size_limit: int, choose_options,
                 random_ops: int = 0, placement: Any = None,
                 out_shardings: Optional[tuple] = None) -> tuple:
    """The program rolled and lowered, or None and why not.

    Args:
        split: the cut program.
        arguments: its source values passed at run time, with their ``specs``
            (``jax.ShapeDtypeStruct``), in order.
        static: values known at compile time (small constants), embedded.
        results: the values to return.
        donated: arguments whose buffers the program may reuse.
        fed: the fed values.
        size_limit: the most ops the rolled program may trace (else it stays split).
        choose_options: traced jaxpr -> ``XlaChoice``.
        random_ops: how many random ops the plan has; with any, the program takes their
            base keys and counters last (as ``(n, 2)`` and ``(n,)`` uint32 arrays).
        placement: under a strategy, the ``compiler.placement.MeshPlacement``: the
            arguments come as their specs' shardings say, stacked feeds as their members
            (one more leading axis), keys and counters replicated, and the results as
            ``out_shardings`` says.
    """
    loops = find_loops(split, set(results))
    if not loops:
        return None, "no run of identical segments to roll"
    size = rolled_size(split, loops)
    if size > size_limit:
        return None, f"rolled it would still trace {size} ops"
    spec_of = dict(zip(arguments, specs))
    stacks = _fed_stacks(split, loops, fed, spec_of)
    read = _read_alone(split, loops, stacks, results)
    kept = [i for i, value in enumerate(arguments) if value not in fed or value in read]
    arguments, specs = [arguments[i] for i in kept], [specs[i] for i in kept]
    specs += [jax.ShapeDtypeStruct((len(s),) + tuple(spec_of[s[0]].shape), spec_of[s[0]].dtype,
                                   sharding=None if placement is None else
                                   placement.stacked_sharding(spec_of[s[0]].sharding))
              for s in stacks]
    if random_ops:
        replicated = None if placement is None else placement.replicated
        specs += [jax.ShapeDtypeStruct((random_ops, 2), np.uint32, sharding=replicated),
                  jax.ShapeDtypeStruct((random_ops,), np.uint32, sharding=replicated)]

    def program(*args):
        known = dict(static)
        known.update(zip(arguments, args))
        sequences = dict(zip(stacks, args[len(arguments):len(arguments) + len(stacks)]))
        random = tuple(args[-2:]) if random_ops else None
        return tuple(trace_rolled(split, loops, known, sequences, results, random))

    jitted = jax.jit(program, donate_argnums=tuple(
        i for i, value in enumerate(arguments) if value in donated),
        **({} if out_shardings is None else {"out_shardings": out_shardings}))
    start = time.perf_counter()
    try:
        traced = jitted.trace(*specs)
        choice = choose_options(traced.jaxpr)
        lowered = traced.lower()
    except Exception as error:  # noqa: BLE001 - the segments report the user's errors
        return None, f"its loops did not trace ({type(error).__name__}: {error})"
    return RolledProgram(loops=loops, lowered=lowered, xla_choice=choice, arguments=arguments,
                         stacks=stacks, results=results,
                         trace_seconds=time.perf_counter() - start), ""
