"""One process of the multi-process test: ``multihost.py PROCESS_ID PORT OUT``.

Forces 2 CPU devices, joins a 2-process run on 127.0.0.1:PORT (after ``import graphnn``,
which must start no JAX backend), trains the model of ``mlp.py`` under a
MirroredStrategy over all 4 devices (``fit``, ``evaluate``, ``predict``: every feed split
over both processes, every result read back in each) and writes what they gave to OUT
(an .npz).
"""
import os
import sys

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from jax._src import xla_bridge  # noqa: E402

import graphnn as gn  # noqa: E402
import mlp  # noqa: E402

process_id, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
assert not xla_bridge.backends_are_initialized(), "import graphnn started a JAX backend"
gn.distribute.initialize(f"127.0.0.1:{port}", num_processes=2, process_id=process_id)
strategy = gn.distribute.MirroredStrategy()
assert strategy.num_replicas_in_sync == 4, strategy
results = mlp.train_model(strategy)
np.savez(out, **results)
gn.distribute.shutdown()
