"""Session: runs fetches of a graph with feeds, keeping variables on the device.

A Session is thread-safe. Runs that touch variables or random streams hold the
session's lock from reading the variables, through dispatching the program
(asynchronous: microseconds), to storing the new values, so concurrent runs are
serialized as whole runs: each sees a consistent state, none loses an update, and
none reads a buffer another run donated. Fetched values are the program's own
output buffers, converted to numpy outside the lock. A program with value checks
(``check_indices``) is waited for inside the lock, since a failed check must leave
every variable and random stream as it was. Compiling happens under a second lock,
so a new program compiles once while other runs go on.

Repeated runs with the same fetches and feed keys reuse what the first one worked out
(``_RunSignature``): numpy arrays of the fed tensors' dtypes, in shapes that already have
a program, go straight to it; anything else is converted and checked in full.

Each fed value is transferred to the device(s) once per run, by ``jax.jit`` placing the
numpy argument (with a ``MirroredStrategy``: split over the replicas or replicated, as
``compiler.placement`` says); variables stay on the device(s) between runs.
"""
from __future__ import annotations

import collections.abc
import threading
import time
import warnings
from typing import Any, Callable, Optional, Sequence

import jax
import numpy as np

from graphnn.compiler.host import HostPlan, is_host_value
from graphnn.compiler.lowering import Executable, op_seed, random_base_seed
from graphnn.compiler.numerics import check_every_output
from graphnn.compiler.passes import PassRecord, run_pipeline
from graphnn.compiler.placement import collectives, placement_notes
from graphnn.compiler.plan import make_plan
from graphnn.compiler.report import CompileReport
from graphnn.compiler.segments import SEGMENT_OPS, SPLIT_ABOVE
from graphnn.compiler.split_executable import lower_program
from graphnn.compiler.subgraph import copy_for_run
from graphnn.compiler.xla_options import MODES as XLA_MODES
from graphnn.distribute.strategy import MirroredStrategy, get_strategy
from graphnn.errors import InvalidArgumentError
from graphnn.feeds import as_feed_tensor, check_fed_once, convert_feed, convert_feed_sequence
from graphnn.framework import session_stack
from graphnn.framework.gc_pause import gc_paused
from graphnn.framework.graph import Graph, Operation, get_default_graph
from graphnn.framework.tensor import Tensor
from graphnn.ops.state import VARIABLE_OP

_DEVICE_KINDS = ("cpu", "gpu", "tpu")
# More compilations than this for one set of fetches, because fed shapes keep changing,
# earn a warning naming the placeholders whose shape changed.
RECOMPILE_WARNING_THRESHOLD = 3
_NO_COUNTERS = np.zeros((0,), np.uint32)


def _select_device(device: Optional[str]) -> Any:
    if device is None:
        return None
    kind = device.lower().split(":")[0]
    if kind not in _DEVICE_KINDS:
        raise InvalidArgumentError(f"Session(device={device!r}): expected one of "
                                   f"{', '.join(_DEVICE_KINDS)} or None")
    index = int(device.split(":")[1]) if ":" in device else 0
    try:
        devices = jax.devices(kind)
    except RuntimeError:
        available = sorted({d.platform for d in jax.devices()})
        raise InvalidArgumentError(
            f"Session(device={device!r}): JAX has no {kind} device here (available: "
            f"{', '.join(available)}). Install a JAX build for that accelerator, e.g. "
            f"`pip install -U \"jax[cuda12]\"` for NVIDIA GPUs, or use device=None.") from None
    if index >= len(devices):
        raise InvalidArgumentError(f"Session(device={device!r}): only {len(devices)} {kind} "
                                   f"device(s) are available")
    return devices[index]


