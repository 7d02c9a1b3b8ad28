"""What XLA estimates a compiled program costs: operations and memory (``compile_report``)."""
from __future__ import annotations

import dataclasses
from typing import Any, Optional

from graphnn.compiler.memory import format_bytes


@dataclasses.dataclass(frozen=True)
class ProgramCost:
    """XLA's estimates for one compiled program (``compiled.cost_analysis()`` and
    ``memory_analysis()``); a field is None where the backend gives no estimate.

    Attributes:
        flops: floating-point operations of one run.
        transcendentals: exp, log, tanh ... evaluations of one run.
        bytes_accessed: bytes read and written by the program's operations.
        argument_bytes: inputs: feeds, variables, large constants.
        output_bytes: outputs: updated variables, fetched values.
        alias_bytes: outputs written in place of their inputs (donated variables).
        temp_bytes: temporary buffers.
        generated_code_bytes: size of the generated machine code.
    """

    flops: Optional[float]
    transcendentals: Optional[float]
    bytes_accessed: Optional[float]
    argument_bytes: Optional[int]
    output_bytes: Optional[int]
    alias_bytes: Optional[int]
    temp_bytes: Optional[int]
    generated_code_bytes: Optional[int]

    def __str__(self) -> str:
        def count(value: Optional[float]) -> str:
            return "?" if value is None else f"{value:,.0f}"

        def size(value: Optional[float]) -> str:
            return "?" if value is None else format_bytes(int(value))

        return (f"XLA estimate: {count(self.flops)} FLOPs, {count(self.transcendentals)} "
                f"transcendentals, {size(self.bytes_accessed)} accessed; memory: arguments "
                f"{size(self.argument_bytes)}, outputs {size(self.output_bytes)} (in place "
                f"{size(self.alias_bytes)}), temporaries {size(self.temp_bytes)}, code "
                f"{size(self.generated_code_bytes)}")


def program_cost(compiled: Any) -> ProgramCost:
    """The estimates of a ``jax.stages.Compiled`` program."""
    analysis = compiled.cost_analysis()
    if isinstance(analysis, (list, tuple)):  # older JAX: one dict per partition
        analysis = analysis[0] if analysis else None
    costs = analysis or {}
    memory = compiled.memory_analysis()

    def stat(name: str) -> Optional[int]:
        return None if memory is None else int(getattr(memory, name))

    return ProgramCost(flops=costs.get("flops"), transcendentals=costs.get("transcendentals"),
                       bytes_accessed=costs.get("bytes accessed"),
                       argument_bytes=stat("argument_size_in_bytes"),
                       output_bytes=stat("output_size_in_bytes"),
                       alias_bytes=stat("alias_size_in_bytes"),
                       temp_bytes=stat("temp_size_in_bytes"),
                       generated_code_bytes=stat("generated_code_size_in_bytes"))
