"""Lowering: an interpreter over a Plan's ops that builds one jitted JAX function.

(A plan too large to compile whole is compiled in segments by ``compiler.split_executable``,
which lowers each op with the same ``_lower_op``.)

Each op's JAX lowering comes from its OpDef. Values known at compile time
(constants, shapes of fed tensors, and pure ops over them) stay numpy arrays
and are folded while tracing, so shape arguments like ``gn.shape(x)[0]`` work
with batches of any size. The ops' value checks (``compiler.checks``) that need the
program run in it: a program with such checks also returns a small status array, keeps
the variables' old values when a check fails, and its run waits for that status.

An ``Executable`` is compiled explicitly (lowered, then compiled by XLA, each timed
here) before its first run, so its memory needs are checked before anything runs;
runs then dispatch through ``jax.jit``, whose cache holds that same program. A program
for which ``compiler.xla_options`` chooses XLA options of its own is compiled with them
and runs through that compiled object instead (also a direct dispatch). Ops with
alternative lowerings get the ones that module's ``LoweringChooser`` picks for the
program while it is traced.

A run that computes nothing, only storing values known at compile time (the initializer of
variables made from numpy arrays or constants), needs no XLA program: its traced program has
no operations, so each run puts those values on the device as new buffers (``_StoredValues``),
which costs a millisecond where XLA would take 20-30 ms to compile it.

With a ``placement`` (``compiler.placement``: a device mesh), the program is jitted with
the shardings it gives its arguments and results, and XLA's SPMD partitioner does the
rest; the program's text is the same.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from typing import Any, Callable, Optional, Sequence

import jax
import jax.extend.core
import jax.numpy as jnp
import numpy as np

from graphnn.compiler.checks import RunChecks, initial_status, traced_status
from graphnn.compiler.cost import ProgramCost, program_cost
from graphnn.compiler.memory import check_fits, check_stored_fit
from graphnn.compiler.plan import Plan
from graphnn.compiler.xla_options import LoweringChooser, XlaChoice, choose, fallback
from graphnn.errors import FailedPreconditionError, GraphError, InvalidArgumentError
from graphnn.framework.graph import Operation
from graphnn.framework.registry import choosing_lowerings, lowering
from graphnn.ops.declare import evaluate_static
from graphnn.ops.state import CONST_OP, VARIABLE_OP

# Constants with more elements than this are passed to the program, not embedded in it.
LARGE_CONSTANT = 1 << 16
# TF's default graph seed, used when only an op seed is given.
DEFAULT_GRAPH_SEED = 87654321


def random_base_seed(graph_seed: Optional[int]) -> int:
    """The graph seed, or a fresh random one (so unseeded sessions differ)."""
    return graph_seed if graph_seed is not None else int.from_bytes(os.urandom(4), "little")


def op_seed(op: Operation, graph_seed: Optional[int]) -> tuple[int, int]:
    """(graph-level, op-level) seed of a random op, following TF 1's rules."""
    seed = op.attrs.get("seed")
    if seed is None:
        return (graph_seed, op._id) if graph_seed is not None else (None, op._id)
    return (DEFAULT_GRAPH_SEED if graph_seed is None else graph_seed, seed)


def program_context(needs_x64: bool, device: Any) -> contextlib.ExitStack:
    """JAX settings a program is traced, compiled and run under (they are per thread)."""
    stack = contextlib.ExitStack()
    if needs_x64:
        stack.enter_context(jax.enable_x64(True))
    if device is not None:
        stack.enter_context(jax.default_device(device))
    return stack


def uninitialized_error(var: Operation) -> FailedPreconditionError:
    """TF 1's error for a run that reads a variable no initializer has set."""
    return FailedPreconditionError(
        f"Attempting to use uninitialized value {var.name} (Variable created at "
        f"{var.where}); run its initializer, e.g. "
        f"sess.run(gn.global_variables_initializer())", var)


def _is_static(value: Any) -> bool:
    return isinstance(value, np.ndarray)