class _FetchStructure:
    """Flattens nested fetches (lists, tuples, namedtuples, dicts) and rebuilds results."""

    def __init__(self, graph: Graph, fetches: Any):
        self.leaves: list = []
        self.host_values = False  # a string tensor is fetched (see compiler/host.py)
        self._template = self._flatten(graph, fetches)

    def _flatten(self, graph: Graph, fetches: Any) -> Any:
        if isinstance(fetches, (Tensor, Operation, str)):
            leaf = graph.as_graph_element(fetches)
            self.host_values = self.host_values or is_host_value(leaf)
            self.leaves.append(leaf)
            return len(self.leaves) - 1
        if isinstance(fetches, collections.abc.Mapping):
            return (type(fetches), [(k, self._flatten(graph, v)) for k, v in fetches.items()])
        if isinstance(fetches, (list, tuple)):
            return (type(fetches), [self._flatten(graph, v) for v in fetches])
        raise TypeError(f"Fetch argument {fetches!r} has invalid type {type(fetches).__name__}: "
                        f"must be a Tensor, Operation, name, or a list/tuple/dict of them")

    @property
    def single_leaf(self) -> bool:
        """The fetches were one Tensor/Operation/name, not a structure."""
        return self._template == 0

    def rebuild(self, values: Sequence) -> Any:
        if self._template == 0:
            return values[0]
        return self._rebuild(self._template, values)

    def _rebuild(self, template: Any, values: list) -> Any:
        if isinstance(template, int):
            return values[template]
        kind, items = template
        if issubclass(kind, collections.abc.Mapping):
            return kind((k, self._rebuild(v, values)) for k, v in items)
        rebuilt = [self._rebuild(v, values) for v in items]
        if hasattr(kind, "_fields"):  # namedtuple
            return kind(*rebuilt)
        return kind(rebuilt)


def _named_shardings(executable: Executable, feed_tensors: list) -> dict:
    """{fed tensor or variable name: its sharding in the compiled program}."""
    feeds, variables = executable.argument_shardings()
    named = {t.name: sharding for t, sharding in zip(feed_tensors, feeds)}
    named.update((variable.name, sharding) for variable, sharding in variables.items())
    return named


def _refuse_host_values(structure: _FetchStructure, method: str) -> None:
    if structure.host_values:
        names = [leaf.name for leaf in structure.leaves if is_host_value(leaf)]
        raise TypeError(f"Session.{method} fetches numbers only, but {', '.join(names)} "
                        f"is a string tensor (computed on the host); fetch it with run")


_LEAVES = (Tensor, Operation, str)


def _fetch_key(fetches: Any) -> Any:
    """A hashable key for ``fetches`` that are one element or a plain list or tuple of
    elements (the usual calls), else None. Elements never change meaning: a graph only
    gains ops, and a name once taken names the same op for good."""
    if isinstance(fetches, _LEAVES):
        return fetches
    kind = type(fetches)
    if (kind is list or kind is tuple) and all(isinstance(f, _LEAVES) for f in fetches):
        return (kind, *fetches)
    return None


class _RunSignature:
    """What repeated ``run`` calls with the same fetches and feed keys share: the fetch
    structure, the fed tensors (keys resolved, none fed twice) and, by fed shapes, the
    programs, whose shapes were validated when they were made."""

    __slots__ = ("structure", "tensors", "dtypes", "static_shapes", "executables")

    def __init__(self, structure: _FetchStructure, tensors: list):
        self.structure = structure
        self.tensors = tensors
        self.dtypes = [t.dtype.as_numpy_dtype for t in tensors]
        # set_shape replaces a tensor's shape object: the validated shapes then no longer do.
        self.static_shapes = [t.shape for t in tensors]
        self.executables: dict[tuple, Executable] = {}

    def shapes_current(self) -> bool:
        return all(t.shape is shape for t, shape in zip(self.tensors, self.static_shapes))

    def ready_values(self, feed_dict: dict) -> Optional[list]:
        """The fed values, when each is an array of its tensor's dtype whose tensor's static
        shape is the one validated before; else None."""
        values = list(feed_dict.values())
        for value, dtype, tensor, shape in zip(values, self.dtypes, self.tensors,
                                               self.static_shapes):
            if type(value) is not np.ndarray or value.dtype != dtype or tensor.shape is not shape:
                return None
        return values


