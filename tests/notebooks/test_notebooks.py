"""The notebooks run headless without errors and re-run safely.

Each notebook runs in a fresh kernel of this Python, through the same runner that
produced the committed outputs (tools/run_notebooks.py, ``make notebooks``).
"""
import importlib.util
from pathlib import Path

import nbformat
import pytest

_RUNNER = Path(__file__).resolve().parents[2] / "tools" / "run_notebooks.py"
_spec = importlib.util.spec_from_file_location("run_notebooks", _RUNNER)
run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_notebooks)

pytestmark = pytest.mark.notebooks

LAB = run_notebooks.NOTEBOOKS / "lab" / "LabFrameworks.ipynb"
TUTORIALS = [p for p in run_notebooks.notebook_paths() if p != LAB]


def _check_clean_outputs(notebook: nbformat.NotebookNode) -> None:
    """No re-run warning and no redrawn progress bar (carriage returns) in the outputs."""
    text = run_notebooks.stream_text(notebook)
    assert "ran again" not in text
    assert "\r" not in text, "a progress bar redraws itself in the notebook output"


def test_every_notebook_is_tested():
    assert [p.name for p in TUTORIALS] == ["01_tensors_graphs_and_gradients.ipynb",
                                           "02_linear_regression.ipynb"]


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_notebook_runs_without_errors(path):
    notebook = run_notebooks.execute(path)
    _check_clean_outputs(notebook)
    assert any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.parametrize("name", ["01_tensors_graphs_and_gradients.ipynb"])
def test_running_every_cell_twice_is_safe(name):
    # A learner re-runs cells: the second pass must neither fail nor warn that a cell
    # piled a second copy of its ops into a graph.
    path = run_notebooks.NOTEBOOKS / name
    notebook = nbformat.read(path, as_version=4)
    cells = [(i, cell) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    with run_notebooks.notebook_client(notebook, path) as client:
        with client.setup_kernel(env=run_notebooks.kernel_environment()):
            for _ in range(2):
                for index, cell in cells:
                    client.execute_cell(cell, index)
    _check_clean_outputs(notebook)
