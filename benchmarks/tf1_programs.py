"""Wall time of the TF 1 tutorial programs on graphnn.compat.v1 and on TensorFlow's tf.compat.v1.

The programs are ``tests/compat/programs/*.py``, unchanged: on TensorFlow their one
``import graphnn.compat.v1 as tf`` line becomes ``import tensorflow.compat.v1 as tf``
(they call ``tf.disable_v2_behavior()`` themselves, so TensorFlow runs them in graph
mode). Same data, same step counts. Each program runs as its own process, as a user
runs it, so times include Python start-up, imports and compilation; the table shows
the median over ``--rounds`` and the last accuracy or loss each program printed.

TensorFlow is a benchmark-only dependency, never graphnn's: point ``--tf-python`` (or
``$TF_PYTHON``) at a Python that has it, e.g. a venv made with
``uv venv /work/venvs/tf && uv pip install --python /work/venvs/tf tensorflow``.

Usage:
    python benchmarks/tf1_programs.py [--rounds 3] [--only gan vae] [--tf-python PATH]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROGRAMS = REPO / "tests" / "compat" / "programs"
GRAPHNN_IMPORT = "import graphnn.compat.v1 as tf"
TF_IMPORT = "import tensorflow.compat.v1 as tf"
# The last number each program prints after one of these labels is its result.
RESULT = re.compile(r"(Testing Accuracy|Accuracy after resuming|Accuracy|Test Loss|"
                    r"Training cost|Discriminator Loss|Product)[:=]?\s*([-+0-9.e]+)")


def program_names() -> list[str]:
    return sorted(p.stem for p in PROGRAMS.glob("*.py") if GRAPHNN_IMPORT in p.read_text())


def tensorflow_copy(directory: Path) -> Path:
    """The programs with TensorFlow's import, beside their data helper."""
    for path in PROGRAMS.glob("*.py"):
        (directory / path.name).write_text(path.read_text().replace(GRAPHNN_IMPORT, TF_IMPORT))
    return directory


def run(python: str, program: Path, env: dict) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as logs:
        start = time.perf_counter()
        result = subprocess.run([python, str(program), logs], capture_output=True, text=True,
                                env=env, cwd=program.parent)
        seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{program} failed under {python}:\n{result.stderr[-2000:]}")
    found = RESULT.findall(result.stdout)
    return seconds, f"{found[-1][0]} {float(found[-1][1]):.4g}" if found else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="program names (default: all)")
    parser.add_argument("--tf-python", default=os.environ.get("TF_PYTHON",
                                                              "/work/venvs/tf/bin/python"))
    args = parser.parse_args()
    names = args.only or program_names()
    if not shutil.which(args.tf_python) and not Path(args.tf_python).is_file():
        sys.exit(f"No Python with TensorFlow at {args.tf_python}; pass --tf-python")
    mnist = os.environ.get("MNIST_DIR") or str(REPO.parent / "shared" / "data" / "mnist")
    env = dict(os.environ, PYTHONPATH=str(REPO), MNIST_DIR=mnist, TF_CPP_MIN_LOG_LEVEL="2")
    with tempfile.TemporaryDirectory() as tf_dir:
        tf_programs = tensorflow_copy(Path(tf_dir))
        print(f"{'program':28s} {'graphnn s':>10s} {'TF1 s':>8s} {'speed-up':>8s}  "
              f"{'graphnn result':24s} TF1 result")
        for name in names:
            ours, theirs = [], []
            for _ in range(args.rounds):  # interleaved, so load changes hit both sides
                seconds, our_result = run(sys.executable, PROGRAMS / f"{name}.py", env)
                ours.append(seconds)
                seconds, their_result = run(args.tf_python, tf_programs / f"{name}.py", env)
                theirs.append(seconds)
            a, b = statistics.median(ours), statistics.median(theirs)
            print(f"{name:28s} {a:10.2f} {b:8.2f} {b / a:7.2f}x  {our_result:24s} {their_result}",
                  flush=True)


if __name__ == "__main__":
    main()
