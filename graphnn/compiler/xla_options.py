"""XLA compiler options per program: the compiler's measured choice of XLA's CPU code paths.

XLA's CPU backend has other code paths for dots and convolutions than its own emitters
(oneDNN, and YNNPACK library fusions), off by default. Which one is fastest depends on the
machine and on the program, so ``Session(xla_options="auto")`` (the default) measures:

1. A program's *kind* comes from the primitives of its traced JAX program:
   ``"convolution"`` when it convolves, ``"dot"`` when it multiplies matrices,
   ``"random draws"`` when it only draws random numbers and computes elementwise (an
   initializer, run once: its cost is its compile time, and there the choice is a
   cheaper LLVM pipeline, measured by compile time, checked to draw the same numbers,
   and taken only when the compile time it saves outweighs ``BREAK_EVEN_RUNS`` runs
   of any slower code it makes), and nothing to choose otherwise (XLA's own code).
2. Once per machine and jaxlib, for each kind a program needs, a small representative
   workload (a 5x5 convolution layer's forward and gradients; an MLP's gradients) is
   compiled with each candidate option set that this jaxlib accepts, its results checked
   against XLA's default, and timed in interleaved rounds beside the default. A candidate
   is chosen only when it wins by a clear margin (``MARGIN``) in most rounds; otherwise,
   and on any doubt or failure, the program keeps XLA's default. This takes a few
   seconds, reported apart from compile time (``compile_report``).
3. The verdict is cached in a small JSON file in the user cache directory
   (``$GRAPHNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/graphnn``, else ``~/.cache/graphnn``),
   named by the jaxlib version and holding a fingerprint of the machine, so another
   jaxlib or another machine calibrates afresh.

The options are set per executable (``Lowered.compile(compiler_options=...)``): the
process's ``XLA_FLAGS`` and any other JAX code are never affected. Only CPU programs are
calibrated; on other platforms every program keeps XLA's defaults.

A program rolled into loops (``compiler.rolled``: a deep graph, whose compile time is
most of its first run) is compiled with ``LOOP_OPTIONS`` on top of its kind's choice: LLVM
at -O1, and region-based copy insertion, which spares copies of a loop's carried buffers.
Measured (jaxlib 0.10.2, 2 cores; runs in interleaved rounds in one process, against XLA's
defaults): the 1,000-step unrolled RNN of ``benchmarks/deep_graphs.py`` compiled in 0.15 s
instead of 0.20 s and ran 9.4 ms against 9.7 ms; the gradients of its element-wise chains
compiled in 0.08 against 0.10 s and ran 1.9 against 2.0 ms (5,000 ops) and 3.6 against
3.7 ms (10,000); results bit for bit the same. Not taken: XLA's older loop emitters
(``xla_cpu_use_fusion_emitters=False``) halve the RNN's compile again but run it 5%
slower and the chain 3x slower; -O0 runs 3x slower; programs kept in segments compiled
slower at -O1 (0.33 against 0.20 s for the 5,000-op chain), so they keep XLA's defaults.

Ops may declare alternative lowerings with the same values (``OpDef.alternatives``, such
as MaxPool's ``tiled-windows`` gradient). While a program is traced, a
``LoweringChooser`` answers for each one the program meets, by the same kind of
measurement: the alternative's workload (its forward and gradient) timed against the
op's own lowering, once per machine and jaxlib, cached in the same file. The
measurements run in a thread of their own, so a calibration asked for in the middle of
tracing a program neither lands in it nor inherits its x64 or device settings.

Convolution as image patches times one GEMM (``lax.conv_general_dilated_patches``) was
measured too: a training step's convolution ran 20x slower than XLA's convolution on CPU
(the patch gradient is a large scatter), so it is not offered.

Also measured and not offered (jaxlib 0.10.2, 2 AVX-512 cores; an MLP 784-256-256-10 Adam
step, graphnn's own program timed against itself in interleaved rounds): region-based copy
insertion (``xla_cpu_copy_insertion_use_region_analysis``; it removes the copies of the
weights that an input gradient reads after their in-place update, yet ran 0.98-1.01x, the
copies overlapping the first GEMM), fast math (0.98x), other YNNPACK/XNNPACK fusion types
(0.99-1.01x), and unrolling a ``run_loop`` step twice or three times (1.0x, 0.93x). Adam's
update is that step's one sizeable cost beyond its GEMMs (3 loop fusions, 10 passes over a
variable's size: about 190 us for the first layer's weights in a 1,050 us step). XLA's CPU
multi-output fusion would merge them, but it is a backend extra option, a map that
per-executable compile options cannot set, and even process-wide it only merges the two
slot updates (no faster).
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import jaxlib
import numpy as np

from graphnn.framework.registry import Alternative, OpDef

MODES = ("auto", "default")
# Option sets the calibration may choose, by name; each is tried only where jaxlib accepts it.
CANDIDATES: dict[str, dict[str, Any]] = {
    "onednn": {"xla_cpu_use_onednn": True},
    "ynn-dot": {"xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_DOT"},
}
# A candidate must run the workload MARGIN times as fast as the default (median of the
# per-round ratios, and best time against best time) and win at least WIN_SHARE of the
# rounds: noise only adds time, so a noisy machine keeps the default rather than guess.
MARGIN = 1.2
ROUNDS = 7
WIN_SHARE = 0.7
# Timing rounds stop early, after at least 3, once the verdict is settled (``_settled``) or
# past this many seconds (a loaded machine).
ROUND_BUDGET = 4.0
# Results of a candidate must match the default's within this (float32 workloads).
RTOL = 1e-4
# Programs that only draw random numbers and compute elementwise (initializers, typically:
# run once, so their compile time is their cost) may get a cheaper LLVM pipeline, chosen
# by compile time (``_measure_compile``): LLVM's -O3 spends most of an initializer's
# compile on each threefry draw's kernel.
COMPILE_CANDIDATES: dict[str, dict[str, Any]] = {
    "fast-compile": {"xla_backend_optimization_level": 2},
}
# A compile candidate must compile MARGIN times as fast, and where it runs slower, the
# compile time it saves must pay for at least this many runs of its slower code.
BREAK_EVEN_RUNS = 1000
# Added to the options of a program rolled into loops (see the module doc).
LOOP_OPTIONS: dict[str, Any] = {"xla_backend_optimization_level": 1,
                                "xla_cpu_copy_insertion_use_region_analysis": True}
CONVOLUTION, DOT, RANDOM = "convolution", "dot", "random draws"
_CONVOLUTION_PRIMITIVES = frozenset({"conv_general_dilated"})
_DOT_PRIMITIVES = frozenset({"dot_general"})
_RANDOM_PRIMITIVES = frozenset({"random_bits"})
CACHE_FORMAT = 1  # version of the cache file's layout


@dataclasses.dataclass(frozen=True)
class XlaChoice:
    """The XLA options one program is compiled with, and why.

    Attributes:
        name: ``"default"`` (XLA's own choices) or a key of ``CANDIDATES``.
        options: the compiler options given to XLA (empty for the default).
        reason: why, in words (measured speed-up, margin, cache file).
        calibration_seconds: time this process spent calibrating to make this choice
            and the lowering choices (0.0 when the verdicts were cached or no
            calibration was needed).
        lowerings: for each alternative lowering the program could use, one line saying
            whether it got it and why (``LoweringChooser``).
    """

    name: str
    options: dict
    reason: str
    calibration_seconds: float = 0.0
    lowerings: tuple = ()


def program_kind(jaxpr: Any) -> Optional[str]:
    """``"convolution"``, ``"dot"``, ``"random draws"`` (draws, and no dots or
    convolutions) or None, from the primitives of a (closed) jaxpr, looking inside loops
    and other nested programs."""
    names = _primitive_names(getattr(jaxpr, "jaxpr", jaxpr), set())
    if names & _CONVOLUTION_PRIMITIVES:
        return CONVOLUTION
    if names & _DOT_PRIMITIVES:
        return DOT
    if names & _RANDOM_PRIMITIVES:
        return RANDOM
    return None


def _primitive_names(jaxpr: Any, seen: set) -> set:
    for eqn in jaxpr.eqns:
        seen.add(eqn.primitive.name)
        for value in eqn.params.values():
            for sub in value if isinstance(value, (tuple, list)) else (value,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    _primitive_names(inner, seen)
    return seen


def choose(mode: str, platform_name: str, jaxpr: Any,
           lowerings: Optional["LoweringChooser"] = None, loops: bool = False) -> XlaChoice:
    """The options for a program traced as ``jaxpr``, to run on ``platform_name``, with
    the lowering choices ``lowerings`` made while it was traced; ``loops``: a deep program
    rolled into loops (``LOOP_OPTIONS``)."""
    choice = _choose_options(mode, platform_name, jaxpr)
    if loops and mode == "auto" and platform_name == "cpu":
        choice = dataclasses.replace(
            choice, name=f"{choice.name}+loops", options={**choice.options, **LOOP_OPTIONS},
            reason=f"{choice.reason}; rolled into loops: LLVM -O1 and region-based copy "
                   f"insertion, measured to compile loops faster and run them as fast")
    if lowerings is None or not lowerings.decisions:
        return choice
    return dataclasses.replace(
        choice, lowerings=tuple(lowerings.decisions.values()),
        calibration_seconds=choice.calibration_seconds + lowerings.calibration_seconds)


def _choose_options(mode: str, platform_name: str, jaxpr: Any) -> XlaChoice:
    if mode == "default":
        return XlaChoice("default", {}, "xla_options='default': XLA's own choices")
    if platform_name != "cpu":
        return XlaChoice("default", {}, f"{platform_name} program: XLA's own choices (only "
                                        f"CPU code paths are calibrated)")
    kind = program_kind(jaxpr)
    if kind is None:
        return XlaChoice("default", {}, "no dots, convolutions or random draws: XLA's own "
                                        "choices")
    return _CALIBRATION.verdict(kind)


class LoweringChooser:
    """Which alternative lowerings (``OpDef.alternatives``) one program gets, asked while
    it is traced (``registry.choosing_lowerings``): in ``"auto"`` mode on CPU, those
    measured faster than the op's own lowering on this machine; otherwise none.

    Attributes:
        decisions: ``"MaxPool/tiled-windows"`` -> a line saying what the program got, why.
        calibration_seconds: time this program's tracing spent calibrating.
    """

    def __init__(self, mode: str, platform_name: str):
        self._active = mode == "auto" and platform_name == "cpu"
        self._chosen: dict[str, bool] = {}
        self.decisions: dict[str, str] = {}
        self.calibration_seconds = 0.0

    def __call__(self, opdef: OpDef, alternative: Alternative) -> bool:
        if not self._active:
            return False
        key = f"{opdef.type}/{alternative.name}"
        if key not in self._chosen:
            entry, spent, where = _CALIBRATION.entry(
                "lowerings", key, lambda: _measure_alternative(opdef, alternative))
            self.calibration_seconds += spent
            chosen = entry["name"] == alternative.name
            self._chosen[key] = chosen
            self.decisions[key] = (
                f"{opdef.type}: {alternative.name if chosen else 'its own lowering'} "
                f"({f'{alternative.why}; ' if chosen else ''}{entry.get('why', 'cached verdict')}; "
                f"calibrated once in {float(entry.get('seconds', 0.0)):.1f} s, {where})")
        return self._chosen[key]


def cache_directory() -> str:
    """Where the calibration file lives: ``$GRAPHNN_CACHE_DIR``, else the XDG user cache."""
    if os.environ.get("GRAPHNN_CACHE_DIR"):
        return os.environ["GRAPHNN_CACHE_DIR"]
    # The XDG base-directory rule: a relative $XDG_CACHE_HOME is invalid and ignored.
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "graphnn")


def calibration_path() -> str:
    """The calibration file for this jaxlib (its version is in the name)."""
    return os.path.join(cache_directory(), f"xla_options-jaxlib-{jaxlib.__version__}.json")


def machine_fingerprint() -> str:
    """What makes a measurement valid elsewhere: processor model, architecture, core count."""
    model = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo
                          if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{model} | {platform.machine()} | {os.cpu_count()} cpus"


# ----- calibration workloads: small, representative, float32 ------------------------------
def _convolution_workload() -> tuple[Callable, tuple]:
    """A 5x5 convolution layer (32 -> 64 channels, 14x14, batch 64) forward and both
    gradients: large enough that the weight gradient's cost shows, as in real training
    (at batch 16, YNNPACK's advantage on a quiet machine disappears)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 14, 14, 32)).astype(np.float32)
    w = (rng.normal(size=(5, 5, 32, 64)) * 0.05).astype(np.float32)

    def layer(x, w):
        return jax.nn.relu(jax.lax.conv_general_dilated(
            x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")))

    def step(x, w):
        y, pullback = jax.vjp(layer, x, w)
        return (y, *pullback(y))
    return step, (x, w)


def _dot_workload() -> tuple[Callable, tuple]:
    """An MLP 784-256-256-10 (batch 128): loss and gradients of every weight."""
    rng = np.random.default_rng(0)
    sizes = (784, 256, 256, 10)
    weights = tuple((rng.normal(size=(a, b)) / np.sqrt(a)).astype(np.float32)
                    for a, b in zip(sizes[:-1], sizes[1:]))
    x = rng.normal(size=(128, sizes[0])).astype(np.float32)

    def loss(weights, x):
        h = x
        for w in weights[:-1]:
            h = jax.nn.relu(h @ w)
        return jnp.mean(jax.nn.log_softmax(h @ weights[-1]))

    return jax.value_and_grad(loss), (weights, x)


_WORKLOADS = {CONVOLUTION: (_convolution_workload, 1), DOT: (_dot_workload, 10)}


class _Calibration:
    """Verdicts by section (``"kinds"``: XLA options per program kind; ``"lowerings"``:
    alternative lowerings): from this process's memory, else the cache file, else
    measured (in a thread of its own) and written to the file."""

    def __init__(self):
        self._lock = threading.Lock()
        self._verdicts: dict[tuple, dict] = {}

    def entry(self, section: str, key: str, measure: Callable[[], dict]) -> tuple[dict, float, str]:
        """(verdict, seconds spent measuring it now, where it is cached in words)."""
        path = calibration_path()
        with self._lock:
            spent = 0.0
            entry = self._verdicts.get((path, section, key))
            if entry is None:
                entry = _read_cache(path)[section].get(key)
            if entry is None:
                start = time.perf_counter()
                entry = _in_own_thread(measure)
                spent = time.perf_counter() - start
                entry["seconds"] = round(spent, 3)
                entry["cached"] = _write_cache(path, section, key, entry)
            self._verdicts[(path, section, key)] = entry
        cached = entry.get("cached", True)
        return entry, spent, f"cached in {path}" if cached is True else f"not cached: {cached}"

    def verdict(self, kind: str) -> XlaChoice:
        measure = _measure_compile if kind == RANDOM else lambda: _measure(kind)
        entry, spent, where = self.entry("kinds", kind, measure)
        options = {**CANDIDATES, **COMPILE_CANDIDATES}.get(entry["name"], {})
        return XlaChoice(entry["name"], dict(options),
                         f"{kind} program: {entry.get('why', 'cached verdict')} (calibrated "
                         f"once in {float(entry.get('seconds', 0.0)):.1f} s, {where})", spent)


def _in_own_thread(function: Callable[[], dict]) -> dict:
    """``function()`` in a new thread: JAX's tracing state and its x64 and device contexts
    are per thread, so a measurement asked for while a program is traced stays out of it."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def fallback(choice: XlaChoice, error: Exception) -> XlaChoice:
    """XLA's defaults for a program that XLA refused to compile with ``choice``'s options."""
    return XlaChoice("default", {}, f"XLA refused {choice.name}'s options "
                                    f"({str(error).splitlines()[0]}), so XLA's own choices; "
                                    f"was: {choice.reason}", choice.calibration_seconds)


_CALIBRATION = _Calibration()


def _measure(kind: str) -> dict:
    """Times each accepted candidate against the default on ``kind``'s workload."""
    make, repeat = _WORKLOADS[kind]
    function, args = make()
    try:
        with jax.default_device(jax.devices("cpu")[0]):
            lowered = jax.jit(function).lower(*args)
            programs = {"default": lowered.compile()}
            expected = programs["default"](*args)
            notes = []
            for name, options in CANDIDATES.items():
                try:
                    program = lowered.compile(compiler_options=options)
                except Exception as error:  # noqa: BLE001 - an option this jaxlib does not know
                    notes.append(f"{name} not accepted by jaxlib {jaxlib.__version__}: "
                                 f"{str(error).splitlines()[0]}")
                    continue
                if _same_results(program(*args), expected):
                    programs[name] = program
                else:
                    notes.append(f"{name} gave different results")
            return _race(programs, args, repeat, "XLA's default", notes)
    except Exception as error:  # noqa: BLE001 - calibration must never break a compile
        return {"name": "default", "why": f"calibration failed ({type(error).__name__}: "
                                          f"{error}), so XLA's own choices"}


def _random_workload(offset: float) -> Callable:
    """An initializer's draw, two layers' weights (a program's own constant ``offset``
    keeps XLA from handing back a program it compiled before)."""
    def draw(key):
        first, second = jax.random.split(key)
        return [jax.random.normal(first, (256, 64)) * 0.1 + offset,
                jax.random.normal(second, (64,)) * 0.1 + offset]
    return draw


def _measure_compile() -> dict:
    """Compile time of each compile candidate against the default on an initializer's
    draws (alternating, each round a new program), then their run times (interleaved
    rounds) and values."""
    key = jax.random.key(0)
    compile_times: dict = {}
    programs: dict = {}
    notes = []
    try:
        with jax.default_device(jax.devices("cpu")[0]):
            names = ["default", *COMPILE_CANDIDATES]
            for round_ in range(2):
                for name in names[round_ % 2:] + names[:round_ % 2]:
                    lowered = jax.jit(_random_workload(float(round_))).lower(key)
                    start = time.perf_counter()
                    try:
                        programs[name] = lowered.compile(
                            compiler_options=COMPILE_CANDIDATES.get(name, {}))
                    except Exception as error:  # noqa: BLE001 - an option jaxlib refuses
                        notes.append(f"{name} not accepted: {str(error).splitlines()[0]}")
                        names.remove(name)
                        continue
                    compile_times.setdefault(name, []).append(time.perf_counter() - start)
            for name in names[1:]:
                if not all(np.array_equal(a, b) for a, b in zip(programs[name](key),
                                                                programs["default"](key))):
                    notes.append(f"{name} gave different results")
                    names.remove(name)
            run_times: dict = {name: [] for name in names}
            for _ in range(ROUNDS):
                for name in names:
                    run_times[name].append(_time(programs[name], (key,), 20) / 20)
    except Exception as error:  # noqa: BLE001 - calibration must never break a compile
        return {"name": "default", "why": f"calibration failed ({type(error).__name__}: "
                                          f"{error}), so XLA's own choices"}
    candidates = [name for name in names if name != "default"]
    speedups = {name: statistics.median(d / c for d, c in zip(compile_times["default"],
                                                                compile_times[name]))
                for name in candidates}
    saved = {name: min(compile_times["default"]) - min(compile_times[name]) for name in candidates}
    lost = {name: statistics.median(run_times[name]) - statistics.median(run_times["default"])
            for name in candidates}
    measured = ", ".join(f"{name} compiled {speedups[name]:.2f}x as fast, saving "
                         f"{saved[name] * 1e3:.0f} ms, and ran {lost[name] * 1e6:+.1f} us"
                         for name in candidates)
    winners = [name for name in candidates if speedups[name] >= MARGIN
               and (lost[name] <= 0 or saved[name] >= BREAK_EVEN_RUNS * lost[name])]
    best = max(winners, key=speedups.get) if winners else "default"
    why = (f"{best} compiled an initializer's draws {speedups[best]:.2f}x as fast as XLA's "
           f"default, with the same values; the time saved pays for over "
           f"{BREAK_EVEN_RUNS} runs ({measured})" if winners else
           f"nothing compiled {MARGIN:.2f}x as fast at a run-time cost repaid within "
           f"{BREAK_EVEN_RUNS} runs ({measured or 'nothing to try'})")
    return {"name": best, "why": "; ".join([why, *notes]), "speedups": speedups}


def _measure_alternative(opdef: OpDef, alternative: Alternative) -> dict:
    """Times an alternative lowering against the op's own on the alternative's workload:
    the op's forward and its gradient with respect to every floating-point input."""
    sample = alternative.workload(np.random.default_rng(0))
    inputs = tuple(np.asarray(value) for value in sample.inputs)
    floats = [i for i, value in enumerate(inputs) if value.dtype.kind == "f"]

    def workload(lower: Callable) -> Callable:
        def step(*values):
            def along(*differentiated):
                args = list(values)
                for i, value in zip(floats, differentiated):
                    args[i] = value
                return lower(*args, **sample.attrs)
            result, pullback = jax.vjp(along, *[values[i] for i in floats])
            return (result, *pullback(result))
        return step
    try:
        with jax.default_device(jax.devices("cpu")[0]):
            programs = {name: jax.jit(workload(lower)).lower(*inputs).compile()
                        for name, lower in (("default", opdef.lower),
                                            (alternative.name, alternative.lower))}
            if not _same_results(programs[alternative.name](*inputs),
                                 programs["default"](*inputs)):
                return {"name": "default", "why": f"{alternative.name} gave different results "
                                                  f"on its workload, so the op's own lowering"}
            return _race(programs, inputs, 1, "the op's own lowering", [])
    except Exception as error:  # noqa: BLE001 - calibration must never break a compile
        return {"name": "default", "why": f"calibration failed ({type(error).__name__}: "
                                          f"{error}), so the op's own lowering"}


def _same_results(got: Any, expected: Any) -> bool:
    return all(np.allclose(g, e, rtol=RTOL, atol=RTOL * float(np.max(np.abs(e), initial=0.0)),
                           equal_nan=True)
               for g, e in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(expected)))


def _race(programs: dict, args: tuple, repeat: int, baseline: str, notes: list) -> dict:
    """Times ``programs`` (``"default"`` and the candidates, each compiled) in interleaved
    rounds; the verdict names the winner (``"default"`` when none clears the margin)."""
    ratios = {name: [] for name in programs if name != "default"}
    times = {name: [] for name in programs}
    start = time.perf_counter()
    rounds = 0
    while ratios and rounds < ROUNDS and (rounds < 3 or (
            time.perf_counter() - start < ROUND_BUDGET and not _settled(ratios))):
        names = list(programs)
        names = names[rounds % len(names):] + names[:rounds % len(names)]  # no favoured slot
        for name in names:
            times[name].append(_time(programs[name], args, repeat))
        for name in ratios:
            ratios[name].append(times["default"][-1] / times[name][-1])
        rounds += 1
    speedups = {name: statistics.median(r) for name, r in ratios.items()}
    measured = ", ".join(f"{name} {s:.2f}x" for name, s in speedups.items())
    best_times = {name: min(t) for name, t in times.items()}
    winners = [name for name, r in ratios.items()
               if speedups[name] >= MARGIN and sum(x > 1.0 for x in r) >= WIN_SHARE * rounds
               and best_times["default"] >= MARGIN * best_times[name]]
    if winners:
        best = max(winners, key=speedups.get)
        why = (f"{best} ran the calibration workload {speedups[best]:.2f}x as fast as "
               f"{baseline} (median of {rounds} rounds; {measured})")
    else:
        best = "default"
        why = (f"nothing beat {baseline} by the {MARGIN:.2f}x margin "
               f"({measured or 'nothing to try'})")
    if notes:
        why += "; " + "; ".join(notes)
    return {"name": best, "why": why, "speedups": speedups}


def _settled(ratios: dict) -> bool:
    """Every candidate has won each round by the margin, or lost each: more rounds would
    not change the verdict (they run when the rounds disagree, on a noisy machine)."""
    return all(min(r) >= MARGIN or max(r) < 1.0 for r in ratios.values())


def _time(program: Any, args: tuple, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        result = program(*args)
    jax.block_until_ready(result)
    return time.perf_counter() - start


def _read_cache(path: str) -> dict:
    """The file's valid verdicts by section; empty sections for a missing or foreign file."""
    sections: dict = {"kinds": {}, "lowerings": {}}
    try:
        with open(path, encoding="utf-8") as file:
            content = json.load(file)
    except (OSError, ValueError):
        return sections
    if not isinstance(content, dict) or content.get("format") != CACHE_FORMAT \
            or content.get("machine") != machine_fingerprint():
        return sections
    for section, valid in (("kinds", lambda key, name: name in ("default", *CANDIDATES,
                                                                *COMPILE_CANDIDATES)),
                           ("lowerings", lambda key, name: name in ("default",
                                                                    key.rpartition("/")[2]))):
        stored = content.get(section)
        if isinstance(stored, dict):
            sections[section] = {key: entry for key, entry in stored.items()
                                 if isinstance(entry, dict) and valid(key, entry.get("name"))}
    return sections


def _write_cache(path: str, section: str, key: str, entry: dict):
    """Adds a verdict to the file; True, or why it could not be written."""
    sections = _read_cache(path)
    sections[section][key] = {**entry, "cached": True}
    content = {"format": CACHE_FORMAT, "jaxlib": jaxlib.__version__,
               "machine": machine_fingerprint(), **sections}
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # Written whole, then renamed: another process never reads half a file.
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(content, file, indent=1, sort_keys=True)
        os.replace(temporary, path)
    except OSError as error:
        return f"{type(error).__name__}: {error}"
    return True
