"""Executes the notebooks headless and saves them with their outputs (``make notebooks``).

Each notebook runs in a fresh kernel of this Python (jupyter_client starts the
``python3`` kernel with ``sys.executable``), from its own folder as Jupyter does, with
``GRAPHNN_DATA`` pointing at ``../shared/data`` beside the repository when that folder
exists. The committed notebooks are this script's output, so what a reader sees on
GitHub is what the code does; the README's figures are the PNG outputs of the cells
tagged ``readme-figure:<file name>``, written into ``docs/``.

Usage:
    python tools/run_notebooks.py                 # every notebook, saved in place
    python tools/run_notebooks.py notebooks/01_tensors_graphs_and_gradients.ipynb
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional

import nbformat
from nbclient import NotebookClient
from traitlets.config import Config

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
DOCS = REPO / "docs"
SHARED_DATA = REPO.parent / "shared" / "data"
FIGURE_TAG = "readme-figure:"
CELL_TIMEOUT_SECONDS = 600


def notebook_paths() -> list[Path]:
    """Every notebook under notebooks/, in name order (checkpoints excluded)."""
    return sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def kernel_environment() -> dict[str, str]:
    """This process's environment for the kernel, importing graphnn from this checkout.

    GRAPHNN_DATA points at ../shared/data when that folder exists (CI's MNIST).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if SHARED_DATA.is_dir():
        env["GRAPHNN_DATA"] = str(SHARED_DATA)
    # Plots become inline PNG outputs even where the shell sets another backend (Agg).
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    return env


@contextlib.contextmanager
def notebook_client(notebook: nbformat.NotebookNode, path: Path) -> Iterator[NotebookClient]:
    """A client for ``notebook`` whose kernel will run from ``path``'s folder.

    Start its kernel with ``client.execute(env=kernel_environment())`` (or
    ``setup_kernel``). The kernel talks over local sockets in a temporary folder (IPC),
    not TCP, so it prints no warning about unencrypted TCP into the logs.
    """
    with tempfile.TemporaryDirectory(prefix="graphnn-kernel-") as sockets:
        # The client creates (and so shuts down) its kernel manager from this config.
        config = Config({"KernelManager": {"transport": "ipc",
                                           "ip": os.path.join(sockets, "kernel")}})
        yield NotebookClient(notebook, config=config, kernel_name="python3",
                             timeout=CELL_TIMEOUT_SECONDS, record_timing=False,
                             resources={"metadata": {"path": str(path.parent)}})


def execute(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` executed top to bottom; raises CellExecutionError on an error."""
    notebook = nbformat.read(path, as_version=4)
    with notebook_client(notebook, path) as client:
        client.execute(env=kernel_environment())
    return notebook


def stream_text(notebook: nbformat.NotebookNode, name: Optional[str] = None) -> str:
    """All text the code cells printed (``name``: only "stdout" or "stderr")."""
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", ())
                   if output.output_type == "stream" and name in (None, output.name))


def write_figures(notebook: nbformat.NotebookNode) -> list[Path]:
    """Saves the PNG output of each cell tagged ``readme-figure:<name>`` as docs/<name>."""
    written = []
    for cell in notebook.cells:
        for tag in cell.get("metadata", {}).get("tags", ()):
            if not tag.startswith(FIGURE_TAG):
                continue
            images = [o["data"]["image/png"] for o in cell.get("outputs", ())
                      if "image/png" in o.get("data", {})]
            if not images:
                raise RuntimeError(f"The cell tagged {tag!r} made no PNG output")
            target = DOCS / tag[len(FIGURE_TAG):]
            target.write_bytes(base64.b64decode(images[-1]))
            written.append(target)
    return written


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: all under notebooks/)")
    args = parser.parse_args(argv)
    for path in args.notebooks or notebook_paths():
        start = time.perf_counter()
        notebook = execute(path.resolve())
        nbformat.write(notebook, path)
        figures = ", ".join(str(p.relative_to(REPO)) for p in write_figures(notebook))
        print(f"{os.path.relpath(path)}: {time.perf_counter() - start:.1f} s"
              + (f"; wrote {figures}" if figures else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
