"""Devices and data parallelism on JAX's SPMD machinery (DESIGN §7).

``MirroredStrategy`` runs one graph data-parallel over the devices of a machine, or of
several after ``initialize``; ``gn.device`` records device requests on ops.
"""
from graphnn.distribute.multihost import initialize, shutdown
from graphnn.distribute.strategy import MirroredStrategy, get_strategy

__all__ = ["MirroredStrategy", "get_strategy", "initialize", "shutdown"]
