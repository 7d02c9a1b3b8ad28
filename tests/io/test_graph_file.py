"""gn.io.write_graph / import_graph round trips (DESIGN.md section 6): names, attributes,
shapes, variables, collections, provenance, and identical results in another process."""
import json
import math
import os
import subprocess
import sys
import textwrap

import ml_dtypes
import numpy as np
import pytest

import graphnn as gn
from graphnn.framework.registry import OP_TABLE
from graphnn.io.attrs import check_attr_kinds, decode_attr, encode_attr

X = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
Y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.25).astype(np.float32)


def build_model():
    """Scopes, variables, random ops (graph seed, op seed, tensor shape), Adam, control deps,
    a None dim, slicing (whose gradient is a VJP node) and user collections."""
    graph = gn.get_default_graph()
    gn.set_random_seed(1234)
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    y = gn.placeholder(gn.float32, [None, 1], name="y")
    with gn.name_scope("dense"):
        w = gn.Variable(gn.random_normal([3, 4], stddev=0.5), name="W")
        b = gn.Variable(gn.zeros([4]), name="b")
        hidden = gn.tanh(x @ w + b)
    with gn.name_scope("out"):
        v = gn.Variable(gn.truncated_normal([4, 1], seed=3), name="V")
        prediction = hidden[:, :3] @ v[:3] + gn.reduce_sum(hidden, axis=1, keepdims=True)
    noise = gn.random_uniform(gn.shape(y), -0.01, 0.01, name="noise")
    loss = gn.reduce_mean(gn.square(prediction + noise - y), name="loss")
    step = gn.Variable(0, trainable=False, name="global_step")
    train = gn.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
    with gn.control_dependencies([train]):
        gn.identity(loss, name="loss_after")
    gn.global_variables_initializer()
    graph.add_to_collection("outputs", prediction)
    graph.add_to_collection("outputs", train)
    graph.add_to_collection("notes", "a string")
    graph.add_to_collection("notes", 3)
    return graph


def write_and_import(graph, tmp_path):
    path = str(tmp_path / "model.graph.json")
    assert gn.io.write_graph(graph, path) == path
    return gn.io.import_graph(path)


