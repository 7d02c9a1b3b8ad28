"""gn.summary.FileWriter: event files read back with TensorBoard's own readers."""
import glob
import os
import subprocess
import sys

import numpy as np
import pytest

import graphnn as gn
from graphnn.summary import graph_def as graph_def_module

pytest.importorskip("tensorboard", reason="the optional tensorboard extra is not installed")
from tensorboard.backend.event_processing import event_accumulator, event_file_loader  # noqa: E402
from tensorboard.compat.proto import graph_pb2, types_pb2  # noqa: E402


@pytest.fixture
def model():
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    with gn.name_scope("dense"):
        W = gn.Variable(gn.ones([3, 4]), name="W")
        y = gn.nn.relu(gn.matmul(x, W))
    left, right = gn.split(y, 2, axis=1, name="split")
    loss = gn.reduce_sum(left * right, name="loss")
    with gn.control_dependencies([W.initializer]):
        done = gn.no_op(name="done")
    return dict(x=x, W=W, y=y, right=right, loss=loss, done=done)


def _events(path):
    return list(event_file_loader.EventFileLoader(path).Load())


def _graph_def(writer):
    events = [e for e in _events(writer.path) if e.HasField("graph_def")]
    assert len(events) == 1
    return graph_pb2.GraphDef.FromString(events[0].graph_def)


def test_event_file_holds_every_op_with_type_inputs_and_shapes(model, tmp_path):
    graph = gn.get_default_graph()
    with gn.summary.FileWriter(tmp_path / "run", graph=graph) as writer:
        pass
    assert os.path.basename(writer.path).startswith("events.out.tfevents.")
    nodes = {node.name: node for node in _graph_def(writer).node}
    assert list(nodes) == [op.name for op in graph.get_operations()]
    assert {name: node.op for name, node in nodes.items()} == {
        op.name: op.type for op in graph.get_operations()}
    assert list(nodes["dense/MatMul"].input) == ["x", "dense/W"]
    assert list(nodes[model["loss"].op.inputs[0].op.name].input) == ["split", "split:1"]
    assert list(nodes["done"].input) == ["^dense/W/Assign"]
    x_attrs = nodes["x"].attr
    assert x_attrs["dtype"].type == types_pb2.DT_FLOAT
    assert [d.size for d in x_attrs["shape"].shape.dim] == [-1, 3]
    assert [d.size for d in x_attrs["_output_shapes"].list.shape[0].dim] == [-1, 3]
    relu_shapes = nodes["dense/Relu"].attr["_output_shapes"].list.shape
    assert [d.size for d in relu_shapes[0].dim] == [-1, 4]
    assert nodes["dense/Relu"].attr["T"].type == types_pb2.DT_FLOAT
    assert len(nodes["split"].attr["_output_shapes"].list.shape) == 2


def test_nodes_carry_the_device_gn_device_asked_for(tmp_path):
    with gn.device("/gpu:1"):
        gn.constant(1.0, name="pinned")
    gn.constant(2.0, name="free")
    with gn.summary.FileWriter(tmp_path, graph=gn.get_default_graph()) as writer:
        pass
    nodes = {node.name: node for node in _graph_def(writer).node}
    assert (nodes["pinned"].device, nodes["free"].device) == ("/device:GPU:1", "")


def test_constants_carry_small_values_only(tmp_path):
    gn.constant(np.arange(6, dtype=np.int32).reshape(2, 3), name="small")
    gn.constant(np.zeros(5000, np.float32), name="big")
    with gn.summary.FileWriter(tmp_path, graph=gn.get_default_graph()) as writer:
        pass
    nodes = {node.name: node for node in _graph_def(writer).node}
    small = nodes["small"].attr["value"].tensor
    assert small.dtype == types_pb2.DT_INT32
    assert np.frombuffer(small.tensor_content, np.int32).tolist() == [0, 1, 2, 3, 4, 5]
    big = nodes["big"].attr["value"].tensor
    assert [d.size for d in big.tensor_shape.dim] == [5000] and not big.tensor_content


