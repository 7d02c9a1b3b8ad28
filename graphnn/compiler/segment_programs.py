"""The segments of a split program (``compiler.split_executable``): the interpreter that
traces one (``run_segment``, shared with the loops of ``compiler.rolled``), their compiled
programs, and what ``compile_report`` says about them."""
from __future__ import annotations

import collections
import dataclasses
from typing import Any, Optional

import jax
import jax.numpy as jnp

from graphnn.compiler.checks import traced_status
from graphnn.compiler.lowering import _lower_op
from graphnn.compiler.segments import Segment
from graphnn.compiler.xla_options import XlaChoice, fallback
from graphnn.framework.registry import draws_random


def run_segment(segment: Segment, inputs: list, keys: Optional[list] = None,
                placed: Optional[dict] = None, status: Any = None,
                status_dtype: Any = None) -> tuple[list, Any]:
    """Traces ``segment``'s ops over ``inputs``: (its outputs' values, the status).

    Args:
        segment: the segment.
        inputs: the values of its inputs.
        keys: the PRNG keys of its random ops, in order.
        placed: op -> (check number, ``checks.PlacedCheck``) of its program checks, which
            add to ``status`` (``checks.traced_status``); while a check has failed, an
            assign keeps its variable's old value.
    """
    values: list = []
    remaining = iter(keys or ())
    placed = placed or {}
    for op, wires in zip(segment.ops, segment.wiring):
        args = [None if w[0] == "none" else inputs[w[1]] if w[0] == "in"
                else values[w[1]][w[2]] for w in wires]
        key = next(remaining) if draws_random(op) else None
        if op in placed:
            status = traced_status(status, *placed[op], args, status_dtype)
        outputs = _lower_op(op, args, key)
        if op.op_def.assigns and status is not None and args[0] is not None:
            outputs = (jnp.where(status[0] == 0, outputs[0], args[0]), *outputs[1:])
        values.append(outputs)
    local = {op: j for j, op in enumerate(segment.ops)}
    return [values[local[t.op]][t.value_index] for t in segment.outputs], status


@dataclasses.dataclass(eq=False)
class CompiledSegment:
    """One compiled structure, shared by every segment that has it (``compiled`` holds the
    lowered program until XLA has compiled it)."""

    call: Any
    compiled: Any
    out_avals: list
    static_outputs: dict
    xla_choice: XlaChoice
    trace_seconds: float
    uses: int = 0
    out_shardings: Optional[list] = None  # the results' layouts XLA chose (once compiled)


def xla_compile(entry: CompiledSegment) -> None:
    """Compiles a traced segment (``entry.compiled`` holds it lowered) with its options."""
    lowered, compiled = entry.compiled, None
    if entry.xla_choice.options:
        try:
            compiled = lowered.compile(compiler_options=entry.xla_choice.options)
        except jax.errors.JaxRuntimeError as error:
            entry.xla_choice = fallback(entry.xla_choice, error)
    if compiled is None:
        compiled = lowered.compile()
    entry.call = entry.compiled = compiled
    entry.out_shardings = list(compiled.output_shardings)


@dataclasses.dataclass
class SplitSummary:
    """How and why a program was split (``compile_report``).

    Attributes:
        ops: computing ops of the program.
        split_above: the session's threshold the program exceeded.
        segment_ops: the session's target segment size.
        sizes: ops per segment, in run order.
        periods: the repeat period each segment's cut was aligned to (1: none).
        distinct: distinct compiled segments (identical segments compile once).
        cache_hits: segments that reused a program compiled for another segment.
        plan_seconds: time to plan the cut (order, periods, segments).
        loops: (first segment, iterations) of each run of identical segments rolled into
            one ``lax.scan`` (``compiler.rolled``); with loops, the program is compiled as
            one program.
        not_rolled: why the program kept its separately compiled segments.
        devices: how many devices each segment is partitioned over (1: no strategy).
        collectives: per compiled program a run dispatches (each segment in run order, or
            the one rolled program), {HLO collective: count} that XLA's partitioner put in
            it (empty without a strategy).
    """

    ops: int
    split_above: int
    segment_ops: int
    sizes: list
    periods: list
    distinct: int
    cache_hits: int
    plan_seconds: float
    loops: list = dataclasses.field(default_factory=list)
    not_rolled: str = ""
    devices: int = 1
    collectives: list = dataclasses.field(default_factory=list)

    def total_collectives(self) -> dict:
        """{HLO collective: count} over the segments a run dispatches."""
        total: collections.Counter = collections.Counter()
        for counts in self.collectives:
            total.update(counts)
        return dict(total)

    def __str__(self) -> str:
        sizes = collections.Counter(self.sizes)
        described = ", ".join(f"{count} x {size}" for size, count in sorted(sizes.items()))
        repeats = sorted({p for p in self.periods if p > 1})
        text = (f"split into {len(self.sizes)} segments ({described} ops) because the program "
                f"has {self.ops} computing ops, more than split_above={self.split_above}; "
                f"segment_ops={self.segment_ops}; ")
        if self.loops:
            rolled = ", ".join(f"{count} from segment {first}" for first, count in self.loops)
            text += (f"runs of identical segments rolled into {len(self.loops)} loops "
                     f"(lax.scan iterations: {rolled}) and compiled as one program")
        else:
            text += (f"{self.distinct} distinct compiled segments ({self.cache_hits} reused)"
                     + (f"; not rolled into loops: {self.not_rolled}" if self.not_rolled
                        else ""))
        text += (f"; cut planned in {self.plan_seconds * 1e3:.0f} ms"
                 + (f"; cuts aligned to repeat periods {repeats}" if repeats else ""))
        if self.devices > 1 and not self.loops:
            holding = sum(1 for counts in self.collectives if counts)
            counted = ", ".join(f"{name} x{n}"
                                for name, n in sorted(self.total_collectives().items()))
            text += (f"; each segment partitioned over {self.devices} devices, {holding} of "
                     f"them with collectives ({counted or 'none'})")
        elif self.devices > 1:
            counted = ", ".join(f"{name} x{n}"
                                for name, n in sorted(self.total_collectives().items()))
            text += (f"; partitioned over {self.devices} devices, collectives: "
                     f"{counted or 'none'}")
        return text


def summarize_choices(choices: list) -> Optional[XlaChoice]:
    """One XlaChoice standing for the segments' choices."""
    if not choices:
        return None
    names = collections.Counter(c.name for c in choices)
    if len(names) == 1:
        return choices[0]
    first = choices[0]
    described = ", ".join(f"{name} x{count}" for name, count in names.most_common())
    return dataclasses.replace(first, name="per segment", options={},
                               reason=f"segments chose {described}")