def assert_same_value(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_value(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same_value(a[key], b[key])
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def test_round_trip_keeps_every_op_exactly(tmp_path):
    original = build_model()
    imported = write_and_import(original, tmp_path)
    assert imported is not original
    assert imported.as_text() == original.as_text()
    assert imported.seed == 1234
    for old, new in zip(original.get_operations(), imported.get_operations(), strict=True):
        assert (new.name, new.type, new.location, new._id) == (old.name, old.type, old.location,
                                                                old._id)
        assert [c.name for c in new.control_inputs] == [c.name for c in old.control_inputs]
        assert (new.gradient_of and new.gradient_of.name) == (old.gradient_of and
                                                              old.gradient_of.name)
        assert_same_value(old.attrs, new.attrs)
        assert [(t.shape, t.dtype) for t in new.outputs] == [(t.shape, t.dtype)
                                                             for t in old.outputs]
    types = {op.type for op in imported.get_operations()}
    assert {"VJP", "SumToShape", "Assign", "AssignSub", "RandomUniform", "TruncatedNormal",
            "StridedSlice"} <= types
    assert any(op.gradient_of is not None for op in imported.get_operations())


def test_round_trip_keeps_variables_and_collections(tmp_path):
    original = build_model()
    imported = write_and_import(original, tmp_path)
    for key in original.get_all_collection_keys():
        old, new = original.get_collection(key), imported.get_collection(key)
        assert [type(i) for i in new] == [type(i) for i in old], key
        assert [getattr(i, "name", i) for i in new] == [getattr(i, "name", i) for i in old], key
    for old, new in zip(original.get_collection(gn.GraphKeys.GLOBAL_VARIABLES),
                        imported.get_collection(gn.GraphKeys.GLOBAL_VARIABLES)):
        assert isinstance(new, gn.Variable) and new.graph is imported
        assert new.op.outputs[0] is new
        assert new.trainable == old.trainable
        assert new.initializer.name == old.initializer.name
        assert new.initial_value.name == old.initial_value.name
    assert [v.op.name for v in imported.get_collection(gn.GraphKeys.TRAINABLE_VARIABLES)] == \
        ["dense/W", "dense/b", "out/V"]
    assert imported.get_collection("notes") == ["a string", 3]


def run_model(graph, steps=3):
    """Fresh initialization, then training steps; everything a run can observe."""
    with gn.Session(graph=graph) as sess:
        sess.run("init")
        initial = sess.run(["dense/W:0", "out/V:0"])
        losses = [sess.run("loss_after:0", {"x:0": X, "y:0": Y}) for _ in range(steps)]
        final = sess.run(["dense/W:0", "out/V:0", "global_step:0", "noise:0"], {"y:0": Y})
    return initial + losses + final


def test_imported_graph_runs_identically(tmp_path):
    original = build_model()
    imported = write_and_import(original, tmp_path)
    expected, got = run_model(original), run_model(imported)
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_array_equal(a, b)
    assert got[-2] == 3 and got[2] > got[4]  # three steps, and the loss went down


SUBPROCESS_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import graphnn as gn

    graph_path, checkpoint, data_path, out_path = sys.argv[1:]
    graph = gn.io.import_graph(graph_path)
    data = np.load(data_path)
    with graph.as_default():
        saver = gn.train.Saver()
    results = {}
    with gn.Session(graph=graph) as sess:
        sess.run("init")
        results["initial_W"] = sess.run("dense/W:0")
        results["noise_first"] = sess.run("noise:0", {"y:0": data["y"]})
        # A step before restoring, as the parent made before saving: random streams advance
        # per run and are not part of checkpoints (as in TensorFlow 1).
        sess.run("loss_after:0", {"x:0": data["x"], "y:0": data["y"]})
        saver.restore(sess, checkpoint)
        for i in range(2):
            results[f"loss{i}"] = sess.run("loss_after:0", {"x:0": data["x"], "y:0": data["y"]})
        results["W"], results["step"] = sess.run(["dense/W:0", "global_step:0"])
    np.savez(out_path, **results)
""")


def test_graph_runs_in_another_process_and_restores_a_checkpoint(tmp_path):
    graph = build_model()
    graph_path = gn.io.write_graph(graph, str(tmp_path / "model.graph.json"))
    np.savez(tmp_path / "data.npz", x=X, y=Y)
    saver = gn.train.Saver()
    with gn.Session() as sess:
        sess.run("init")
        initial_w = sess.run("dense/W:0")
        noise_first = sess.run("noise:0", {"y:0": Y})
        sess.run("loss_after:0", {"x:0": X, "y:0": Y})
        checkpoint = saver.save(sess, str(tmp_path / "ckpt" / "model"), global_step=1)
        expected_losses = [sess.run("loss_after:0", {"x:0": X, "y:0": Y}) for _ in range(2)]
        expected_w, expected_step = sess.run(["dense/W:0", "global_step:0"])
    script = tmp_path / "child.py"
    script.write_text(SUBPROCESS_SCRIPT)
    out = tmp_path / "out.npz"
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    completed = subprocess.run([sys.executable, str(script), graph_path, checkpoint,
                                str(tmp_path / "data.npz"), str(out)],
                               capture_output=True, text=True, timeout=120, env=env)
    assert completed.returncode == 0, completed.stderr
    results = np.load(out)
    # Same graph seed and op ids: the same initial values and random draws.
    np.testing.assert_array_equal(results["initial_W"], initial_w)
    np.testing.assert_array_equal(results["noise_first"], noise_first)
    # Restored from the checkpoint, training continues exactly as in this process.
    np.testing.assert_array_equal([results["loss0"], results["loss1"]], expected_losses)
    np.testing.assert_array_equal(results["W"], expected_w)
    assert results["step"] == expected_step == 3


def test_placeholders_with_unknown_dims_and_refined_shapes(tmp_path):
    graph = gn.get_default_graph()
    x = gn.placeholder(gn.float32, [None, None, 3], name="x")
    anything = gn.placeholder(gn.int64, None, name="anything")
    y = gn.identity(x, name="y")
    y.set_shape([2, None, 3])
    imported = write_and_import(graph, tmp_path)
    assert imported.get_tensor_by_name("x:0").shape.as_list() == [None, None, 3]
    assert imported.get_tensor_by_name("anything:0").shape.ndims is None
    assert imported.get_tensor_by_name("anything:0").dtype == gn.int64
    assert imported.get_tensor_by_name("y:0").shape.as_list() == [2, None, 3]
    with gn.Session(graph=imported) as sess:
        out = sess.run("y:0", {"x:0": np.ones((2, 5, 3), np.float32)})
    assert out.shape == (2, 5, 3)
    assert anything.shape.ndims is None


def test_building_continues_in_the_imported_graph(tmp_path):
    build_model()
    imported = write_and_import(gn.get_default_graph(), tmp_path)
    with imported.as_default():
        with gn.name_scope("dense") as scope:
            extra = gn.constant(1.0, name="W")
        assert scope == "dense_1/"
        assert extra.name == "dense_1/W:0"
        again = gn.identity(imported.get_tensor_by_name("loss:0"), name="loss")
        assert again.name == "loss_1:0"
        saver = gn.train.Saver()
    assert len(saver._variables) == len(imported.get_collection("variables"))


ATTR_VALUES = [
    None, True, False, 0, -7, 2 ** 40, 1.5, -0.0, float("nan"), float("inf"), -float("inf"), "",
    "ij,jk->ik", gn.float32, gn.bfloat16, gn.bool, gn.TensorShape(None), gn.TensorShape([]),
    gn.TensorShape([None, 3]), (1, (2, 3)), [1, [2, (3,)]], (), [],
    {"of": "StridedSlice", "of_attrs": {"index": (("slice", None, 3, None), ("int", -1))},
     "index": 0},
    np.float32(0.25), np.int64(-3), np.bool_(True), np.float64(2.5),
    np.arange(6, dtype=np.int32).reshape(2, 3), np.zeros((0, 4), np.float32),
    np.array(3.5, np.float64), np.array([True, False]), np.array([1.5, -2], ml_dtypes.bfloat16),
    np.array([[1, 255]], np.uint8), np.array([np.nan, np.inf], np.float16),
]


@pytest.mark.parametrize("value", ATTR_VALUES, ids=lambda v: type(v).__name__)
def test_attr_encoding_is_exact(value):
    encoded = encode_attr(value, "test")
    text = json.dumps(encoded, allow_nan=False)
    assert_same_value(decode_attr(json.loads(text), "test"), value)


@pytest.mark.parametrize("value, words", [
    (gn.Graph(), r"sub-graph attributes \(gn.Graph\) are not supported"),
    (object(), "a object attribute cannot be written"),
    ({1: "x"}, "str keys"),
    (np.array(["a"]), "not supported by graphnn"),
    ({1.5, 2.5}, "a set attribute"),
])
def test_attrs_that_graph_files_cannot_hold_fail_clearly(value, words):
    with pytest.raises(TypeError, match=words):
        encode_attr(value, "op 'x' (Foo) attribute 'a'")


def test_unserializable_collection_is_left_out_with_a_warning(tmp_path):
    graph = gn.get_default_graph()
    gn.constant(1.0, name="c")
    graph.add_to_collection("objects", object())
    with pytest.warns(UserWarning, match="Collection 'objects' is not written"):
        imported = write_and_import(graph, tmp_path)
    assert imported.get_collection("objects") == []


def test_file_is_plain_versioned_json(tmp_path):
    build_model()
    path = gn.io.write_graph(gn.get_default_graph(), str(tmp_path / "g.json"))
    with open(path) as file:
        document = json.load(file)
    assert (document["format"], document["version"], document["seed"]) == ("graphnn.graph", 1,
                                                                            1234)
    by_name = {op["name"]: op for op in document["ops"]}
    assert by_name["x"]["attrs"] == {"dtype": {"$dtype": "float32"},
                                     "shape": {"$shape": [None, 3]}}
    assert by_name["loss_after"]["control_inputs"] == ["Adam"]
    assert by_name["dense/MatMul"]["inputs"] == ["x:0", "dense/W:0"]
    assert document["variables"][0] == {"name": "dense/W", "initializer": "dense/W/Assign",
                                        "initial_value": "dense/random_normal:0", "trainable": True}
    assert document["collections"]["notes"] == [{"value": "a string"}, {"value": 3}]
    with open(path) as file:  # one op per line
        assert len(file.read().splitlines()) < len(document["ops"]) + 30
    assert not any(name.startswith(".") for name in os.listdir(tmp_path))  # no temp left


def test_every_registered_op_attribute_round_trips_and_has_the_declared_kind():
    """Driven by the op table: each sample's attributes survive a file, and the attribute
    kinds that import_graph enforces (ATTR_KINDS) hold for every op that has them."""
    rng = np.random.default_rng(0)
    checked = 0
    for op_type, opdef in sorted(OP_TABLE.items()):
        for sample in (opdef.samples(rng, gn.float32) if opdef.samples else []):
            where = f"{op_type} sample"
            # Control-flow bodies are written with their op, which resolves their captured
            # tensors (tests/io/test_control_flow_files.py); every other attribute is here.
            attrs = {k: v for k, v in sample.attrs.items() if not isinstance(v, gn.Graph)}
            check_attr_kinds(attrs, where)
            encoded = json.loads(json.dumps(encode_attr(attrs, where)))
            assert_same_value(decode_attr(encoded, where), attrs)
            checked += 1
    for op in build_model().get_operations():
        check_attr_kinds(op.attrs, op.name)
        check_attr_kinds(op.attrs.get("of_attrs", {}), op.name)
    assert checked > 50


def test_write_graph_refuses_what_import_graph_would_refuse(tmp_path):
    """Never a file that cannot be read back: a shape beyond the importer's limit."""
    gn.placeholder(gn.float32, [2 ** 20, 2 ** 20, 2 ** 20], name="huge")
    path = tmp_path / "model.graph.json"
    path.write_text("previous contents")
    with pytest.raises(gn.io.GraphFileError,
                       match=rf"Cannot write graph file '{path}': import_graph would refuse it: "
                             r"op 'huge' .Placeholder. .* more than 68719476736 elements"):
        gn.io.write_graph(gn.get_default_graph(), str(path))
    assert path.read_text() == "previous contents"
    assert os.listdir(tmp_path) == ["model.graph.json"]


def test_names_starting_with_underscore_in_scopes_round_trip(tmp_path):
    graph = gn.get_default_graph()
    v = gn.Variable(1.0, name="_v")
    with gn.name_scope("_private"):
        gn.identity(v, name="_read")
    imported = write_and_import(graph, tmp_path)
    assert [op.name for op in imported.get_operations()] == \
        [op.name for op in graph.get_operations()]
    assert imported.get_tensor_by_name("_private/_read:0").op.inputs[0].name == "_v:0"


def test_round_trip_keeps_the_devices_ops_asked_for(tmp_path):
    with gn.device("/job:worker/task:1/gpu:0"):
        pinned = gn.constant(1.0, name="pinned") * 2.0
    free = pinned + 1.0
    imported = write_and_import(gn.get_default_graph(), tmp_path)
    assert imported.get_operation_by_name("pinned").device == "/job:worker/task:1/device:GPU:0"
    assert imported.get_operation_by_name(pinned.op.name).device == pinned.op.device
    assert imported.get_operation_by_name(free.op.name).device == ""
