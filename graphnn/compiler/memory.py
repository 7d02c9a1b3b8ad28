"""Refusing a program that cannot fit: XLA's memory analysis against the device's free memory.

A program whose buffers exceed memory does not fail cleanly inside XLA: the process
aborts, and variables donated to the run are gone. So before a compiled program first
runs, its new allocations (outputs not updated in place, temporaries, and on an
accelerator the arguments copied there) are compared with what the device has free,
and a program that cannot fit is refused with a ``ResourceExhaustedError`` naming the
largest tensors of the run and the ops that make them. This runs once per compiled
program, never per step.
"""
from __future__ import annotations

import math
import os
from typing import Any, Optional

import jax
import numpy as np

from graphnn.compiler.plan import Plan
from graphnn.errors import ResourceExhaustedError

# The error names at most this many of the largest tensors.
LARGEST_NAMED = 3
_UNITS = ("KiB", "MiB", "GiB", "TiB")


def check_fits(compiled: Any, plan: Plan, device: Any, transferred_bytes: int) -> None:
    """Raises ``ResourceExhaustedError`` when ``compiled`` needs more memory than is free.

    Args:
        compiled: a ``jax.stages.Compiled`` program.
        plan: the plan it was lowered from (for naming the tensors that take the memory).
        device: the device it runs on; None means JAX's default device.
        transferred_bytes: bytes of host arguments (feeds, constants) the run passes in.
    """
    analysis = compiled.memory_analysis()
    if analysis is None:
        return
    _refuse_unless_free(analysis.output_size_in_bytes - analysis.alias_size_in_bytes,
                        analysis.temp_size_in_bytes, transferred_bytes, plan, device)


def check_stored_fit(stored_bytes: int, plan: Plan, device: Any) -> None:
    """``check_fits`` for a run without an XLA program that puts ``stored_bytes`` of
    values known at compile time on ``device`` (``compiler.lowering``)."""
    _refuse_unless_free(stored_bytes, 0, 0, plan, device)


def _refuse_unless_free(new: int, temporaries: int, transferred_bytes: int, plan: Plan,
                        device: Any) -> None:
    device = _resolve(device)
    free = available_bytes(device)
    if free is None:
        return
    needed = new + temporaries
    if device.platform != "cpu":
        needed += transferred_bytes  # on the host already, but copied to the accelerator
    if needed <= free:
        return
    largest = _largest_tensors(plan)
    names = "; ".join(f"'{t.name}' {t.dtype.name} {tuple(t.shape.as_list())} "
                      f"({format_bytes(size)}) made by {t.op.describe()}" for size, t in largest)
    raise ResourceExhaustedError(
        f"This run needs {format_bytes(needed)} of new memory on {device} (outputs "
        f"{format_bytes(new)}, temporaries {format_bytes(temporaries)}), but "
        f"only {format_bytes(free)} is free, so it was not started and no variable changed. "
        f"Largest tensors: {names or 'none of known shape'}. Feed smaller batches or make "
        f"these tensors smaller.", largest[0][1].op if largest else None)


def available_bytes(device: Any) -> Optional[int]:
    """Free memory of ``device`` in bytes: the host's available RAM for a CPU, the
    allocator's limit minus what is in use for an accelerator; None when unknown."""
    if device.platform == "cpu":
        return _host_available_bytes()
    stats = device.memory_stats()
    if not stats or "bytes_limit" not in stats:
        return None
    return stats["bytes_limit"] - stats.get("bytes_in_use", 0)


def format_bytes(count: int) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    if count < 1024:
        return f"{count} bytes"
    exponent = min(len(_UNITS), int(math.log(count, 1024)))
    return f"{count / 1024 ** exponent:.1f} {_UNITS[exponent - 1]}"


def _resolve(device: Any) -> Any:
    if device is not None:
        return device
    default = jax.config.jax_default_device
    return default if isinstance(default, jax.Device) else jax.devices()[0]


def _host_available_bytes() -> Optional[int]:
    # MemAvailable counts reclaimable caches, which is what a large allocation can get.
    try:
        with open("/proc/meminfo", "rb") as file:
            for line in file:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _largest_tensors(plan: Plan) -> list:
    sized = []
    for op in plan.ops:
        for tensor in op.outputs:
            if tensor.shape.is_fully_defined():
                count = int(np.prod(tensor.shape.as_list(), dtype=np.float64))
                sized.append((count * tensor.dtype.as_numpy_dtype.itemsize, tensor))
    sized.sort(key=lambda pair: -pair[0])
    # Tensors far smaller than the largest are not where the memory goes.
    return [pair for pair in sized[:LARGEST_NAMED] if pair[0] * 100 >= sized[0][0]]
