"""gn.distribute.initialize: 2 processes on 127.0.0.1 with 2 CPU devices each train the
model of ``programs/mlp.py`` (fit, evaluate, predict) to what one process on one device
gets."""
import importlib.util
import pathlib
import socket

import jax
import numpy as np
import pytest

PROGRAMS = pathlib.Path(__file__).parent / "programs"
# Multi-process runs on CPU need a CPU collectives implementation (gloo) in jaxlib.
CPU_COLLECTIVES = jax.config.values.get("jax_cpu_collectives_implementation")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _one_process_results() -> dict:
    spec = importlib.util.spec_from_file_location("distribute_mlp", PROGRAMS / "mlp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.train_model(None)


@pytest.mark.skipif(CPU_COLLECTIVES in (None, "none"),
                    reason=f"this jaxlib has no CPU multi-process collectives "
                           f"(jax_cpu_collectives_implementation={CPU_COLLECTIVES!r})")
def test_two_processes_train_to_the_weights_of_one(program, tmp_path):
    port = str(_free_port())
    outs = [tmp_path / f"process{i}.npz" for i in range(2)]
    processes = [program.start("multihost.py", str(i), port, str(out))
                 for i, out in enumerate(outs)]
    try:
        finished = [p.communicate(timeout=300) for p in processes]
    finally:
        for p in processes:
            p.kill()
    for p, (stdout, stderr) in zip(processes, finished):
        assert p.returncode == 0, stderr[-4000:]
    expected = _one_process_results()
    for out in outs:
        got = np.load(out)
        assert sorted(got.files) == sorted(expected)
        for key, value in expected.items():
            np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-6, err_msg=key)
