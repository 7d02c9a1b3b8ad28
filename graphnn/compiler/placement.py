"""Where a program's arguments live on a device mesh: the shardings ``jax.jit`` is given.

A ``MeshPlacement`` describes data parallelism over a ``jax.sharding.Mesh`` with a
``"batch"`` axis (and optionally a ``"model"`` axis). It only says where each argument
and result lives; XLA's SPMD partitioner then partitions the one program over the
mesh and inserts the collectives (the all-reduce of gradients, for instance). Nothing
here computes or communicates by itself.

- A fed tensor whose static leading dimension is unknown (``None``) is split along it
  over the ``"batch"`` axis (in a ``run_loop`` along axis 1, the per-step batch axis;
  the step axis is never split); every other feed is replicated.
- A variable is replicated, unless the mesh has a ``"model"`` axis and the variable is
  a matrix of at least ``min_shard_elements`` elements whose last dimension that axis
  divides: then its columns are split over the ``"model"`` axis.
- Everything a run fetches comes back replicated, so every process of a multi-process
  run can read it.
- On CPU devices, each run waits for its program (``waits``), and a split run for each
  segment: XLA:CPU's in-process collectives deadlock when the next partitioned program
  is dispatched while one is still running (seen with jaxlib 0.10.2 on 2 cores: an
  all-reduce whose rendezvous never completes aborts the process, for whole programs and
  for segments alike), so runs there are not pipelined.
- A split program (``compiler.split_executable``) applies these rules to each segment;
  values passed between segments keep the layout XLA chose for them.

``collectives`` and ``placement_notes`` feed ``compile_report``: the collectives XLA put
in a compiled program, and where ops pinned by ``gn.device`` ran (soft placement).
"""
from __future__ import annotations

import math
import re
from typing import Any, Optional, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from graphnn.errors import InvalidArgumentError
from graphnn.framework.devices import DeviceSpec
from graphnn.framework.graph import Operation
from graphnn.framework.tensor import Tensor

BATCH_AXIS = "batch"
MODEL_AXIS = "model"


class MeshPlacement:
    """The shardings of feeds, variables and results on one mesh.

    Args:
        mesh: a Mesh whose axes are ``("batch",)`` or ``("batch", "model")``.
        min_shard_elements: the size from which a matrix is split over ``"model"``.
    """

    def __init__(self, mesh: Mesh, min_shard_elements: int = 1 << 16):
        self.mesh = mesh
        self.replicas = mesh.shape[BATCH_AXIS]
        self.model_shards = mesh.shape.get(MODEL_AXIS, 1)
        self.min_shard_elements = min_shard_elements
        self.replicated = NamedSharding(mesh, PartitionSpec())
        # jit places numpy arguments itself, but only on devices this process owns.
        self.fully_addressable = all(d.process_index == jax.process_index()
                                     for d in mesh.devices.flat)
        local = [d for d in mesh.devices.flat if d.process_index == jax.process_index()]
        self.waits = len(local) > 1 and any(d.platform == "cpu" for d in local)

    @property
    def devices(self) -> list:
        return list(self.mesh.devices.flat)

    def feed(self, tensor: Tensor, shape: Sequence[int], steps: Optional[int]) -> NamedSharding:
        """The sharding of the value fed to ``tensor`` (per step when ``steps`` is given).

        Raises:
            InvalidArgumentError: a split batch that the replica count does not divide.
        """
        dims = tensor.shape.as_list() if tensor.shape.ndims else None
        if not dims or dims[0] is not None or self.replicas == 1:
            return self.replicated
        batch = shape[0]
        if batch % self.replicas:
            raise InvalidArgumentError(
                f"Cannot split the batch of {batch} fed to '{tensor.name}' over "
                f"{self.replicas} replicas: MirroredStrategy splits a feed whose leading "
                f"dimension is None along it, so its length must be a multiple of "
                f"{self.replicas} (drop or pad the last batch); {tensor.op.describe()}",
                tensor.op)
        spec = (BATCH_AXIS,) if steps is None else (None, BATCH_AXIS)
        return NamedSharding(self.mesh, PartitionSpec(*spec))

    def step_sharding(self, sharding: NamedSharding) -> NamedSharding:
        """The sharding of one step's slice of a ``run_loop`` feed placed with ``sharding``
        (a split program feeds its segments one step at a time)."""
        return NamedSharding(self.mesh, PartitionSpec(*sharding.spec[1:]))

    def stacked_sharding(self, sharding: NamedSharding) -> NamedSharding:
        """The sharding of values placed with ``sharding`` stacked along a new leading axis
        (a rolled loop's per-iteration feeds)."""
        return NamedSharding(self.mesh, PartitionSpec(None, *sharding.spec))

    def variable(self, variable: Operation) -> NamedSharding:
        """Replicated, or a large matrix's columns split over the ``"model"`` axis."""
        shape = variable.attrs["shape"].as_list()
        if (self.model_shards > 1 and len(shape) == 2 and math.prod(shape) >= self.min_shard_elements
                and shape[1] % self.model_shards == 0):
            return NamedSharding(self.mesh, PartitionSpec(None, MODEL_AXIS))
        return self.replicated

    def put(self, value: Any, sharding: NamedSharding) -> jax.Array:
        """``value`` (the same whole value in every process) placed with ``sharding``."""
        return jax.device_put(value, sharding)

    def put_all(self, values: Sequence[Any], shardings: Sequence[NamedSharding]) -> list:
        """Numpy arguments placed for a run; jit does this itself when it may (one process)."""
        if self.fully_addressable:
            return list(values)
        return [jax.device_put(v, s) if isinstance(v, np.ndarray) else v
                for v, s in zip(values, shardings)]