def _lower_op(op: Operation, args: list, key: Any) -> tuple:
    opdef = op.op_def
    kwargs = dict(op.attrs)
    if key is not None:
        kwargs["key"] = key
    try:
        if not opdef.stateful and args and all(_is_static(a) for a in args):
            outputs = evaluate_static(op, args)
        else:
            result = lowering(opdef)(*args, **kwargs)
            outputs = result if isinstance(result, tuple) else (result,)
    except (GraphError, ValueError, TypeError, IndexError, ZeroDivisionError) as error:
        raise InvalidArgumentError(f"{op.describe()} cannot run with these inputs "
                                   f"({', '.join(str(np.shape(a)) for a in args)}): {error}",
                                   op) from None
    for tensor, value in zip(op.outputs, outputs):
        if np.dtype(value.dtype) != tensor.dtype.as_numpy_dtype:
            raise AssertionError(f"internal error: the lowering of {op.describe()} produced "
                                 f"{value.dtype}, but its output was declared {tensor.dtype}")
    return outputs


def build_function(plan: Plan, seeds: dict, checks: Sequence = ()):
    """The traced function ``f(feeds, read_write, read_only, counters) -> (written, fetched,
    status)``.

    ``written`` lists the read-write variables first, in their input order, then the
    write-only ones: JAX pairs donated inputs with outputs of the same shape in order,
    so this order lets XLA update every variable in place instead of copying it.
    ``status`` is the first failing of ``checks`` (``checks.traced_status``), None when
    there are no checks. When one fails, every variable the program received keeps its
    old value: each assign selects between the new and the current value by the checks
    made before it, so the selected value is also what later ops read and XLA still
    updates the donated buffers in place; only a check placed after an assign (rare:
    the optimizers assign last) adds a final select over every variable, which costs a
    copy of the variables it keeps alive.
    """
    numbered = {placed.op: (number, placed) for number, placed in enumerate(checks)}
    status_dtype = np.int64 if plan.needs_x64 else np.int32
    read_write = [v for v in plan.reads if v in set(plan.writes)]
    read_only = [v for v in plan.reads if v not in set(plan.writes)]
    written_order = read_write + [v for v in plan.writes if v not in set(read_write)]

    def run(feed_values, read_write_values, read_only_values, counters):
        env = dict(zip(plan.feeds, feed_values))
        start = dict(zip(read_write, read_write_values))
        start.update(zip(read_only, read_only_values))
        current = dict(start)
        status = initial_status(status_dtype) if numbered else None
        assigned = late_check = False
        random_index = {op: i for i, op in enumerate(plan.random_ops)}
        for op in plan.ops:
            if op.outputs and all(t in env for t in op.outputs):
                continue
            if op.type == VARIABLE_OP:
                env[op.outputs[0]] = start.get(op)
                continue
            args = [env[t] for t in op.inputs]
            if op.op_def.assigns:
                args[0] = current.get(op.inputs[0].op)
            for i, tensor in enumerate(op.inputs):
                if tensor.op in plan.fresh_reads.get(op, ()) and not (op.op_def.assigns and i == 0):
                    args[i] = current[tensor.op]
            key = None
            if op in random_index:
                graph_seed, seed = seeds[op]
                key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(graph_seed), seed),
                                         counters[random_index[op]])
            if op in numbered:
                status = traced_status(status, *numbered[op], args, status_dtype)
                late_check = late_check or assigned
            outputs = _lower_op(op, args, key)
            if op.op_def.assigns:
                variable = op.inputs[0].op
                if status is not None and current.get(variable) is not None:
                    outputs = (jnp.where(status[0] == 0, outputs[0], current[variable]),
                               *outputs[1:])
                current[variable] = outputs[0]
                assigned = True
            env.update(zip(op.outputs, outputs))
        fetched = tuple(env[f] if not isinstance(f, Operation) else None for f in plan.fetches)
        written = tuple(current[v] for v in written_order)
        if late_check:
            written = _unless_failed(status, written, tuple(start.get(v) for v in written_order))
        return written, fetched, status

    return run, read_write, read_only, written_order


def _unless_failed(status: Any, new: tuple, old: tuple) -> tuple:
    """``new`` values, or ``old`` ones when a check failed (None: a variable the program did
    not receive, which the caller then does not store)."""
    ok = status[0] == 0
    return tuple(n if o is None else jnp.where(ok, n, o) for n, o in zip(new, old))


