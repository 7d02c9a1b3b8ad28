"""SplitExecutable: a large program run as a sequence of separately compiled segments.

The cut is planned by ``compiler.segments``; this module compiles the segments (once per
distinct structure), or the whole program rolled into loops (``compiler.rolled``) when
its segments repeat, and ``compiler.split_runs`` runs them, passing device arrays from
one to the next (one dispatch per segment). A split program keeps every promise of a whole one
(``compiler.lowering.Executable``), with the same interface:

- same results: each segment is traced by the same interpreter over the same ops; values
  known at compile time are embedded where they are read, random ops get the keys a whole
  program derives (graph and op seed, run counter) and the XLA options are chosen per
  segment (``compiler.xla_options``);
- all-or-nothing updates: the variables' new values are stored only after the last
  segment is dispatched, and in a program with value checks only once its status (threaded
  through the segments) says that every check passed. A variable's buffer is donated only
  to the segment that reads it last and writes its final value, and only when no program
  check comes at or after that segment, so a failed check always finds the old value (an
  assign selects it by the status so far, as in a whole program);
- ``run_loop``: the steps are run one after another on the host, each dispatching every
  segment (with checks, the variables are copied first, so a failure at any step restores
  them); the session's lock makes each run atomic for other threads;
- strategies: with a ``placement`` (``compiler.placement``, one process's devices), each
  segment is jitted with the shardings a whole program gives the same values (feeds as
  the placement splits them, one step's slice in ``run_loop``; variables, large
  constants, random keys and the status as stored or replicated; a variable's final value
  as stored, fetched values replicated) and takes each value an earlier segment made with
  the sharding XLA's partitioner gave it there (``output_shardings``). That is known only
  once the earlier segment is compiled, so under a placement the segments compile in run
  order, not side by side; the shardings are part of a segment's structure, so identical
  segments still compile once. Each segment all-reduces the partial gradients it computes
  (a value crossing a cut has no "pending sum" layout), and on CPU devices each segment's
  run is waited for (see ``compiler.placement``). A program rolled into loops
  (``compiler.rolled``) is one program partitioned as a whole one is.
"""
from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import os
import time
from typing import Any, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from graphnn.compiler.checks import RunChecks
from graphnn.compiler.cost import ProgramCost, program_cost
from graphnn.compiler.lowering import (LARGE_CONSTANT, Executable, program_context,
                                       uninitialized_error)
from graphnn.compiler.memory import check_fits
from graphnn.compiler.placement import collectives
from graphnn.compiler.plan import Plan
from graphnn.compiler.rolled import lower_rolled
from graphnn.compiler.segments import (SEGMENT_OPS, SplitPlan, computing_ops, freeze,
                                       split_plan)
from graphnn.compiler.split_runs import SplitRuns, stacking_call
from graphnn.compiler.segment_programs import (CompiledSegment, SplitSummary, run_segment,
                                               summarize_choices, xla_compile)
from graphnn.compiler.xla_options import XlaChoice, choose
from graphnn.framework.tensor import Tensor
from graphnn.ops.state import CONST_OP, VARIABLE_OP


# Feeds read by more segments than this are put on the device once per run.
SHARED_FEED_READERS = 2


class _Slots:
    """Where each runtime value of a run lives: feeds, variables, large constants, and
    the outputs of the segments."""

    def __init__(self) -> None:
        self.index: dict = {}

    def of(self, tensor: Tensor) -> int:
        if tensor not in self.index:
            self.index[tensor] = len(self.index)
        return self.index[tensor]


