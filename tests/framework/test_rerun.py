"""Re-running graph-building code (a notebook cell run twice) warns, and only then."""
import warnings

import pytest

import graphnn as gn

CELL = """
x = gn.placeholder(gn.float32, [None, 2], name="x")
h = gn.layers.Dense(3)(x)
"""


def _run_cell(source: str, path: str, namespace: dict) -> None:
    """Runs ``source`` as a notebook kernel runs a cell: compiled anew, under a real file name."""
    exec(compile(source, path, "exec"), namespace)


def _rerun_warnings(record) -> list[str]:
    return [str(w.message) for w in record if "ran again" in str(w.message)]


def test_running_a_cell_again_in_the_same_graph_warns_once(tmp_path):
    cell = str(tmp_path / "cell.py")
    namespace = {"gn": gn}
    _run_cell(CELL, cell, namespace)
    with pytest.warns(UserWarning) as record:
        _run_cell(CELL, cell, namespace)
    messages = _rerun_warnings(record)
    assert len(messages) == 1
    assert "'x_1' is added beside 'x'" in messages[0]
    assert "with gn.Graph().as_default():" in messages[0]
    assert record[0].filename == cell and record[0].lineno == 2
    # TF 1 semantics are unchanged: both copies are in the graph, the new one suffixed.
    assert namespace["x"].name == "x_1:0"
    assert namespace["h"].op.name.startswith("dense_1/")


def test_a_graph_warns_once_per_file_and_each_graph_for_itself(tmp_path):
    cell = str(tmp_path / "cell.py")
    namespace = {"gn": gn}
    _run_cell(CELL, cell, namespace)
    with pytest.warns(UserWarning, match="ran again"):
        _run_cell(CELL, cell, namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run_cell(CELL, cell, namespace)          # told already, as Python's "default" filter
    assert namespace["x"].name == "x_2:0"
    with gn.Graph().as_default():
        _run_cell(CELL, cell, namespace)
        with pytest.warns(UserWarning, match="ran again"):
            _run_cell(CELL, cell, namespace)


def test_an_edited_cell_and_a_different_cell_do_not_warn(tmp_path):
    namespace = {"gn": gn}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run_cell(CELL, str(tmp_path / "cell.py"), namespace)
        _run_cell(CELL + "y = x * 2.0\n", str(tmp_path / "cell.py"), namespace)
        _run_cell(CELL, str(tmp_path / "other_cell.py"), namespace)
    assert namespace["x"].name == "x_2:0"


def test_a_cell_that_builds_in_a_fresh_graph_reruns_silently(tmp_path):
    cell = str(tmp_path / "cell.py")
    source = "graph = gn.Graph()\nwith graph.as_default():\n" + \
        "".join(f"    {line}\n" for line in CELL.strip().splitlines())
    namespace = {"gn": gn}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run_cell(source, cell, namespace)
        _run_cell(source, cell, namespace)
    assert namespace["x"].name == "x:0"
    assert namespace["graph"].num_ops == namespace["x"].graph.num_ops


def test_loops_comprehensions_and_functions_called_twice_do_not_warn(tmp_path):
    source = ("def block(name):\n"
              "    x = gn.placeholder(gn.float32, [2], name=name)\n"
              "    return gn.stack([x ** p for p in range(3)], axis=0)\n"
              "a, b = block('x'), block('x')\n"
              "layers = [gn.layers.Dense(2)(a) for _ in range(3)]\n"
              "for _ in range(2):\n"
              "    gn.placeholder(gn.float32, [2], name='loop')\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run_cell(source, str(tmp_path / "script.py"), {"gn": gn})
    assert gn.get_default_graph().get_operation_by_name("x_1").type == "Placeholder"
