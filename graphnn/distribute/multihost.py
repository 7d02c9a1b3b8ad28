"""Several processes (machines) as one set of devices: ``jax.distributed`` under graphnn's name.

After ``initialize``, ``jax.devices()`` lists every process's devices, so a
``MirroredStrategy()`` spans them all. Every process runs the same program (SPMD):
each builds the same graph, creates its sessions in the same order and feeds the same
global values; each process places its own devices' part of a feed, and every fetched
value comes back whole in every process.
"""
from __future__ import annotations

from typing import Optional, Sequence

import jax


def initialize(coordinator_address: Optional[str] = None, num_processes: Optional[int] = None,
               process_id: Optional[int] = None,
               local_device_ids: Optional[Sequence[int]] = None) -> None:
    """Joins this process to a multi-process run (wraps ``jax.distributed.initialize``).

    Call it before anything runs on a device (``import graphnn`` starts no backend).
    On a cluster JAX recognizes (SLURM, Cloud TPU ...) the arguments may be omitted.

    Args:
        coordinator_address: ``"host:port"`` of process 0, which every process can reach.
        num_processes: how many processes take part.
        process_id: this process's number, 0 .. num_processes - 1.
        local_device_ids: the local devices this process uses (default: all).

    Example:
        >>> gn.distribute.initialize("10.0.0.1:1234", num_processes=2, process_id=0)
        >>> strategy = gn.distribute.MirroredStrategy()   # every process's devices

    Raises:
        RuntimeError: a backend already started in this process, or the coordinator
            could not be reached (JAX's error).
    """
    jax.distributed.initialize(coordinator_address, num_processes, process_id,
                               local_device_ids=local_device_ids)


def shutdown() -> None:
    """Leaves the multi-process run (``jax.distributed.shutdown``)."""
    jax.distributed.shutdown()