class Session:
    """Runs a graph: compiles what each run needs once, keeps variables on the device.

    Threads may share a Session: concurrent runs behave as if run one after another.

    With ``check_indices`` (the default), an out-of-range index (``gather``, sparse labels)
    or an integer division by zero fails the run with ``InvalidArgumentError`` and changes
    no variable; fed values are checked before the run, computed ones inside it (that run
    then waits for its result). ``check_indices=False`` skips the checks.

    ``xla_options="auto"`` (the default) compiles each program with the XLA code paths
    measured fastest on this machine for its kind (``graphnn.compiler.xla_options``;
    ``compile_report`` says which and why); ``"default"`` keeps XLA's own choices.

    With ``check_numerics=True``, every floating-point value a run computes or is fed is
    checked for NaN and Inf: the run fails with ``InvalidArgumentError`` naming the first
    op that produced one and where it was created, and changes no variable (each run then
    waits for its checks: a debugging mode). Inside control flow it names the ``gn.cond``
    or loop op whose result holds the NaN/Inf.

    ``strategy`` (a ``gn.distribute.MirroredStrategy``; by default the one whose
    ``scope()`` the Session is created in) runs every run partitioned over the strategy's
    devices (a split program: each of its segments): feeds whose leading dimension is None
    are split along it over the replicas (a batch the replica count does not divide is an
    ``InvalidArgumentError``), other feeds and the variables are replicated, and XLA
    inserts the collectives.
    ``device`` and ``strategy`` exclude each other. ``sess.devices`` lists where runs execute.

    A program with more than ``split_above`` computing ops (after optimization) is compiled
    in segments of about ``segment_ops`` ops, each compiled once per distinct structure and
    run one after another (``graphnn.compiler.segments``): XLA's compile time, and the run
    time of what it fuses, grow faster than linearly on long chains, so deep programs (an
    RNN unrolled over many steps) compile and run in time linear in their depth.
    ``split_above=None`` always compiles whole programs, as does a strategy spanning several
    processes.
    Runs of identical segments that pass values from one to the next (the steps of an
    unrolled loop, and their gradients) are rolled into ``lax.scan`` loops, and a program
    that is then small enough is compiled as one program (``graphnn.compiler.rolled``;
    ``roll_loops=False`` keeps the segments). ``compile_report`` says how a program was
    split and rolled.

    Example:
        >>> x = gn.placeholder(gn.float32, [None])
        >>> y = 2.0 * x + 1.0
        >>> with gn.Session() as sess:
        ...     sess.run(y, feed_dict={x: [1.0, 2.0]})
        array([3., 5.], dtype=float32)
    """

    def __init__(self, graph: Optional[Graph] = None, device: Optional[str] = None,
                 optimize: bool = True, check_indices: bool = True, xla_options: str = "auto",
                 check_numerics: bool = False, strategy: Optional[MirroredStrategy] = None,
                 split_above: Optional[int] = SPLIT_ABOVE, segment_ops: int = SEGMENT_OPS,
                 roll_loops: bool = True):
        if xla_options not in XLA_MODES:
            raise InvalidArgumentError(f"Session(xla_options={xla_options!r}): expected one of "
                                       f"{', '.join(map(repr, XLA_MODES))}")
        self.graph = graph if graph is not None else get_default_graph()
        self.xla_options = xla_options
        self.device = device
        self.optimize = optimize
        self.check_indices = check_indices
        self.check_numerics = check_numerics
        self.strategy = strategy if strategy is not None else get_strategy()
        if self.strategy is not None and device is not None:
            raise InvalidArgumentError(f"Session(device={device!r}, strategy=...): a strategy "
                                       f"chooses its own devices; give one or the other")
        self._placement = self.strategy.placement if self.strategy is not None else None
        if split_above is not None and split_above < 0 or segment_ops < 1:
            raise InvalidArgumentError(f"Session(split_above={split_above!r}, segment_ops="
                                       f"{segment_ops!r}): expected split_above >= 0 or None "
                                       f"and segment_ops >= 1")
        self.split_above, self.segment_ops = split_above, segment_ops
        self.roll_loops = roll_loops
        self._segments: dict = {}  # compiled segments of split programs, by structure
        self._device = _select_device(device)
        self._store: dict[Operation, Any] = {}
        self._cache: dict[tuple, Executable] = {}
        self._reports: dict[Executable, tuple] = {}
        self._plans: dict[tuple, Any] = {}
        self._signatures: dict[tuple, list] = {}
        self._runs: dict[tuple, _RunSignature] = {}
        self._counters: dict[Operation, int] = {}
        self._base_seed = random_base_seed(self.graph.seed)
        if self.strategy is not None and self.graph.seed is None:
            self._base_seed = self.strategy.common_seed(self._base_seed)
        self._closed = False
        self._context = None
        # _lock: the variable store and random counters; _compile_lock: the caches.
        self._lock = threading.Lock()
        self._compile_lock = threading.RLock()

    # ----- lifecycle --------------------------------------------------------------
    def close(self) -> None:
        """Frees the variables and compiled programs; the session cannot run afterwards."""
        with self._compile_lock, self._lock:
            self._closed = True
            self._store.clear()
            self._cache.clear()
            self._reports.clear()
            self._plans.clear()
            self._runs.clear()
            self._segments.clear()

    def __enter__(self) -> Session:
        self._context = session_stack.default_session(self)
        self._context.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        self._context.__exit__(*exc_info)
        self._context = None
        self.close()

    def as_default(self):
        """``with sess.as_default():`` makes ``eval()``/``run()`` use this session."""
        return session_stack.default_session(self)

    @property
    def devices(self) -> list:
        """The JAX devices this session's runs execute on (all of its strategy's)."""
        if self._placement is not None:
            return self._placement.devices
        if self._device is not None:
            return [self._device]
        default = jax.config.jax_default_device
        return [default if isinstance(default, jax.Device) else jax.devices()[0]]

    # ----- running -----------------------------------------------------------------
    def run(self, fetches: Any, feed_dict: Optional[dict] = None) -> Any:
        """Computes ``fetches`` (a Tensor, Operation, name or nested list/tuple/dict of them).

        Returns numpy arrays in the structure of ``fetches``; fetched Operations give None;
        string tensors (constants, summaries) are computed on the host, a scalar as bytes.

        Raises:
            InvalidArgumentError: a feed is missing, mis-shaped, or would change value
                when converted to its placeholder's dtype.
            FailedPreconditionError: a needed variable is not initialized.
            ResourceExhaustedError: the program needs more memory than the device has
                free (refused before it starts; no variable changes).
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        key = fetches if isinstance(fetches, _LEAVES) else _fetch_key(fetches)
        if key is not None:
            key = (key, tuple(feed_dict) if feed_dict else ())
            signature = self._runs.get(key)
            # The hot path: arrays of the right dtypes, in shapes that have a program.
            if signature is not None:
                values = signature.ready_values(feed_dict) if feed_dict else []
                if values is not None:
                    executable = signature.executables.get(tuple([v.shape for v in values]))
                    if executable is not None:
                        return signature.structure.rebuild(self._execute(executable, values))
        structure = _FetchStructure(self.graph, fetches)
        if structure.host_values:
            return structure.rebuild(HostPlan(structure.leaves).evaluate(
                lambda leaves: self.run(leaves, feed_dict)))
        feed_tensors, feed_values = self._convert_feeds(feed_dict)
        executable = self._executable(structure.leaves, feed_tensors, feed_values)
        if key is not None:
            signature = self._runs.get(key)
            if signature is None or not signature.shapes_current():
                signature = self._runs[key] = _RunSignature(structure, feed_tensors)
            signature.executables[tuple([v.shape for v in feed_values])] = executable
        return structure.rebuild(self._execute(executable, feed_values))

    def run_loop(self, fetches: Any, feed_dict: Optional[dict] = None,
                 steps: Optional[int] = None) -> Any:
        """Runs ``fetches`` for N steps inside ONE compiled XLA program (a ``lax.scan``).

        Every fed value has a leading axis of length N: step i is fed slice i. The result
        equals N calls of ``run`` (variables, optimizer slots and random draws included),
        with each fetched value stacked on a new axis 0 (fetched Operations give None).
        ``steps`` is needed when nothing is fed, and must match N otherwise. A program large
        enough to be split (``split_above``) is not one XLA program: each step dispatches
        each of its segments once, with the same results.

        Example:
            >>> losses = sess.run_loop([train, loss], {x: xs[:200], y: ys[:200]})[1]
        """
        self._check_open()
        structure = _FetchStructure(self.graph, fetches)
        _refuse_host_values(structure, "run_loop")
        feed_tensors, feed_values = self._convert_loop_feeds(feed_dict)
        lengths = {len(v) for v in feed_values}
        if len(lengths) > 1:
            raise InvalidArgumentError(f"run_loop: every fed value needs the same leading (step) "
                                       f"axis; got lengths {sorted(lengths)}")
        if steps is None:
            if not lengths:
                raise ValueError("run_loop needs steps= when nothing is fed")
            steps = lengths.pop()
        elif lengths and lengths != {steps}:
            raise InvalidArgumentError(f"run_loop(steps={steps}): the fed values have "
                                       f"{lengths.pop()} steps along axis 0")
        if steps < 1:
            raise ValueError(f"run_loop needs at least one step, got steps={steps}")
        executable = self._executable(structure.leaves, feed_tensors, feed_values, steps=int(steps))
        return structure.rebuild(self._execute(executable, feed_values))

    def _convert_loop_feeds(self, feed_dict: Optional[dict]) -> tuple[list, list]:
        return self._convert_feeds(feed_dict, convert_feed_sequence)

    def make_callable(self, fetches: Any, feed_list: Sequence[Any] = ()) -> Callable:
        """A function of the values of ``feed_list`` that runs ``fetches`` with little overhead.

        Example:
            >>> step = sess.make_callable(loss, [x, y])
            >>> step(batch_x, batch_y)
        """
        self._check_open()
        structure = _FetchStructure(self.graph, fetches)
        _refuse_host_values(structure, "make_callable")
        tensors = [as_feed_tensor(self.graph, t) for t in feed_list]
        if len(set(tensors)) != len(tensors):
            raise ValueError("make_callable: feed_list names a tensor twice")
        by_shape: dict[tuple, Executable] = {}
        single = structure.single_leaf
        count = len(tensors)

        dtypes = [t.dtype.as_numpy_dtype for t in tensors]

        # The hot path. Arrays of the right dtype whose shapes were validated before (they
        # have a program) go straight through; anything else gets converted and checked.
        def call(*values: Any) -> Any:
            if len(values) != count:
                raise TypeError(f"this callable takes {count} feed values, got {len(values)}")
            arrays = values
            for value, dtype in zip(values, dtypes):
                if type(value) is not np.ndarray or value.dtype != dtype:
                    arrays = [convert_feed(t, v) for t, v in zip(tensors, values)]
                    break
            executable = by_shape.get(tuple([a.shape for a in arrays]))
            if executable is None:
                arrays = [convert_feed(t, a) for t, a in zip(tensors, arrays)]
                executable = self._executable(structure.leaves, tensors, arrays)
                by_shape[tuple([a.shape for a in arrays])] = executable
            results = self._execute(executable, arrays)
            return results[0] if single else structure.rebuild(results)

        return call

    def load_variable(self, variable: Tensor, value: Any) -> None:
        """Sets a variable's value from numpy without running any op (``Variable.load``)."""
        self._check_open()
        if variable.op.type != VARIABLE_OP:
            raise TypeError(f"'{variable.name}' is not a Variable")
        array = convert_feed(variable, value)
        if tuple(array.shape) != tuple(variable.shape.as_list()):
            raise InvalidArgumentError(f"Cannot load value of shape {array.shape} into Variable "
                                       f"'{variable.op.name}' of shape {variable.shape}")
        with jax.enable_x64(variable.dtype.is_64bit):
            value = jax.device_put(array, self._device) if self._placement is None else \
                self._placement.put(array, self._placement.variable(variable.op))
        with self._lock:
            self._check_open()
            self._store[variable.op] = value

    @property
    def compilation_count(self) -> int:
        """How many programs were traced and compiled so far (each cache miss traces once)."""
        return sum(e.trace_count for e in self._cache.values())

    # ----- internals -------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")

    def _convert_feeds(self, feed_dict: Optional[dict],
                       convert: Callable = convert_feed) -> tuple[list, list]:
        if not feed_dict:
            return [], []
        tensors, values = [], []
        for key, value in feed_dict.items():
            tensor = as_feed_tensor(self.graph, key)
            tensors.append(tensor)
            values.append(convert(tensor, value))
        if len(tensors) > 1:
            check_fed_once(tensors, feed_dict)
        return tensors, values

    def _executable(self, fetches: list, feed_tensors: list, feed_values: list,
                    steps: Optional[int] = None) -> Executable:
        shapes = tuple(v.shape if steps is None else v.shape[1:] for v in feed_values)
        key = (tuple(fetches), tuple(feed_tensors), shapes, steps)
        executable = self._cache.get(key)
        if executable is None:
            with self._compile_lock:
                self._check_open()
                executable = self._cache.get(key)
                if executable is None:
                    with gc_paused():  # see gc_pause: large graphs make many objects
                        executable = self._cache[key] = self._compile(fetches, feed_tensors,
                                                                      shapes, steps)
        return executable

    def _compile(self, fetches: list, feed_tensors: list, shapes: tuple,
                 steps: Optional[int]) -> Executable:
        plan_key = (tuple(fetches), tuple(feed_tensors))
        plan = self._plans.get(plan_key)
        if plan is None:
            plan = self._plans[plan_key] = make_plan(self.graph, fetches, feed_tensors)
        start = time.perf_counter()
        run = copy_for_run(self.graph, plan, list(shapes))
        records = [PassRecord("prune", self.graph.num_ops, run.graph.num_ops, {},
                              time.perf_counter() - start)]
        records += run_pipeline(run, self.optimize)
        if self.check_numerics:
            before, start = run.graph.num_ops, time.perf_counter()
            fired = check_every_output(run)
            records.append(PassRecord("check_numerics", before, run.graph.num_ops, dict(fired),
                                      time.perf_counter() - start))
        optimized = make_plan(run.graph, run.fetches, run.feeds)
        seeds = {}
        for op in optimized.random_ops:
            graph_seed, seed = op_seed(run.origin[op], self.graph.seed)
            seeds[op] = (self._base_seed if graph_seed is None else graph_seed, seed)
        feed_shardings = [] if self._placement is None else [
            self._placement.feed(t, shape, steps) for t, shape in zip(feed_tensors, shapes)]
        executable = lower_program(optimized, seeds, self._device, state_keys=run.origin,
                                   steps=steps, check_indices=self.check_indices,
                                   xla_options=self.xla_options, placement=self._placement,
                                   feed_shardings=feed_shardings, split_above=self.split_above,
                                   segment_ops=self.segment_ops, cache=self._segments,
                                   roll_loops=self.roll_loops)
        self._reports[executable] = (records, run.graph, placement_notes(plan.ops, self.devices))
        self._note_signature(plan_key, feed_tensors, shapes)
        return executable

    def _note_signature(self, plan_key: tuple, feed_tensors: list, shapes: tuple) -> None:
        """Counts compilations per fetch set; warns when changing feed shapes keep causing them."""
        seen = self._signatures.setdefault(plan_key, [])
        seen.append(shapes)
        if len(seen) != RECOMPILE_WARNING_THRESHOLD + 1:
            return
        changing = [(t, sorted({s[i] for s in seen})) for i, t in enumerate(feed_tensors)
                    if len({s[i] for s in seen}) > 1]
        names = ", ".join(f"'{t.op.name}' (shapes {shapes})" for t, shapes in changing)
        warnings.warn(
            f"gn.Session compiled the same fetches {len(seen)} times because the shape fed to "
            f"{names} keeps changing. Each new shape compiles a new XLA program; a smaller last "
            f"batch is the usual cause: drop it or pad it to the batch size.", stacklevel=4)

    def compile_report(self, fetches: Any, feed_dict: Optional[dict] = None) -> CompileReport:
        """What the compiler did for ``run(fetches, feed_dict)`` (compiling it if needed).

        Example:
            >>> report = sess.compile_report(train_op, {x: batch_x, y: batch_y})
            >>> print(report)          # a table: pass, nodes before -> after, rules fired
            >>> report.optimized_graph # an ordinary gn.Graph
            >>> report.cost.flops      # XLA's estimate of the program's FLOPs (and memory)
            >>> report.collectives     # {"all-reduce": 2} under a MirroredStrategy
        """
        self._check_open()
        structure = _FetchStructure(self.graph, fetches)
        feed_tensors, feed_values = self._convert_feeds(feed_dict)
        executable = self._executable(structure.leaves, feed_tensors, feed_values)
        with self._compile_lock:
            if executable.xla_compile_seconds is None:
                with gc_paused():  # as a run's compile (see gc_pause)
                    executable.compile(feed_values, self._store,
                                       self._counter_values(executable))
        records, graph, notes = self._reports[executable]
        counted = collectives(executable.compiled) if executable.split is None else \
            executable.split.total_collectives()
        plan_key = (tuple(structure.leaves), tuple(feed_tensors))
        compiled = [{t.op.name: shape for t, shape in zip(feed_tensors, shapes)}
                    for shapes in self._signatures.get(plan_key, [])]
        return CompileReport(passes=list(records), xla_compile_seconds=executable.xla_compile_seconds,
                             trace_seconds=executable.trace_seconds, optimized_graph=graph,
                             compiled_shapes=compiled, xla_choice=executable.xla_choice,
                             cost=executable.cost(), devices=self.devices,
                             placement=notes, collectives=counted,
                             shardings=_named_shardings(executable, feed_tensors),
                             split=executable.split)

    def _counter_values(self, executable: Executable) -> np.ndarray:
        if not executable.random_keys:
            return _NO_COUNTERS
        return np.array([self._counters.get(op, 0) for op in executable.random_keys], np.uint32)

    def _execute(self, executable: Executable, feed_values: list) -> list:
        if not executable.ready:
            # Variables never become uninitialized again (close aside), so a ready
            # program needs neither check again, and neither needs the state lock.
            executable.check_initialized(self._store)
            with self._compile_lock:
                if not executable.ready:
                    with gc_paused():
                        executable.prepare(feed_values, self._store,
                                           self._counter_values(executable))
        if executable.stateless:
            return executable.fetched(executable.dispatch(feed_values, None, None))
        with self._lock:
            if self._closed:
                raise RuntimeError("Attempted to use a closed Session.")
            if not executable.random_keys:
                results = executable.dispatch(feed_values, self._store, None)
            else:
                results = executable.dispatch(feed_values, self._store,
                                              self._counter_values(executable))
                advance = executable.steps or 1
                for op in executable.random_keys:
                    self._counters[op] = self._counters.get(op, 0) + advance
        return executable.fetched(results)