def _scan_steps(traced, read_write: list, written_order: list, steps: int,
                status_dtype: Optional[Any]):
    """N runs of ``traced`` in one program: ``lax.scan`` with the written variables as carry.

    With checks (a ``status_dtype``), the carry also holds the loop's status ``[check,
    step, position, value]``, and a failure at any step gives back the variables' values
    from before the loop.
    """
    def loop(feed_sequences, written_values, read_only_values, counters):
        def step(carry, feed_values):
            state, index, status = carry
            current = dict(zip(written_order, state))
            written, fetched, found = traced(feed_values, tuple(current[v] for v in read_write),
                                             read_only_values,
                                             None if counters is None else counters + index)
            if found is not None:
                found = jnp.concatenate([found[:1], index[None].astype(found.dtype), found[1:]])
                status = jnp.where(status[0] == 0, found, status)
            return (written, index + np.uint32(1), status), fetched

        status = None if status_dtype is None else jnp.zeros((4,), status_dtype)
        (final, _, status), stacked = jax.lax.scan(
            step, (written_values, np.uint32(0), status), feed_sequences, length=steps)
        if status is not None:
            final = _unless_failed(status, final, written_values)
        return final, stacked, status
    return loop


class _StoredValues:
    """The run of a program that only stores values known at compile time: each call puts
    them on the device as new buffers (a later run may donate what it stored)."""

    def __init__(self, values: list, device: Any):
        self._values = values
        self._device = device
        self.nbytes = sum(v.nbytes for v in values)

    def cost(self) -> ProgramCost:
        """What a run costs: no operations; its outputs are the values it stores."""
        return ProgramCost(flops=0.0, transcendentals=0.0, bytes_accessed=float(self.nbytes),
                           argument_bytes=0, output_bytes=self.nbytes, alias_bytes=0,
                           temp_bytes=0, generated_code_bytes=0)

    def __call__(self, *args: Any) -> tuple:
        return tuple(jax.device_put(v, self._device, may_alias=False) for v in self._values)


def _known_results(jaxpr: Any, known_arguments: dict) -> Optional[list]:
    """The results of a traced program that has no operations and returns constants only
    (numpy arrays), else None. ``known_arguments``: {argument position: its value} for the
    arguments that are constants (large ones, passed rather than embedded)."""
    if jaxpr.jaxpr.eqns:
        return None
    consts = dict(zip(jaxpr.jaxpr.constvars, jaxpr.consts))
    consts.update((jaxpr.jaxpr.invars[i], value) for i, value in known_arguments.items())
    values = []
    for var in jaxpr.jaxpr.outvars:
        if isinstance(var, jax.extend.core.Literal):
            value = var.val
        elif var in consts:
            value = consts[var]
        else:
            return None  # an argument passed through: its buffer is not the program's own
        value = np.asarray(value, dtype=var.aval.dtype)
        if value.shape != var.aval.shape:
            return None
        values.append(value)
    return values


class _StateSpecs(dict):
    """The variable store, with a shape-and-dtype stand-in for each missing variable."""

    def __missing__(self, variable: Operation) -> jax.ShapeDtypeStruct:
        return jax.ShapeDtypeStruct(tuple(variable.attrs["shape"].as_list()),
                                    variable.attrs["dtype"].as_numpy_dtype)

    def __contains__(self, variable: object) -> bool:
        return True