class SplitExecutable(SplitRuns):
    """A Plan compiled in segments; the interface of ``lowering.Executable``.

    Args (beyond ``Executable``'s):
        placement: a ``compiler.placement.MeshPlacement`` over one process's devices, with
            ``feed_shardings`` for the fed values: each segment is then partitioned over
            its mesh (see the module doc).
        segment_ops: the target number of ops per segment.
        split_above: the session's threshold (for ``compile_report``); a program rolled into
            loops is compiled as one program when it then traces at most this many ops.
        roll_loops: whether runs of identical segments may be rolled into loops.
        cache: compiled segments by structure, shared by the programs of one session.

    Attributes:
        split: how the program was cut and compiled (``SplitSummary``; once compiled).
    """

    split: SplitSummary

    def __init__(self, plan: Plan, seeds: dict, device: Any = None,
                 state_keys: Optional[dict] = None, steps: Optional[int] = None,
                 check_indices: bool = True, xla_options: str = "auto", placement: Any = None,
                 feed_shardings: Sequence = (), segment_ops: int = SEGMENT_OPS,
                 split_above: int = 0,
                 cache: Optional[dict] = None, roll_loops: bool = True):
        self.plan = plan
        self.steps = steps
        self.trace_count = 0
        self.trace_seconds: Optional[float] = None
        self.xla_compile_seconds: Optional[float] = None
        self.xla_choice: Optional[XlaChoice] = None
        self.ready = False
        self._xla_mode = xla_options
        self._device = device
        self._placement = placement
        self._waits = placement is not None and placement.waits
        # run_loop feeds one step's slice to the segments
        self._feed_shardings = [s if steps is None else placement.step_sharding(s)
                                for s in feed_shardings]
        self._seeds = seeds
        self._cache = cache if cache is not None else {}
        keys = state_keys or {}
        self._keys = keys
        self._checks = RunChecks(plan, keys, check_indices)
        self._checked = bool(self._checks.program)
        self._status_dtype = np.int64 if plan.needs_x64 else np.int32
        self._segment_ops, self._split_above = segment_ops, split_above
        self._not_rolled = "turned off (roll_loops=False)" if not roll_loops else \
            "it has value checks" if self._checked else ""
        self._plan_seconds = 0.0
        # A program that may roll is cut into single loop iterations; if it does not roll
        # after all, it is cut again into segments of about segment_ops ops.
        self._plan_cut(unit_periods=not self._not_rolled)
        self.random_keys = [keys.get(op, op) for op in plan.random_ops]
        self.stateless = not (plan.reads or plan.writes or plan.random_ops)
        self._needs_context = plan.needs_x64 or device is not None
        self._compiled_segments: Optional[list] = None
        self._stacked_shardings: list = []  # a rolled program's stacked feeds
        self._static: dict = {}

    def _plan_cut(self, unit_periods: bool) -> None:
        start = time.perf_counter()
        self._split: SplitPlan = split_plan(self.plan, self._keys, self._segment_ops,
                                            self._checks.program, unit_periods=unit_periods)
        self._plan_seconds += time.perf_counter() - start
        self._lay_out()

    # ----- layout ---------------------------------------------------------------------
    def _lay_out(self) -> None:
        """Slots for the values a run takes (feeds, variables, large constants), and what it
        writes and fetches; the segments' own layout waits for them to be compiled
        (``_lay_out_segments``), which a program rolled into loops never is."""
        plan, split = self.plan, self._split
        fed = {t: i for i, t in enumerate(plan.feeds)}
        self._slots = slots = _Slots()
        self._feed_slots, self._var_slots, self._constant_slots = [], [], []
        # The sources: what segments read that none makes, and fetched values no segment
        # makes.
        sources = split.sources + [t for t in plan.fetches if isinstance(t, Tensor) and (
            t in fed or t.op.type in (VARIABLE_OP, CONST_OP))]
        read_variables = set(plan.reads)
        for value in sources:
            slot = slots.of(value)
            if value in fed:
                self._feed_slots.append((slot, fed[value]))
            elif value.op.type == VARIABLE_OP:
                if value.op in read_variables:
                    self._var_slots.append((slot, value.op))
            elif value.op.type == CONST_OP:
                self._constant_slots.append((slot, value.op.attrs["value"]))
        self._feed_slots = sorted(set(self._feed_slots))
        self._var_slots = sorted(set(self._var_slots), key=lambda pair: pair[0])
        self._constant_slots = list({slot: v for slot, v in self._constant_slots}.items())
        self._shared_feeds: list = []
        self._donated_keys: set = set()
        self._written = [(self._keys.get(v, v), value) for v, value in split.final.items()]
        self._fetches = list(plan.fetches)
        # Fetched values that are also stored (a variable's value, an assign's result) are
        # copied: a later run may donate the stored buffer while the caller converts it.
        final = set(split.final.values())
        self._copied = {t for t in self._fetches if isinstance(t, Tensor)
                        and (t.op.type == VARIABLE_OP or t in final)}

    def _lay_out_segments(self) -> None:
        """Per segment: slots for its results, which variables it may donate, the feeds put
        on the device ahead of it, and the slots no later segment reads."""
        plan, split, slots = self.plan, self._split, self._slots
        fed = set(plan.feeds)
        read_only = set(plan.reads) - set(plan.writes)
        last_check = max((n for n, s in enumerate(split.segments) if s.checks), default=-1)
        last_read, final_in = {}, {}
        for number, segment in enumerate(split.segments):
            for value in segment.inputs:
                last_read[value] = number
            for tensor in segment.outputs:
                final_in[tensor] = number
                slots.of(tensor)
        fetched = set(plan.fetches)
        self._donated_vars: dict = {}  # a variable's value at the start -> where donated
        for variable, value in split.final.items():
            start = variable.outputs[0]
            where = final_in.get(value)
            if (variable in plan.reads and variable not in read_only and where is not None
                    and last_read.get(start) == where and where > last_check
                    and start not in fetched):
                self._donated_vars[start] = where
        self._donated_keys = {self._keys.get(t.op, t.op) for t in self._donated_vars}
        # A feed that many segments read is copied to the device once per run; one that one
        # or two read (an unrolled loop's input of one step, read by the step and its
        # gradient) goes with their dispatches, which is cheaper than a device_put.
        uses = collections.Counter(v for s in split.segments for v in s.inputs if v in fed)
        self._shared_feeds = [(slot, i) for slot, i in self._feed_slots
                              if uses[plan.feeds[i]] > SHARED_FEED_READERS]
        # Values no later segment reads are dropped as soon as their reader ran.
        self._free_after = [[] for _ in split.segments]
        kept = {slots.index[t] for t in self._results() if t in slots.index}
        for value, number in last_read.items():
            slot = slots.index[value]
            if slot not in kept and value.op.type not in (VARIABLE_OP, CONST_OP) \
                    and value not in fed:
                self._free_after[number].append(slot)

    def _results(self) -> list:
        values = [f for f in self.plan.fetches if isinstance(f, Tensor)]
        return values + list(self._split.final.values())

    # ----- compiling ------------------------------------------------------------------
    def _context(self) -> contextlib.ExitStack:
        return program_context(self.plan.needs_x64, self._device)

    def check_initialized(self, store: dict) -> None:
        for var in {self._keys.get(v, v) for v in self.plan.reads}:
            if var not in store:
                raise uninitialized_error(var)

    def _source_specs(self, feed_values: Sequence, store: dict) -> dict:
        """Slot -> shape-and-dtype of the feeds, variables and large constants (and, under
        a placement, the sharding the placement gives them)."""
        placement, specs = self._placement, {}
        for slot, i in self._feed_slots:
            value = feed_values[i]
            shape = value.shape[1:] if self.steps is not None else value.shape
            sharding = self._feed_shardings[i] if placement is not None else None
            specs[slot] = jax.ShapeDtypeStruct(shape, value.dtype, sharding=sharding)
        for slot, variable in self._var_slots:
            key = self._keys.get(variable, variable)
            sharding = placement.variable(variable) if placement is not None else None
            if key in store:
                specs[slot] = jax.ShapeDtypeStruct(np.shape(store[key]), store[key].dtype,
                                                   sharding=sharding)
            else:
                specs[slot] = jax.ShapeDtypeStruct(tuple(variable.attrs["shape"].as_list()),
                                                   variable.attrs["dtype"].as_numpy_dtype,
                                                   sharding=sharding)
        for slot, value in self._constant_slots:
            specs[slot] = jax.ShapeDtypeStruct(
                value.shape, value.dtype,
                sharding=placement.replicated if placement is not None else None)
        return specs

    def compile(self, feed_values: list, store: dict, counters: Optional[np.ndarray]) -> None:
        """Compiles every segment (each distinct structure once), without running."""
        if self._compiled_segments is not None:
            return
        static = {op.outputs[0]: op.attrs["value"] for op in self.plan.ops
                  if op.type == CONST_OP and op.attrs["value"].size <= LARGE_CONSTANT}
        with self._context():
            if not self._not_rolled:
                self._not_rolled = self._compile_rolled(self._source_specs(feed_values, store),
                                                        dict(static))
                if not self._not_rolled:
                    return
                if self._split.unit_runs:  # else the cut is the one for segments already
                    self._plan_cut(unit_periods=False)
            self._compile_all(self._source_specs(feed_values, store), static)

    def _compile_all(self, specs: dict, static: dict) -> None:
        self._lay_out_segments()
        slots, fed = self._slots.index, set(self.plan.feeds)
        compiled, traced, trace_seconds, hits = [], {}, 0.0, 0
        result_shardings = self._result_shardings()
        partitioned_seconds = 0.0
        for number, segment in enumerate(self._split.segments):
            described, runtime = [], []
            for value in segment.inputs:
                if value in static and value not in fed:
                    described.append(("static", freeze(static[value])))
                else:
                    spec = specs[slots[value]]
                    described.append(("arg", tuple(spec.shape), np.dtype(spec.dtype).str,
                                      spec.sharding))
                    runtime.append(value)
            donated = tuple(i for i, v in enumerate(runtime)
                            if self._donated_vars.get(v, -1) == number)
            out_shardings = tuple(result_shardings.get(t) for t in segment.outputs)
            # A segment with checks records their shapes while traced: never shared.
            key = (self._split.structure(segment), tuple(described), donated, out_shardings,
                   self._checked, self.plan.needs_x64, self._device,
                   id(self) if segment.checks else None)
            entry = self._cache.get(key) or traced.get(key)
            if entry is None:
                entry = traced[key] = self._compile_segment(segment, described, runtime,
                                                            static, specs, donated,
                                                            out_shardings)
                trace_seconds += entry.trace_seconds
                if self._placement is not None:
                    # The next segments take this one's results as XLA's partitioner laid
                    # them out, which only compiling tells: segments compile in run order.
                    start = time.perf_counter()
                    xla_compile(entry)
                    partitioned_seconds += time.perf_counter() - start
            else:
                hits += 1
            entry.uses += 1
            compiled.append((entry, [slots[v] for v in runtime]))
            for position, tensor in enumerate(segment.outputs):
                if position in entry.static_outputs:
                    static[tensor] = entry.static_outputs[position]
                aval = entry.out_avals[position]
                specs[slots[tensor]] = aval if entry.out_shardings is None else \
                    jax.ShapeDtypeStruct(aval.shape, aval.dtype,
                                         sharding=entry.out_shardings[position])
        # XLA compiles the distinct segments side by side (it releases the GIL); only
        # tracing, which gives each segment the shapes of the next one's inputs, is serial.
        start = time.perf_counter()
        pending = [entry for entry in traced.values() if entry.call is None]
        if len(pending) > 1:
            with concurrent.futures.ThreadPoolExecutor(min(len(pending), os.cpu_count() or 1)) \
                    as pool:
                list(pool.map(self._xla_compile_in_context, pending))
        else:
            for entry in pending:
                xla_compile(entry)
        self._cache.update(traced)
        self._static = {t: static[t] for t in self._results() if t in static}
        self._compiled_segments = compiled
        self.trace_seconds = trace_seconds
        self.xla_compile_seconds = time.perf_counter() - start + partitioned_seconds
        self.xla_choice = summarize_choices([entry.xla_choice for entry in traced.values()])
        sizes = [len(s.ops) for s in self._split.segments]
        self.split = SplitSummary(ops=sum(sizes), split_above=self._split_above,
                                  segment_ops=self._segment_ops, sizes=sizes,
                                  periods=list(self._split.periods),
                                  distinct=len({id(e) for e, _ in compiled}), cache_hits=hits,
                                  plan_seconds=self._plan_seconds, not_rolled=self._not_rolled,
                                  **self._partitioned([entry for entry, _ in compiled]))
        # What a run walks: per segment, its program, argument and result slots, random
        # keys, and the slots no later segment reads.
        self._program = [(entry.call, inputs, [slots[t] for t in segment.outputs], random, free)
                         for (entry, inputs), segment, random, free in zip(
                             compiled, self._split.segments, self._random_arguments(),
                             self._free_after)]

    def _compile_rolled(self, specs: dict, static: dict) -> str:
        """Compiles the program as one program of loops (``compiler.rolled``) when it has
        runs of identical segments and is then small enough; otherwise says why not."""
        slots, fed = self._slots, set(self.plan.feeds)
        static = {t: v for t, v in static.items() if t not in fed}
        tensor_at = {slot: tensor for tensor, slot in slots.index.items()}
        sources = sorted(s for s in {s for s, _ in self._feed_slots}
                         | {s for s, _ in self._var_slots} | {s for s, _ in self._constant_slots}
                         if tensor_at[s] not in static)
        arguments = [tensor_at[s] for s in sources]
        results = list(dict.fromkeys(self._results()))
        fetched = set(self.plan.fetches)
        donated = {v.outputs[0] for v in self._split.final
                   if v in self.plan.reads and v.outputs[0] not in fetched}
        platform = self._device.platform if self._device is not None else jax.default_backend()
        out_shardings = None if self._placement is None else \
            tuple(map(self._result_shardings().get, results))
        rolled, why = lower_rolled(self._split, arguments, [specs[s] for s in sources], static,
                                   results, donated, fed, self._split_above,
                                   lambda jaxpr: choose(self._xla_mode, platform, jaxpr,
                                                        loops=True),
                                   len(self.plan.random_ops), self._placement, out_shardings)
        if rolled is None:
            return why
        self.trace_count += 1
        entry = CompiledSegment(call=None, compiled=rolled.lowered, out_avals=[],
                                static_outputs={}, xla_choice=rolled.xla_choice,
                                trace_seconds=rolled.trace_seconds, uses=1)
        start = time.perf_counter()
        xla_compile(entry)
        self.xla_compile_seconds = time.perf_counter() - start
        self.trace_seconds, self.xla_choice = rolled.trace_seconds, entry.xla_choice
        self._static = {}
        inputs = [slots.index[t] for t in rolled.arguments]
        self._compiled_segments = [(entry, list(inputs))]
        # Each stacked feed is taken as its stack is, less the stacking axis.
        stacked = entry.compiled.input_shardings[0][len(inputs):]
        self._stacked_shardings = [
            ([slots.index[t] for t in stack], sharding if self._placement is None
             else self._placement.step_sharding(sharding))
            for stack, sharding in zip(rolled.stacks, stacked)]
        inputs += [slots.index[t] for stack in rolled.stacks for t in stack]
        call = stacking_call(entry.call, len(rolled.arguments), [len(s) for s in rolled.stacks])
        random = None
        if self.plan.random_ops:  # every random op's base key; counters come per run
            base = self._base_keys(range(len(self.plan.random_ops)))
            random = (base, np.arange(len(self.plan.random_ops)))
        self._program = [(call, inputs, [slots.of(t) for t in results], random, [])]
        self._shared_feeds = []  # one program reads each feed once: no copy ahead of it
        sizes = [len(s.ops) for s in self._split.segments]
        self.split = SplitSummary(ops=sum(sizes), split_above=self._split_above,
                                  segment_ops=self._segment_ops, sizes=sizes,
                                  periods=list(self._split.periods), distinct=1, cache_hits=0,
                                  plan_seconds=self._plan_seconds,
                                  loops=[(loop.first, loop.count) for loop in rolled.loops],
                                  **self._partitioned([entry]))
        return ""

    def _partitioned(self, entries: list) -> dict:
        """``SplitSummary``'s devices and per-program collectives."""
        if self._placement is None:
            return {}
        return {"devices": len(self._placement.devices),
                "collectives": [collectives(entry.compiled) for entry in entries]}

    def _result_shardings(self) -> dict:
        """Under a placement, the shardings of the segments' results that are not left to
        XLA: a variable's final value as the placement stores it, fetched values
        replicated (as a whole program returns them)."""
        placement = self._placement
        if placement is None:
            return {}
        shardings = {t: placement.replicated for t in self._fetches if isinstance(t, Tensor)}
        shardings.update((value, placement.variable(variable))
                         for variable, value in self._split.final.items())
        return shardings

    def _compile_segment(self, segment, described: list, runtime: list, static: dict,
                         specs: dict, donated: tuple, out_shardings: tuple) -> CompiledSegment:
        static_inputs = {i: static[v] for i, v in enumerate(segment.inputs)
                         if described[i][0] == "static"}
        arg_position = {v: i for i, v in enumerate(runtime)}
        positions = [arg_position.get(v) for v in segment.inputs]
        n_args, n_random = len(runtime), len(segment.random)
        checked, status_dtype = self._checked, self._status_dtype
        checks = [(op, number, self._checks.program[number]) for op, number in segment.checks]
        placed = {op: (number, check) for op, number, check in checks}
        static_outputs: dict = {}

        def body(*args):
            self.trace_count += 1
            inputs = [static_inputs[i] if p is None else args[p]
                      for i, p in enumerate(positions)]
            keys = None
            if n_random:
                keys = [jax.random.fold_in(args[n_args][j], args[n_args + 1][j])
                        for j in range(n_random)]
            results, status = run_segment(segment, inputs, keys, placed,
                                          args[-1] if checked else None, status_dtype)
            for position, value in enumerate(results):
                if isinstance(value, np.ndarray):
                    static_outputs[position] = value
            return tuple(results) + ((status,) if checked else ())

        # Under a placement, each argument comes as its spec says and the keys and status
        # replicated; results not in out_shardings are laid out by XLA's partitioner.
        replicated = self._placement.replicated if self._placement is not None else None
        arg_specs = [specs[self._slots.index[v]] for v in runtime]
        if n_random:
            arg_specs += [jax.ShapeDtypeStruct((n_random, 2), np.uint32, sharding=replicated),
                          jax.ShapeDtypeStruct((n_random,), np.uint32, sharding=replicated)]
        if checked:
            arg_specs.append(jax.ShapeDtypeStruct((3,), status_dtype, sharding=replicated))
        shardings = {} if replicated is None else dict(
            in_shardings=tuple(spec.sharding for spec in arg_specs),
            out_shardings=out_shardings + ((replicated,) if checked else ()))
        jitted = jax.jit(body, donate_argnums=donated, **shardings)
        start = time.perf_counter()
        traced = jitted.trace(*arg_specs)
        platform = self._device.platform if self._device is not None else jax.default_backend()
        choice = choose(self._xla_mode, platform, traced.jaxpr)
        lowered = traced.lower()
        out_avals = [jax.ShapeDtypeStruct(a.shape, a.dtype)
                     for a in traced.out_info[:len(segment.outputs)]]
        return CompiledSegment(call=None, compiled=lowered, out_avals=out_avals,
                               static_outputs=static_outputs, xla_choice=choice,
                               trace_seconds=time.perf_counter() - start)

    def _xla_compile_in_context(self, entry: CompiledSegment) -> None:
        with self._context():  # JAX's settings are per thread
            xla_compile(entry)

    def _random_arguments(self) -> list:
        """Per segment: (base keys, positions of its counters), or None without random ops."""
        arguments = []
        for segment in self._split.segments:
            if not segment.random:
                arguments.append(None)
                continue
            arguments.append((self._base_keys(segment.random), np.array(segment.random)))
        return arguments

    def _base_keys(self, positions: Sequence) -> Any:
        """The base PRNG keys (graph and op seed) of the random ops at ``positions``."""
        seeds = [self._seeds[self.plan.random_ops[i]] for i in positions]
        keys = jnp.stack([jax.random.fold_in(jax.random.PRNGKey(graph_seed), op_seed)
                          for graph_seed, op_seed in seeds]).astype(np.uint32)
        if self._placement is not None:  # as the programs take them: on every device
            keys = jax.device_put(keys, self._placement.replicated)
        return keys

    @property
    def compiled(self) -> Any:
        """The first segment's compiled program (``jax.stages.Compiled``)."""
        return self._compiled_segments[0][0].compiled if self._compiled_segments else None

    def argument_shardings(self) -> tuple[list, dict]:
        """The shardings the feeds (in feed order) and the variables ({state key: sharding})
        are taken in, each as the first segment reading it takes it (once compiled)."""
        taken: dict = {}
        for entry, inputs in self._compiled_segments:
            for slot, sharding in zip(inputs, entry.compiled.input_shardings[0]):
                taken.setdefault(slot, sharding)
        for members, sharding in self._stacked_shardings:
            taken.update(dict.fromkeys(members, sharding))
        feed_slot = {i: slot for slot, i in self._feed_slots}
        feeds = [taken.get(feed_slot.get(i)) for i in range(len(self.plan.feeds))]
        variables = {self._keys.get(v, v): taken[slot] for slot, v in self._var_slots
                     if slot in taken}
        return feeds, variables

    def cost(self) -> Optional[ProgramCost]:
        """XLA's estimates summed over the segments a run dispatches."""
        if not self._compiled_segments:
            return None
        costs = [program_cost(entry.compiled) for entry, _ in self._compiled_segments]

        def total(name: str) -> Optional[float]:
            values = [getattr(c, name) for c in costs]
            return None if any(v is None for v in values) else sum(values)

        temp = [c.temp_bytes for c in costs]
        return dataclasses.replace(
            costs[0], **{name: total(name) for name in
                         ("flops", "transcendentals", "bytes_accessed", "argument_bytes",
                          "output_bytes", "alias_bytes", "generated_code_bytes")},
            temp_bytes=None if None in temp else max(temp))

    def prepare(self, feed_values: list, store: dict, counters: Optional[np.ndarray]) -> None:
        """Compiles unless done, and refuses a program whose segments cannot fit."""
        self.compile(feed_values, store, counters)
        transferred = sum(np.asarray(v).nbytes for v in feed_values)
        for entry in {id(e): e for e, _ in self._compiled_segments}.values():
            check_fits(entry.compiled, self.plan, self._device, transferred)
        self.ready = True


def lower_program(plan: Plan, seeds: dict, device: Any = None,
                  state_keys: Optional[dict] = None, steps: Optional[int] = None,
                  check_indices: bool = True, xla_options: str = "auto", placement: Any = None,
                  feed_shardings: Sequence = (), split_above: Optional[int] = None,
                  segment_ops: int = SEGMENT_OPS, cache: Optional[dict] = None,
                  roll_loops: bool = True) -> Any:
    """An ``Executable`` for ``plan``, or a ``SplitExecutable`` when it has more computing
    ops than ``split_above`` (None: never split) and runs in one process (a ``placement``
    over devices of several processes is compiled whole). ``cache`` holds the compiled
    segments shared between the programs of one session."""
    options = dict(device=device, state_keys=state_keys, steps=steps,
                   check_indices=check_indices, xla_options=xla_options, placement=placement,
                   feed_shardings=feed_shardings)
    if split_above is not None and (placement is None or placement.fully_addressable) \
            and len(computing_ops(plan)) > split_above:
        return SplitExecutable(plan, seeds, segment_ops=segment_ops, split_above=split_above,
                               cache=cache, roll_loops=roll_loops, **options)
    return Executable(plan, seeds, **options)