def test_scalars_and_graph_read_back_by_event_accumulator(model, tmp_path):
    with gn.summary.FileWriter(tmp_path) as writer:
        writer.add_graph(gn.get_default_graph())
        for step, value in enumerate([1.0, np.float32(0.5), np.array(0.25)]):
            writer.add_scalar("train/loss", value, step)
        writer.add_scalar("accuracy", 0.9, step=2)
    accumulator = event_accumulator.EventAccumulator(str(tmp_path))
    accumulator.Reload()
    assert set(accumulator.Tags()["scalars"]) == {"train/loss", "accuracy"}
    points = accumulator.Scalars("train/loss")
    assert [(p.step, p.value) for p in points] == [(0, 1.0), (1, 0.5), (2, 0.25)]
    names = {node.name for node in accumulator.Graph().node}
    assert {"x", "dense/W", "dense/MatMul", "loss", "done"} <= names


def test_flush_makes_events_visible_and_close_is_final(tmp_path):
    writer = gn.summary.FileWriter(tmp_path)
    writer.add_scalar("loss", 3.0, 7)
    writer.flush()
    steps = [e.step for e in _events(writer.path) if e.HasField("summary")]
    assert steps == [7]
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.add_scalar("loss", 1.0, 8)


def test_two_writers_in_one_directory_get_two_files(tmp_path):
    with gn.summary.FileWriter(tmp_path), gn.summary.FileWriter(tmp_path, filename_suffix=".v2"):
        pass
    files = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    assert len(files) == 2 and any(f.endswith(".v2") for f in files)


def test_bad_values_are_refused_clearly(model, tmp_path):
    with gn.summary.FileWriter(tmp_path) as writer:
        with pytest.raises(TypeError, match="sess.run"):
            writer.add_scalar("loss", model["loss"], 0)
        with pytest.raises(TypeError, match="needs a number"):
            writer.add_scalar("loss", "high", 0)
        with pytest.raises(TypeError, match="gn.Graph"):
            writer.add_graph(model["loss"])


def test_without_tensorboard_the_writer_says_how_to_install_it(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "tensorboard" or m.startswith("tensorboard.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    graph_def_module.tensorboard_modules.cache_clear()
    try:
        assert gn.summary.FileWriter.__name__ == "FileWriter"
        with pytest.raises(ImportError, match=r"pip install graphnn\[tensorboard\]"):
            gn.summary.FileWriter(tmp_path)
    finally:
        graph_def_module.tensorboard_modules.cache_clear()
    assert not os.listdir(tmp_path)


def test_graphnn_imports_without_tensorboard():
    code = ("import sys; sys.modules['tensorboard'] = None; import graphnn as gn; "
            "print(gn.summary.FileWriter.__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "FileWriter"


def test_add_summary_writes_fetched_merged_summaries(tmp_path):
    x = gn.placeholder(gn.float32, [None], name="x")
    gn.summary.scalar("mean", gn.reduce_mean(x))
    gn.summary.histogram("W:0", x)
    merged = gn.summary.merge_all()
    with gn.Session() as sess, gn.summary.FileWriter(str(tmp_path)) as writer:
        for step in range(3):
            writer.add_summary(sess.run(merged, {x: [step, step + 2.0]}), step)
        with pytest.raises(TypeError, match="fetched value"):
            writer.add_summary(merged, 0)
    accumulator = event_accumulator.EventAccumulator(str(tmp_path), size_guidance={"histograms": 0})
    accumulator.Reload()
    assert [e.value for e in accumulator.Scalars("mean_1")] == [1.0, 2.0, 3.0]
    histograms = accumulator.Histograms("W_0")
    assert [h.step for h in histograms] == [0, 1, 2]
    assert histograms[2].histogram_value.max == 4.0
