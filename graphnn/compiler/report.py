"""CompileReport: what the compiler did for one run (DESIGN §4)."""
from __future__ import annotations

import dataclasses
from typing import Any, Optional

from graphnn.compiler.cost import ProgramCost
from graphnn.compiler.xla_options import XlaChoice
from graphnn.framework.graph import Graph


@dataclasses.dataclass
class CompileReport:
    """The passes, XLA compile time and optimized graph of one compiled run.

    Attributes:
        passes: PassRecords in pipeline order (name, nodes_before, nodes_after,
            rewrites, seconds).
        xla_compile_seconds: time XLA took to compile the lowered program.
        trace_seconds: time to lower the optimized graph to JAX and trace it.
        optimized_graph: the optimized copy, an ordinary gn.Graph (gn.viz draws it).
        compiled_shapes: every feed signature compiled so far for these fetches,
            as a list of {placeholder name: shape}.
        xla_choice: the XLA options the program got and why (``compiler.xla_options``).
        xla_options: those options as given to XLA (empty: XLA's defaults).
        calibration_seconds: time spent measuring this machine to make that choice
            (once per machine and jaxlib; 0.0 when the verdict was cached). It is not
            part of ``xla_compile_seconds``.
        cost: XLA's estimate of the compiled program's FLOPs and memory (``ProgramCost``:
            ``.flops``, ``.bytes_accessed``, ``.temp_bytes`` ...), None when unknown; for a
            split program, summed over the segments a run dispatches.
        devices: the JAX devices the program runs on.
        placement: what became of the ops pinned with ``gn.device`` (soft placement).
        collectives: {HLO collective, e.g. ``"all-reduce"``: count} in the compiled program
            (XLA's partitioner inserts them under a ``MirroredStrategy``); for a split
            program, summed over the segments a run dispatches (``split.collectives``
            has them per segment).
        shardings: {fed tensor or variable name: its ``jax.sharding.Sharding``} as the
            compiled program takes it.
        split: how a large program was cut into separately compiled segments and why
            (``SplitSummary``: ``.sizes``, ``.distinct``, ``.cache_hits`` ...), None when
            it was compiled whole. Its times above are then totals over the distinct
            segments.
    """

    passes: list
    xla_compile_seconds: Optional[float]
    trace_seconds: Optional[float]
    optimized_graph: Graph
    compiled_shapes: list
    xla_choice: Optional[XlaChoice] = None
    cost: Optional[ProgramCost] = None
    devices: list = dataclasses.field(default_factory=list)
    placement: list = dataclasses.field(default_factory=list)
    collectives: dict = dataclasses.field(default_factory=dict)
    shardings: dict = dataclasses.field(default_factory=dict)
    split: Optional[Any] = None

    @property
    def xla_options(self) -> dict:
        return dict(self.xla_choice.options) if self.xla_choice is not None else {}

    @property
    def calibration_seconds(self) -> float:
        return self.xla_choice.calibration_seconds if self.xla_choice is not None else 0.0

    def __str__(self) -> str:
        lines = [f"{'pass':30s} {'nodes':>13s} {'ms':>8s}  rewrites",
                 "-" * 78]
        for record in self.passes:
            fired = ", ".join(f"{name} x{count}" for name, count in sorted(record.rewrites.items()))
            nodes = f"{record.nodes_before} -> {record.nodes_after}"
            lines.append(f"{record.name:30s} {nodes:>13s} {record.seconds * 1e3:8.2f}  "
                         f"{fired or '-'}")
        lines.append("-" * 78)
        if self.trace_seconds is not None:
            lines.append(f"{'lower to JAX (trace)':30s} {'':>13s} {self.trace_seconds * 1e3:8.2f}")
        if self.xla_compile_seconds is not None:
            lines.append(f"{'XLA compile':30s} {'':>13s} {self.xla_compile_seconds * 1e3:8.2f}")
        if self.xla_choice is not None:
            if self.xla_choice.calibration_seconds:
                lines.append(f"{'XLA options calibration':30s} {'':>13s} "
                             f"{self.xla_choice.calibration_seconds * 1e3:8.2f}  (once per "
                             f"machine and jaxlib; XLA options and lowerings)")
            given = ", ".join(f"{k}={v}" for k, v in self.xla_choice.options.items())
            lines.append(f"XLA options: {self.xla_choice.name}"
                         f"{f' ({given})' if given else ''}: {self.xla_choice.reason}")
            lines += [f"lowering of {line}" for line in self.xla_choice.lowerings]
        if self.cost is not None:
            lines.append(str(self.cost))
        if len(self.devices) > 1 or self.collectives:
            counted = ", ".join(f"{name} x{n}" for name, n in sorted(self.collectives.items()))
            lines.append(f"runs on {len(self.devices)} devices; collectives: {counted or 'none'}")
        lines.extend(f"placement: {note}" for note in self.placement)
        if self.split is not None:
            lines.append(f"program {self.split}")
        for shapes in self.compiled_shapes:
            described = ", ".join(f"{name}: {tuple(shape)}" for name, shape in shapes.items())
            lines.append(f"compiled for feeds {{{described}}}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))
