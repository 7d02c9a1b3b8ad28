import json
import os
import pathlib
import subprocess
import sys

import pytest

PROGRAMS = pathlib.Path(__file__).parent / "programs"
ROOT = pathlib.Path(__file__).parents[2]


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    env.pop("XLA_FLAGS", None)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def _start(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    env.pop("XLA_FLAGS", None)
    return subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


@pytest.fixture(scope="session")
def program():
    """``program(name, *args)`` runs ``programs/name`` in a fresh Python (JAX starts there
    with the devices the program forces; graphnn from this checkout) and returns the
    JSON it printed after ``RESULTS``; ``program.start`` starts one without waiting."""
    def run(name: str, *args: str) -> dict:
        done = _run(str(PROGRAMS / name), *args)
        assert done.returncode == 0, done.stderr[-4000:]
        line = next(l for l in done.stdout.splitlines() if l.startswith("RESULTS "))
        return json.loads(line[len("RESULTS "):])
    run.start = lambda name, *args: _start(str(PROGRAMS / name), *args)
    return run