class Executable:
    """One compiled program for a Plan: variables in, updated variables out (donated).

    ``state_keys`` maps the plan's variable ops to the keys of the session's variable
    store (the user's original ops). With ``steps``, the program runs the plan ``steps``
    times in a ``lax.scan`` (``Session.run_loop``): feeds carry a leading step axis and
    every fetched value comes back stacked. ``check_indices`` places the ops' value checks
    (``compiler.checks``); a failing one raises ``InvalidArgumentError`` from the run and
    leaves every variable as it was. ``xla_options`` is ``"auto"`` (XLA options chosen
    per program by ``compiler.xla_options``) or ``"default"`` (XLA's own). ``placement``
    (a ``compiler.placement.MeshPlacement``, with ``feed_shardings`` for the fed values)
    runs the program over a device mesh instead of on ``device``.

    Attributes:
        ready: compiled, and its memory needs checked (``prepare``): runs may dispatch.
        stateless: reads and writes no variable and draws no random numbers, so its
            runs need no session lock.
        xla_choice: the XLA options the program was compiled with, and why (once compiled).
        split: None: the program is compiled whole (see ``compiler.split_executable``).
    """

    split = None

    def __init__(self, plan: Plan, seeds: dict, device: Any = None,
                 state_keys: Optional[dict] = None, steps: Optional[int] = None,
                 check_indices: bool = True, xla_options: str = "auto", placement: Any = None,
                 feed_shardings: Sequence = ()):
        self.plan = plan
        self.steps = steps
        self.trace_count = 0
        self.trace_seconds: Optional[float] = None
        self.xla_compile_seconds: Optional[float] = None
        self.xla_choice: Optional[XlaChoice] = None
        self._xla_mode = xla_options
        self._lowerings: Optional[LoweringChooser] = None
        self._device = device
        self._call: Optional[Callable] = None
        self._compiled: Any = None
        self.ready = False
        keys = state_keys or {}
        self._checks = RunChecks(plan, keys, check_indices)
        self._checked = bool(self._checks.program)
        # Large constants (initial values of big variables, typically) become arguments:
        # embedded in the program they would be copied through every stage of XLA.
        large = [op.outputs[0] for op in plan.ops
                 if op.type == CONST_OP and op.attrs["value"].size > LARGE_CONSTANT] \
            if steps is None else []
        self._constants = tuple(t.op.attrs["value"] for t in large)
        traced, read_write, read_only, written_order = build_function(
            dataclasses.replace(plan, feeds=list(plan.feeds) + large), seeds, self._checks.program)
        if steps is not None:
            traced = _scan_steps(traced, read_write, written_order, steps,
                                 (np.int64 if plan.needs_x64 else np.int32) if self._checked
                                 else None)
            read_write = written_order  # every written variable is carried between steps
        self._state_in = [keys.get(v, v) for v in read_write]
        self._state_in_set = frozenset(self._state_in)
        self._state_read = [keys.get(v, v) for v in read_only]
        self._state_args = self._state_in + self._state_read
        self._state_out = [keys.get(v, v) for v in written_order]
        self._written = len(self._state_out)
        self._state_shapes = {keys.get(v, v): v for v in plan.writes}
        self._required = [keys.get(v, v) for v in plan.reads]
        self._initialized = False
        self.random_keys = [keys.get(op, op) for op in plan.random_ops]

        self._fetch_is_op = [isinstance(f, Operation) for f in plan.fetches]
        # Fetches that are all ops (a train step) give the same [None, ...] every run; fetches
        # that are all tensors are the results after the written variables.
        self._only_ops = tuple(None for _ in plan.fetches) if all(self._fetch_is_op) else None
        self._tensor_results = None if any(self._fetch_is_op) else \
            slice(len(written_order), len(written_order) + len(plan.fetches))
        self._needs_context = plan.needs_x64 or device is not None
        self._uses_counters = bool(plan.random_ops)
        self._host_checks = self._checks.before_run
        # The arguments are the feeds (and large constants) alone.
        self._feeds_only = not (read_write or read_only) and steps is None \
            and not self._uses_counters
        self.stateless = not (plan.reads or plan.writes or plan.random_ops)
        self._placement = placement
        shardings = {} if placement is None else self._shardings(feed_shardings, len(large))
        self._place_arguments = placement is not None and not placement.fully_addressable
        self._waits = placement is not None and placement.waits
        if self._place_arguments:
            self._constants = tuple(placement.put(c, placement.replicated)
                                    for c in self._constants)
        self._jitted = jax.jit(self._flat_function(traced, len(plan.feeds) + len(large),
                                                   len(read_write), len(read_only)),
                               donate_argnums=tuple(range(len(plan.feeds) + len(large),
                                                          len(plan.feeds) + len(large)
                                                          + len(read_write))), **shardings)

    def _shardings(self, feed_shardings: Sequence, constants: int) -> dict:
        """``jax.jit``'s in and out shardings: feeds as given, constants, counters and
        fetched values replicated, each variable as the placement stores it."""
        placement = self._placement
        replicated = placement.replicated
        inputs = [*feed_shardings, *[replicated] * constants,
                  *map(placement.variable, self._state_args),
                  *([replicated] if self._uses_counters else [])]
        outputs = [*map(placement.variable, self._state_out),
                   *[replicated for is_op in self._fetch_is_op if not is_op],
                   *([replicated] if self._checked else [])]
        self._in_shardings = inputs
        return {"in_shardings": tuple(inputs), "out_shardings": tuple(outputs)}

    def _flat_function(self, traced, n_feeds: int, n_read_write: int, n_read_only: int):
        """``traced`` over flat positional arguments and results: feeds, read-write state,
        read-only state, [counters] -> written state, fetched tensors. Flat calls are the
        cheapest JAX dispatches, and counters are left out when nothing is random. A
        program with checks returns its status last."""
        uses_counters = self._uses_counters

        def flat(*args):
            self.trace_count += 1
            state_end = n_feeds + n_read_write
            with choosing_lowerings(self._lowerings):
                written, fetched, status = traced(args[:n_feeds], args[n_feeds:state_end],
                                                  args[state_end:state_end + n_read_only],
                                                  args[-1] if uses_counters else None)
            checked = () if status is None else (status,)
            return tuple(written) + tuple(f for f in fetched if f is not None) + checked

        return flat

    def argument_shardings(self) -> tuple[list, dict]:
        """The shardings the compiled program takes its arguments in (once compiled): the
        feeds' in feed order, and {variable (state key): its sharding}; none without an
        XLA program."""
        if self._compiled is None:
            return [], {}
        shardings = self._compiled.input_shardings[0]
        feeds = len(self.plan.feeds)
        state = shardings[feeds + len(self._constants):]
        return list(shardings[:feeds]), dict(zip(self._state_args, state))

    @property
    def compiled(self) -> Any:
        """The XLA-compiled program (``jax.stages.Compiled``), None before compiling and for
        a run that needs no XLA program (``_StoredValues``)."""
        return self._compiled

    def cost(self) -> Optional[ProgramCost]:
        """XLA's estimates of the compiled program (None before compiling); for a run
        without an XLA program, what it stores."""
        if self._compiled is not None:
            return program_cost(self._compiled)
        return self._call.cost() if isinstance(self._call, _StoredValues) else None

    def _context(self) -> contextlib.ExitStack:
        return program_context(self.plan.needs_x64, self._device)

    def check_initialized(self, store: dict) -> None:
        if self._initialized:
            return  # a session's variables never become uninitialized again
        for var in self._required:
            if var not in store:
                raise uninitialized_error(var)
        self._initialized = True

    def _state_value(self, store: dict, key: Any) -> Any:
        if key in store:
            return store[key]
        # A variable the loop only writes: its carry starts as zeros.
        op = self._state_shapes[key]
        return np.zeros(op.attrs["shape"].as_list(), op.attrs["dtype"].as_numpy_dtype)

    def compile(self, feed_values: list, store: dict, counters: Optional[np.ndarray]) -> None:
        """Compiles ahead of any run (for ``compile_report``); runs then use this program.

        Only shapes and dtypes matter here, so uninitialized variables are no obstacle.
        """
        self._call = self._lower_and_compile(self._arguments(feed_values, _StateSpecs(store),
                                                             counters))

    def prepare(self, feed_values: list, store: dict, counters: Optional[np.ndarray]) -> None:
        """Compiles for these arguments unless done, and refuses a program that cannot fit.

        Lowered with the run's own arguments, the program lands in ``jax.jit``'s cache,
        so runs dispatch through ``jax.jit`` (its cheapest path) without compiling again.
        Only the arguments' shapes and dtypes are used: a value another thread donated
        meanwhile does no harm.

        Raises:
            ResourceExhaustedError: the program needs more memory than the device has free.
        """
        args = self._arguments(feed_values, store, counters)
        if self.xla_compile_seconds is None:
            call = self._lower_and_compile(args)
            self._call = call if self.xla_choice.options or self._compiled is None \
                else self._jitted
        if self._compiled is not None:
            transferred = sum(a.nbytes for a in args if isinstance(a, np.ndarray))
            check_fits(self._compiled, self.plan, self._device, transferred)
        else:
            check_stored_fit(self._call.nbytes, self.plan, self._device)
        self.ready = True

    def _lower_and_compile(self, args: list) -> Any:
        if self._place_arguments:
            args = self._placement.put_all(args, self._in_shardings)
        with self._context():
            platform = self._device.platform if self._device is not None else \
                jax.default_backend()
            self._lowerings = LoweringChooser(self._xla_mode, platform)
            start = time.perf_counter()
            traced = self._jitted.trace(*args)
            self.trace_seconds = time.perf_counter() - start - self._lowerings.calibration_seconds
            known = None if self._placement is not None or self._checked or self.steps is not None \
                else _known_results(traced.jaxpr, dict(enumerate(
                    self._constants, start=len(self.plan.feeds))))
            if known is not None:
                self._compiled, self.xla_compile_seconds = None, 0.0
                self.xla_choice = XlaChoice("none", {}, "the run only stores values known at "
                                                        "compile time: no XLA program")
                return _StoredValues(known, self._device)
            self.xla_choice = choose(self._xla_mode, platform, traced.jaxpr, self._lowerings)
            start = time.perf_counter()
            lowered = traced.lower()
            self.trace_seconds += time.perf_counter() - start
            start = time.perf_counter()
            self._compiled = None
            if self.xla_choice.options:
                try:
                    self._compiled = lowered.compile(compiler_options=self.xla_choice.options)
                except jax.errors.JaxRuntimeError as error:
                    # A cached verdict whose options XLA now refuses: run with the defaults.
                    self.xla_choice = fallback(self.xla_choice, error)
            if self._compiled is None:
                self._compiled = lowered.compile()
            self.xla_compile_seconds = time.perf_counter() - start
        return self._compiled

    def _arguments(self, feed_values: Sequence, store: dict, counters: np.ndarray) -> list:
        if self.steps is None:
            args = [*feed_values, *self._constants, *map(store.__getitem__, self._state_args)]
        else:
            args = [*feed_values, *self._constants,
                    *[self._state_value(store, k) for k in self._state_in],
                    *[store[k] for k in self._state_read]]
        if self._uses_counters:
            args.append(counters)
        return args

    def dispatch(self, feed_values: Sequence, store: Optional[dict],
                 counters: Optional[np.ndarray]) -> tuple:
        """Starts the program and puts the written variables in ``store``.

        The caller serializes dispatches that touch ``store``: between reading the
        variables and storing their new values, no other run may donate them. The
        program runs asynchronously, unless it has value checks: then this waits for
        its status, and raises when a check failed, leaving every variable as it was
        (a placement on several CPU devices also waits: see ``compiler.placement``).
        """
        if self._host_checks:
            self._checks.check_feeds(feed_values, self.steps)
        if self._feeds_only:
            args = [*feed_values, *self._constants] if self._constants else feed_values
        else:
            args = self._arguments(feed_values, store, counters)
        if self._place_arguments:
            args = self._placement.put_all(args, self._in_shardings)
        if self._needs_context:
            with self._context():
                results = self._call(*args)
        else:
            results = self._call(*args)
        if self._waits:
            jax.block_until_ready(results)  # see compiler.placement: CPU collectives
        if self._checked:
            status = np.asarray(results[-1])  # the run that fails is the one that raises
            if status[0]:
                # The program gave back the old values of the variables it received.
                if self._written:
                    store.update((key, value) for key, value in zip(self._state_out, results)
                                 if key in self._state_in_set and key in store)
                raise self._checks.program_error(status, self.steps)
        if self._written:
            store.update(zip(self._state_out, results))  # the written values come first
        return results

    def fetched(self, results: tuple) -> Sequence:
        """The fetched values of a dispatch as numpy arrays (waits for the program).

        These are the program's own output buffers, never a variable's stored buffer,
        so a later run donating the variables cannot touch them.
        """
        if self._tensor_results is not None:
            return list(map(np.asarray, results[self._tensor_results]))
        if self._only_ops is not None:
            return self._only_ops
        values = iter(results[self._written:])
        return [None if is_op else np.asarray(next(values)) for is_op in self._fetch_is_op]
