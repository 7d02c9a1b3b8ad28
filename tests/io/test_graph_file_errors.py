"""Malformed and hostile graph files: each gets a clear GraphFileError (a ValueError)."""
import copy
import json

import numpy as np
import pytest

import graphnn as gn
from graphnn.io import graph_import
from graphnn.io.files import GraphFileError


@pytest.fixture
def document():
    """The document of a small valid graph: x -> MatMul(x, W) -> Sum, W a variable."""
    graph = gn.get_default_graph()
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    w = gn.Variable(gn.constant(np.ones((3, 2), np.float32), name="w0"), name="W")
    gn.reduce_sum(gn.matmul(x, w, name="mm"), axis=1, name="total")
    gn.identity(x, name="late")
    graph.add_to_collection("extra", x)
    return gn.io.graph_to_dict(graph)


def op(document, name):
    return next(o for o in document["ops"] if o["name"] == name)


def write(tmp_path, document_or_text):
    path = tmp_path / "graph.json"
    if isinstance(document_or_text, bytes):
        path.write_bytes(document_or_text)
    else:
        text = document_or_text if isinstance(document_or_text, str) else json.dumps(
            document_or_text)
        path.write_text(text)
    return str(path)


def test_graph_file_error_is_a_value_error():
    assert issubclass(gn.io.GraphFileError, ValueError)


def test_valid_document_imports(document, tmp_path):
    graph = gn.io.import_graph(write(tmp_path, document))
    assert graph.get_tensor_by_name("total:0").shape.as_list() == [None]


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_truncated_file(document, tmp_path, fraction):
    text = json.dumps(document)
    path = write(tmp_path, text[:int(len(text) * fraction)])
    with pytest.raises(GraphFileError, match="is not valid JSON .truncated or corrupt"):
        gn.io.import_graph(path)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"[1, 2", b"NaN",
                                     b'{"format": "graphnn.graph", "format": "x"}',
                                     b"[" * 100000 + b"]" * 100000])
def test_not_json(tmp_path, content):
    with pytest.raises(GraphFileError, match="not valid JSON"):
        gn.io.import_graph(write(tmp_path, content))


def test_file_larger_than_the_limit(document, tmp_path, monkeypatch):
    monkeypatch.setattr(graph_import, "MAX_FILE_BYTES", 100)
    with pytest.raises(GraphFileError, match="larger than the limit of 100 bytes"):
        gn.io.import_graph(write(tmp_path, document))


