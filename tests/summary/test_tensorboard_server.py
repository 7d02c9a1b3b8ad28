"""A real `tensorboard` server on 127.0.0.1 serves the graph and scalars a FileWriter wrote."""
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

import graphnn as gn

pytest.importorskip("tensorboard", reason="the optional tensorboard extra is not installed")

_STARTUP_SECONDS = 45


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def _get(url):
    with _DIRECT.open(url, timeout=5) as response:
        return response.read().decode("utf-8")


@pytest.fixture
def logdir(tmp_path):
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    with gn.name_scope("dense"):
        W = gn.Variable(gn.ones([3, 2]), name="W")
        loss = gn.reduce_sum(gn.matmul(x, W), name="loss")
    with gn.summary.FileWriter(tmp_path / "run1", graph=gn.get_default_graph()) as writer:
        for step in range(3):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
    assert loss.op.name == "dense/loss"
    return tmp_path


@pytest.fixture
def server(logdir, tmp_path_factory):
    """(process, its log) of a TensorBoard watching ``logdir`` on a free port; killed afterwards.

    ``--port 0`` lets the system choose the port, which TensorBoard then prints in its
    log, so two test runs never race for the same port.
    """
    log = tmp_path_factory.mktemp("tensorboard") / "server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir),
             "--host", "127.0.0.1", "--port", "0", "--load_fast", "false",
             "--reload_interval", "1"],
            stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        yield process, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for(what, answer, process, log):
    """Polls ``answer()`` until it returns something true, for at most _STARTUP_SECONDS."""
    deadline = time.monotonic() + _STARTUP_SECONDS
    while True:
        result = answer()
        if result:
            return result
        if process.poll() is not None:
            pytest.fail(f"tensorboard exited with {process.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"tensorboard did not {what} within {_STARTUP_SECONDS} s:\n"
                        f"{log.read_text()}")
        time.sleep(0.2)


def _graph_listed(base):
    try:
        info = json.loads(_get(f"{base}/data/plugin/graphs/info"))
    except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
        return False
    return info.get("run1", {}).get("run_graph", False)


def test_tensorboard_serves_the_graph_and_scalars(server):
    process, log = server
    url = _wait_for("print its URL", lambda: re.search(r"http://127\.0\.0\.1:\d+",
                                                          log.read_text()), process, log)
    base = url.group(0)
    _wait_for("list run1's graph", lambda: _graph_listed(base), process, log)
    graph = _get(f"{base}/data/plugin/graphs/graph?run=run1")
    for line in ('name: "dense/MatMul"', 'op: "MatMul"', 'input: "x"', 'input: "dense/W"',
                 'name: "dense/loss"', 'key: "_output_shapes"'):
        assert line in graph
    scalars = json.loads(_get(f"{base}/data/plugin/scalars/scalars?run=run1&tag=loss"))
    assert [(step, round(value, 6)) for _, step, value in scalars] == [
        (0, 1.0), (1, 0.5), (2, 0.333333)]