_COLLECTIVE = re.compile(r"\b(all-reduce|all-gather|reduce-scatter|collective-permute|all-to-all)"
                         r"(?:-start)?\(")


def collectives(compiled: Any) -> dict[str, int]:
    """How many of each collective (``all-reduce`` ...) the compiled program's HLO holds."""
    counts: dict[str, int] = {}
    if compiled is None:
        return counts
    for match in _COLLECTIVE.finditer(compiled.as_text() or ""):
        counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return counts


def placement_notes(ops: Sequence[Operation], devices: Sequence[Any]) -> list[str]:
    """Where the ops pinned with ``gn.device`` run: with the rest of the run, on ``devices``.

    A run is one program on its session's devices, so a request for another device is
    followed only as far as that program runs there (TF 1's soft placement).
    """
    requested: dict[str, list[str]] = {}
    for op in ops:
        if op.device:
            requested.setdefault(op.device, []).append(op.name)
    where = ", ".join(map(str, devices[:4])) + (f" and {len(devices) - 4} more"
                                                if len(devices) > 4 else "")
    notes = []
    for spec, names in requested.items():
        parsed = DeviceSpec.from_string(spec)
        shown = ", ".join(f"'{n}'" for n in names[:3]) + (
            f" and {len(names) - 3} more" if len(names) > 3 else "")
        subject = f"{len(names)} op{'s' if len(names) > 1 else ''} pinned to {spec} ({shown})"
        if any(_matches(parsed, d) for d in devices):
            notes.append(f"{subject}: run there, in the run's program on {where}")
        elif any(_matches(parsed, d) for d in jax.devices()):
            notes.append(f"{subject}: follow the session to {where} (soft placement: a run "
                         f"executes where its session runs it)")
        else:
            notes.append(f"{subject}: no such device here; they follow the session to {where} "
                         f"(soft placement)")
    return notes


def _matches(spec: DeviceSpec, device: Any) -> bool:
    return ((spec.device_type is None or spec.device_type.lower() == device.platform)
            and (spec.device_index is None or spec.device_index == device.id)
            and (spec.task is None or spec.task == device.process_index))