# Each case: a function changing the document in place (or returning a replacement), and
# the words the error must say.
CASES = {
    "not an object": (lambda d: [d], "expected a JSON object"),
    "wrong format": (lambda d: d.update(format="tensorflow.GraphDef"),
                     "not a graphnn graph file: format is 'tensorflow.GraphDef'"),
    "newer version": (lambda d: d.update(version=2), "format version 2 was written by a newer"),
    "version as string": (lambda d: d.update(version="1"), "invalid format version '1'"),
    "missing ops": (lambda d: d.pop("ops") and None, r"missing keys \['ops'\]"),
    "unknown top-level key": (lambda d: d.update(code="import os"), r"unknown keys \['code'\]"),
    "seed not an int": (lambda d: d.update(seed="42"), "the graph seed must be an int"),
    "op not an object": (lambda d: d["ops"].append("x"), r"op #\d+ must be a JSON object"),
    "op without name": (lambda d: d["ops"][0].pop("name") and None, r"missing keys \['name'\]"),
    "unknown op type": (lambda d: op(d, "mm").update(type="PyFunc"),
                        "op 'mm' has unknown op type 'PyFunc'"),
    "own input (cycle)": (lambda d: op(d, "mm").update(inputs=["mm:0", "W:0"]),
                          "the ops form a cycle: 'mm' -> 'mm'"),
    "two-op cycle": (lambda d: op(d, "W").update(control_inputs=["total"]),
                     "the ops form a cycle"),
    "input from a later op": (lambda d: op(d, "mm").update(inputs=["x:0", "late:0"]),
                              "refers to op 'late', which comes later in the file"),
    "dangling input": (lambda d: op(d, "mm").update(inputs=["x:0", "ghost:0"]),
                       "refers to op 'ghost', which is not in the file .dangling input"),
    "dangling control input": (lambda d: op(d, "total").update(control_inputs=["ghost"]),
                               "refers to op 'ghost'"),
    "output index out of range": (lambda d: op(d, "mm").update(inputs=["x:0", "W:7"]),
                                  "input 'W:7' does not exist; op 'W' has 1 outputs"),
    "bad tensor name": (lambda d: op(d, "mm").update(inputs=["x", "W:0"]),
                        "input 'x' is not a tensor name"),
    "duplicate op names": (lambda d: op(d, "total").update(name="mm"),
                           "two ops are named 'mm'"),
    "names equal ignoring case": (lambda d: op(d, "total").update(name="MM"),
                                  "ops 'mm' and 'MM' have names that are equal ignoring case"),
    "name with a space": (lambda d: op(d, "total").update(name="the total"),
                          "op #5: 'the total' is not a valid op name: names match"),
    "name climbing out": (lambda d: op(d, "total").update(name="../up"),
                          "'../up' is not a valid op name"),
    "name like a tensor": (lambda d: op(d, "total").update(name="x:0"),
                           "'x:0' is not a valid op name"),
    "name with an empty part": (lambda d: op(d, "total").update(name="a//b"),
                                "'a//b' is not a valid op name"),
    "variable listed twice": (lambda d: d["variables"].append(dict(d["variables"][0])),
                              "variable 'W' is listed twice"),
    "huge declared shape": (lambda d: op(d, "x")["attrs"].update(
        shape={"$shape": [10 ** 9, 10 ** 9]}), "has more than 68719476736 elements"),
    "huge rank": (lambda d: op(d, "x")["attrs"].update(shape={"$shape": [1] * 100}),
                  "rank 100 exceeds the limit of 32"),
    "negative dimension": (lambda d: op(d, "x")["attrs"].update(shape={"$shape": [-5, 3]}),
                           "invalid dimension -5"),
    "huge declared output": (lambda d: op(d, "mm")["outputs"][0].update(shape=[2 ** 40, 2 ** 40]),
                             "more than 68719476736 elements"),
    "huge array": (lambda d: op(d, "w0")["attrs"]["value"]["$array"].update(
        shape=[2 ** 15, 2 ** 15]), r"exceeds the limit of 1073741824 bytes"),
    "array data too short": (lambda d: op(d, "w0")["attrs"]["value"]["$array"].update(
        base64="AAAA"), "array data does not match its shape"),
    "array data not base64": (lambda d: op(d, "w0")["attrs"]["value"]["$array"].update(
        base64="!" * 32), "not valid base64"),
    "array of objects": (lambda d: op(d, "w0")["attrs"]["value"]["$array"].update(
        dtype="object"), "unknown dtype 'object'"),
    "pickle tag": (lambda d: op(d, "w0")["attrs"].update(value={"$pickle": "gASV"}),
                   "unknown attribute tag '\\$pickle'"),
    "untagged object": (lambda d: op(d, "w0")["attrs"].update(value={"a": 1, "b": 2}),
                        "expected a JSON scalar or an object with one tag key"),
    "dtype as plain string": (lambda d: op(d, "x")["attrs"].update(dtype="float32"),
                              "attribute 'dtype' must be DType, got 'float32'"),
    "keepdims not a bool": (lambda d: op(d, "total")["attrs"].update(keepdims=1),
                            "attribute 'keepdims' must be bool, got 1"),
    "transpose flag a string": (lambda d: op(d, "mm")["attrs"].update(transpose_a="yes"),
                                "attribute 'transpose_a' must be bool"),
    "seed a bool": (lambda d: op(d, "total")["attrs"].update(seed=True), "must be int or None"),
    "const dtype differs from value": (
        lambda d: op(d, "w0")["attrs"].update(dtype={"$dtype": "int32"}),
        "the value's dtype float32 differs from the dtype attribute int32"),
    "unknown attribute": (lambda d: op(d, "mm")["attrs"].update(adjoint=True),
                          "op 'mm' .MatMul. cannot be re-created:.*adjoint"),
    "incompatible shapes": (lambda d: op(d, "mm").update(inputs=["W:0", "W:0"]),
                            "op 'mm' .MatMul. cannot be re-created"),
    "declared dtype disagrees": (lambda d: op(d, "mm")["outputs"][0].update(dtype="int32"),
                                 "declares output 0 as int32"),
    "declared outputs count": (lambda d: op(d, "mm")["outputs"].append(
        {"shape": [], "dtype": "float32"}), "declares 2 outputs"),
    "bad location": (lambda d: op(d, "mm").update(location="here"),
                     "'location' must be \\[file, line\\]"),
    "deep nesting": (lambda d: op(d, "mm")["attrs"].update(
        deep=json.loads('{"$list": [' * 40 + "]}" * 40)), "nested deeper than 32 levels"),
    "variable names a non-variable": (lambda d: d["variables"][0].update(name="mm"),
                                      "names 'mm', which is not a VariableV2 op"),
    "variable with a wrong initializer": (lambda d: d["variables"][0].update(initializer="mm"),
                                          "the initializer must be an Assign op"),
    "collection with missing op": (lambda d: d["collections"]["extra"].append({"op": "ghost"}),
                                   "collection 'extra' refers to missing op 'ghost'"),
    "collection item of unknown kind": (lambda d: d["collections"]["extra"].append(
        {"code": "x"}), "an item is an object with one key"),
    "collection lists a non-variable": (lambda d: d["collections"]["variables"].append(
        {"variable": "mm"}), "lists 'mm' as a variable"),
    "gradient_of a later op": (lambda d: op(d, "mm").update(gradient_of="late"),
                               "comes later in the file"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_document(document, tmp_path, case):
    change, words = CASES[case]
    document = copy.deepcopy(document)
    changed = change(document)
    path = write(tmp_path, document if changed is None else changed)
    with pytest.raises(GraphFileError, match=words) as caught:
        gn.io.import_graph(path)
    assert isinstance(caught.value, ValueError)
    assert str(path) in str(caught.value)


def test_loading_never_unpickles(tmp_path):
    """A numpy .npy object array smuggled as base64 is refused, not unpickled."""
    graph = gn.get_default_graph()
    gn.constant(np.zeros(3, np.float32), name="c")
    document = gn.io.graph_to_dict(graph)
    array = document["ops"][0]["attrs"]["value"]["$array"]
    array["dtype"] = "O"
    with pytest.raises(GraphFileError, match="unknown dtype 'O'"):
        gn.io.import_graph(write(tmp_path, document))


def test_a_collection_listing_a_variable_twice_keeps_one_variable(document, tmp_path):
    """Collections are lists (TF 1), so the entry is kept twice, but it is the same
    Variable: a duplicated entry never creates a second variable."""
    document["collections"]["variables"].append({"variable": "W"})
    graph = gn.io.import_graph(write(tmp_path, document))
    listed = graph.get_collection("variables")
    assert len(listed) == 2 and listed[0] is listed[1]
    assert listed[0] is graph.get_tensor_by_name("W:0")
    assert [o.name for o in graph.get_operations() if o.type == "VariableV2"] == ["W"]
