"""gn.viz.to_dot(model): a model drawn as its layers, each expandable; collapse/expand on graphs."""
import numpy as np
import pytest

import graphnn as gn
from graphnn.viz import NODE_STYLES

from test_to_dot import parse


@pytest.fixture
def classifier():
    model = gn.models.Sequential([gn.layers.Dense(16, activation="relu", input_shape=(4,)),
                                  gn.layers.Dropout(0.2),
                                  gn.layers.Dense(3, activation="softmax")])
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class TwoTowers:
    """A functional-style model: two inputs, a layer shared by both, ops between layers."""

    def __init__(self):
        self.inputs = [gn.layers.Input((3,), name="left"), gn.layers.Input((3,), name="right")]
        shared = gn.layers.Dense(5, name="tower")
        joined = gn.concat([shared(self.inputs[0]), shared(self.inputs[1])], axis=1, name="join")
        head = gn.layers.Dense(1, name="head")
        self.outputs = [head(joined * 0.5)]
        self.layers = [shared, head]


def _layer_style(attrs):
    return all(attrs.get(key) == value for key, value in NODE_STYLES["layer"].items())


def test_a_model_is_drawn_as_its_layers(classifier):
    nodes, edges, clusters = parse(gn.viz.to_dot(classifier))
    assert set(nodes) == {"input", "dense/", "dropout/", "dense_1/"}
    assert nodes["dense/"]["label"] == "dense\nDense\noutput (None, 16)\n80 params"
    assert nodes["dense_1/"]["label"] == "dense_1\nDense\noutput (None, 3)\n51 params"
    assert nodes["dropout/"]["label"] == "dropout\nDropout\noutput (None, 16)\n0 params"
    assert all(_layer_style(nodes[name]) for name in ("dense/", "dropout/", "dense_1/"))
    assert [(s, t, a["label"]) for s, t, a in edges] == [
        ("input", "dense/", "float32 (?, 4)"), ("dense/", "dropout/", "float32 (?, 16)"),
        ("dropout/", "dense_1/", "float32 (?, 16)")]
    assert all(path == [] for path in clusters.values())


def test_training_switch_loss_and_optimizer_stay_out_of_the_drawing(classifier):
    x = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    before = gn.viz.to_dot(classifier)
    classifier.fit(x, np.arange(16) % 3, epochs=1, verbose=0)
    assert gn.viz.to_dot(classifier) == before


def test_expand_shows_one_layers_ops_as_a_cluster(classifier):
    nodes, edges, clusters = parse(gn.viz.to_dot(classifier, expand=["dense_1"]))
    assert {"dense/", "dropout/"} <= set(nodes) and "dense_1/" not in nodes
    assert clusters["dense_1/MatMul"] == ["cluster_dense_1"]
    assert clusters["dense_1/kernel"] == ["cluster_dense_1"]
    assert "dense_1/kernel/Assign" not in nodes
    labels = {(s, t): a["label"] for s, t, a in edges}
    assert labels[("dropout/", "dense_1/MatMul")] == "float32 (?, 16)"
    assert labels[("dense_1/kernel", "dense_1/MatMul")] == "float32 (16, 3)"
    assert 'label="dense_1 (Dense)"' in gn.viz.to_dot(classifier, expand="dense_1")


def test_expand_true_opens_every_layer(classifier):
    nodes, _, _ = parse(gn.viz.to_dot(classifier, expand=True))
    assert not [name for name in nodes if name.endswith("/")]
    assert {"dense/MatMul", "dense/Relu", "dense_1/Softmax"} <= set(nodes)
    assert "training" not in nodes


def test_functional_style_model_with_shared_layer_and_ops_between_layers():
    nodes, edges, _ = parse(gn.viz.to_dot(TwoTowers()))
    assert {"left", "right", "tower/", "join", "head/"} <= set(nodes)
    assert nodes["tower/"]["label"].startswith("tower\nDense\noutput (None, 5)\n20 params")
    pairs = {(s, t) for s, t, _ in edges}
    assert {("left", "tower/"), ("right", "tower/"), ("tower/", "join")} <= pairs
    scale = next(t for s, t in pairs if s == "join")   # join * 0.5, an op between layers
    assert (scale, "head/") in pairs and nodes[scale]["label"].endswith("Mul")


def test_model_drawing_errors_name_the_problem(classifier):
    with pytest.raises(ValueError, match=r"Cannot expand \['dense_9'\].*dense, dropout, dense_1"):
        gn.viz.to_dot(classifier, expand=["dense_9"])
    unbuilt = gn.models.Sequential([gn.layers.Dense(2)], name="later")
    with pytest.raises(ValueError, match="'later' has not been built yet"):
        gn.viz.to_dot(unbuilt)


def test_collapse_true_with_expand_opens_scopes_one_level_at_a_time():
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    with gn.name_scope("dense"):
        y = gn.matmul(x, gn.Variable(gn.ones([3, 2]), name="W"))
        with gn.name_scope("act"):
            z = gn.nn.relu(y)
    nodes, _, clusters = parse(gn.viz.to_dot(z, collapse=True, expand=["dense"]))
    assert set(nodes) == {"x", "dense/W", "dense/MatMul", "dense/act/"}
    assert clusters["dense/act/"] == ["cluster_dense"]
    nodes, _, _ = parse(gn.viz.to_dot(z, collapse=True, expand=["dense", "dense/act"]))
    assert "dense/act/Relu" in nodes
    nodes, _, _ = parse(gn.viz.to_dot(z, collapse=True, expand=True))
    assert not [name for name in nodes if name.endswith("/")]
    with pytest.raises(ValueError, match=r"Cannot expand \['act'\].*dense"):
        gn.viz.to_dot(z, collapse=True, expand="act")


def test_functional_model_with_branches_merge_and_shared_layer():
    inputs = gn.layers.Input((4,))
    shared = gn.layers.Dense(16, activation="relu")
    wide = shared(inputs)
    deep = gn.layers.Dense(16, activation="relu")(wide)
    outputs = gn.layers.Dense(3)(gn.layers.Concatenate()([wide, deep]))
    model = gn.models.Model(inputs, outputs)
    nodes, edges, _ = parse(gn.viz.to_dot(model))
    assert set(nodes) == {"input", "dense/", "dense_1/", "concatenate/", "dense_2/"}
    assert nodes["concatenate/"]["label"] == "concatenate\nConcatenate\noutput (None, 32)\n0 params"
    assert {(s, t) for s, t, _ in edges} == {
        ("input", "dense/"), ("dense/", "dense_1/"), ("dense/", "concatenate/"),
        ("dense_1/", "concatenate/"), ("concatenate/", "dense_2/")}
    opened, _, clusters = parse(gn.viz.to_dot(model, expand="concatenate"))
    concat = [name for name in opened if name.startswith("concatenate/")]
    assert len(concat) == 1 and clusters[concat[0]] == ["cluster_concatenate"]
