"""``MirroredStrategy``: one graph, run data-parallel over many devices by XLA's SPMD machinery.

The strategy names the devices and lays them out as a ``jax.sharding.Mesh``; a Session
given the strategy (``gn.Session(strategy=...)``, or any Session or model created inside
``strategy.scope()``) compiles each run as ONE program over that mesh (a program large
enough to be split: each of its segments, see ``compiler.split_executable``): feeds whose
leading dimension is None are split along it, everything else is replicated, and XLA's
partitioner inserts the collectives (``compiler.placement`` has the rules). A mean over
the batch is therefore a mean over the global batch, and results equal a one-device run
within float tolerance.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional, Sequence

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh

from graphnn.compiler.placement import BATCH_AXIS, MODEL_AXIS, MeshPlacement
from graphnn.framework.devices import DeviceSpec

_scopes: list[MirroredStrategy] = []


def _as_device(device: Any) -> jax.Device:
    if isinstance(device, jax.Device):
        return device
    spec = DeviceSpec.from_string(device)
    if spec.device_type is None:
        raise ValueError(f"MirroredStrategy: {device!r} names no device type (such as '/gpu:0')")
    kind = spec.device_type.lower()
    try:
        candidates = jax.devices(kind)
    except RuntimeError:
        raise ValueError(f"MirroredStrategy: JAX has no {kind} device here (it has "
                         f"{', '.join(str(d) for d in jax.devices())})") from None
    if spec.task is not None:
        candidates = [d for d in candidates if d.process_index == spec.task]
    index = spec.device_index or 0
    if index >= len(candidates):
        raise ValueError(f"MirroredStrategy: {device!r} asks for {kind} device {index}, but "
                         f"there are {len(candidates)}")
    return candidates[index]


class MirroredStrategy:
    """Data parallelism over several devices (TF's name), on a ``jax.sharding.Mesh``.

    Args:
        devices: jax Devices or TF 1 device strings (``["/gpu:0", "/gpu:1"]``); None means
            every device of JAX's default backend, every process's after ``initialize``.
        model_shards: split the devices into ``len(devices) // model_shards`` replicas of
            ``model_shards`` devices each: matrices of at least ``min_shard_elements``
            elements are then stored with their columns split over a replica's devices
            (a ``"model"`` mesh axis) instead of whole on each device.
        min_shard_elements: see ``model_shards``.

    Example:
        >>> strategy = gn.distribute.MirroredStrategy()
        >>> sess = gn.Session(strategy=strategy)   # feeds split over the replicas
        >>> with strategy.scope():
        ...     model = gn.models.Sequential([gn.layers.Dense(10, input_shape=(4,))])
    """

    def __init__(self, devices: Optional[Sequence[Any]] = None, model_shards: int = 1,
                 min_shard_elements: int = 1 << 16):
        chosen = jax.devices() if devices is None else [_as_device(d) for d in devices]
        if not chosen:
            raise ValueError("MirroredStrategy needs at least one device")
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"MirroredStrategy: a device is named twice in {list(devices)}")
        if model_shards < 1 or len(chosen) % model_shards:
            raise ValueError(f"MirroredStrategy: model_shards={model_shards} must divide the "
                             f"{len(chosen)} devices")
        grid = np.array(chosen, dtype=object).reshape(len(chosen) // model_shards, model_shards)
        mesh = Mesh(grid, (BATCH_AXIS, MODEL_AXIS)) if model_shards > 1 else \
            Mesh(grid[:, 0], (BATCH_AXIS,))
        self.placement = MeshPlacement(mesh, min_shard_elements)

    @property
    def num_replicas_in_sync(self) -> int:
        """How many copies of the model train in step (the batch is split this many ways)."""
        return self.placement.replicas

    @property
    def devices(self) -> list:
        """The devices the strategy runs on."""
        return self.placement.devices

    @property
    def mesh(self) -> Mesh:
        """The ``jax.sharding.Mesh`` that runs are partitioned over."""
        return self.placement.mesh

    @contextlib.contextmanager
    def scope(self) -> Iterator[MirroredStrategy]:
        """Sessions and models created inside run on this strategy."""
        _scopes.append(self)
        try:
            yield self
        finally:
            _scopes.remove(self)

    def common_seed(self, seed: int) -> int:
        """``seed`` as process 0 has it: every process of a run must trace the same program."""
        if jax.process_count() == 1:
            return seed
        return int(multihost_utils.broadcast_one_to_all(np.uint32(seed)))

    def __repr__(self) -> str:
        shape = ", ".join(f"{k}={v}" for k, v in self.mesh.shape.items())
        return f"<gn.distribute.MirroredStrategy {len(self.devices)} devices ({shape})>"


def get_strategy() -> Optional[MirroredStrategy]:
    """The strategy whose ``scope()`` is innermost, or None."""
    return _scopes[-1] if _scopes else None
