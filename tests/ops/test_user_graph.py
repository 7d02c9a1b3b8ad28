"""The user's graph shows what the user wrote: a function called once is one op of
TensorFlow 1's type, or, where TensorFlow 1 draws a name scope of several ops, that
scope with its last op named as the scope."""
import numpy as np
import pytest

import graphnn as gn


def _inputs():
    return {"x": gn.placeholder(gn.float32, [4, 5], name="x"),
            "labels": gn.placeholder(gn.float32, [4, 5], name="labels"),
            "classes": gn.placeholder(gn.int32, [4], name="classes"),
            "bias": gn.placeholder(gn.float32, [5], name="bias"),
            "images": gn.placeholder(gn.float32, [2, 6, 6, 3], name="images"),
            "filters": gn.placeholder(gn.float32, [3, 3, 3, 4], name="filters"),
            "anything": gn.placeholder(gn.float32, name="anything")}


# public function -> (TensorFlow 1 op type, builder)
ONE_OP = {
    "relu": ("Relu", lambda t: gn.nn.relu(t["x"])),
    "leaky_relu": ("LeakyRelu", lambda t: gn.nn.leaky_relu(t["x"], 0.1)),
    "elu": ("Elu", lambda t: gn.nn.elu(t["x"])),
    "softplus": ("Softplus", lambda t: gn.nn.softplus(t["x"])),
    "sigmoid": ("Sigmoid", lambda t: gn.nn.sigmoid(t["x"])),
    "tanh": ("Tanh", lambda t: gn.nn.tanh(t["x"])),
    "softmax": ("Softmax", lambda t: gn.nn.softmax(t["x"])),
    "log_softmax": ("LogSoftmax", lambda t: gn.nn.log_softmax(t["x"], axis=0)),
    "softmax_cross_entropy": ("SoftmaxCrossEntropyWithLogits",
                              lambda t: gn.nn.softmax_cross_entropy_with_logits(
                                  labels=t["labels"], logits=t["x"])),
    "softmax_cross_entropy_axis_0": ("SoftmaxCrossEntropyWithLogits",
                                     lambda t: gn.nn.softmax_cross_entropy_with_logits(
                                         labels=t["labels"], logits=t["x"], axis=0)),
    "sparse_softmax_cross_entropy": ("SparseSoftmaxCrossEntropyWithLogits",
                                     lambda t: gn.nn.sparse_softmax_cross_entropy_with_logits(
                                         labels=t["classes"], logits=t["x"])),
    "sigmoid_cross_entropy": ("SigmoidCrossEntropyWithLogits",
                              lambda t: gn.nn.sigmoid_cross_entropy_with_logits(
                                  labels=t["labels"], logits=t["x"])),
    "l2_loss": ("L2Loss", lambda t: gn.nn.l2_loss(t["x"])),
    "bias_add": ("BiasAdd", lambda t: gn.nn.bias_add(t["x"], t["bias"])),
    "bias_add_nchw": ("BiasAdd", lambda t: gn.nn.bias_add(t["x"], t["bias"], data_format="NCHW")),
    "bias_add_unknown_rank": ("BiasAdd", lambda t: gn.nn.bias_add(t["anything"], t["bias"],
                                                                  data_format="NCHW")),
    "conv2d": ("Conv2D", lambda t: gn.nn.conv2d(t["images"], t["filters"], 1, "SAME")),
    "max_pool2d": ("MaxPool", lambda t: gn.nn.max_pool2d(t["images"], 2, 2, "VALID")),
    "avg_pool2d": ("AvgPool", lambda t: gn.nn.avg_pool2d(t["images"], 2, 2, "VALID")),
    "tensordot": ("Einsum", lambda t: gn.tensordot(t["x"], t["labels"], [[0], [0]])),
    "reduce_mean": ("Mean", lambda t: gn.reduce_mean(t["x"], axis=1)),
    "reduce_mean_unknown_rank": ("Mean", lambda t: gn.reduce_mean(t["anything"])),
    "reduce_logsumexp": ("ReduceLogSumExp", lambda t: gn.reduce_logsumexp(t["x"], axis=-1)),
}


def _new_ops(graph, build):
    """The ops ``build`` adds, constants aside (a Python number becomes a Const, as in TF)."""
    tensors = _inputs()
    before = set(graph.get_operations())
    out = build(tensors)
    return out, [op for op in graph.get_operations() if op not in before and op.type != "Const"]


@pytest.mark.parametrize("function", sorted(ONE_OP))
def test_a_function_called_once_is_one_op_of_tensorflows_type(function, fresh_default_graph):
    op_type, build = ONE_OP[function]
    out, added = _new_ops(fresh_default_graph, build)
    assert [op.type for op in added] == [op_type]
    assert out.op is added[0]


def test_a_name_given_names_the_one_op():
    x = gn.placeholder(gn.float32, [3, 4])
    loss = gn.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=x, name="loss")
    assert (loss.op.name, loss.op.type) == ("loss", "SigmoidCrossEntropyWithLogits")
    assert gn.nn.l2_loss(x, name="decay").op.name == "decay"


# public function -> (scope, last op's type, builder): TensorFlow 1 draws these as a scope.
SCOPED = {
    "dropout": ("dropout", "Select", lambda t: gn.nn.dropout(t["x"], 0.5)),
    "dropout_flag": ("dropout", "Select", lambda t: gn.nn.dropout(
        t["x"], 0.5, training=gn.placeholder(gn.bool, [], name="training"))),
    "clip_by_value": ("clip_by_value", "Maximum", lambda t: gn.clip_by_value(t["x"], 0.0, 1.0)),
    "random_normal": ("random_normal", "Add", lambda t: gn.random_normal([3], 1.0, 2.0)),
    "truncated_normal": ("truncated_normal", "Add",
                         lambda t: gn.truncated_normal([3], stddev=0.1)),
    "random_uniform": ("random_uniform", "Add", lambda t: gn.random_uniform([3], -1.0, 1.0)),
    "random_uniform_tensor_bounds": ("random_uniform", "Add", lambda t: gn.random_uniform(
        [3], gn.constant(-1.0, name="low"), gn.constant(1.0, name="high"))),
    "zeros_like_other_dtype": ("zeros_like", "Fill",
                               lambda t: gn.zeros_like(t["x"], dtype=gn.int32)),
    "ones_like_other_dtype": ("ones_like", "Fill", lambda t: gn.ones_like(t["x"], dtype=gn.int32)),
}


@pytest.mark.parametrize("function", sorted(SCOPED))
def test_a_composite_of_tensorflow_1_is_one_name_scope(function, fresh_default_graph):
    scope, last_type, build = SCOPED[function]
    out, added = _new_ops(fresh_default_graph, build)
    added = [op for op in added if op.type != "Placeholder"]
    assert (out.op.name, out.op.type) == (scope, last_type)
    assert all(op.name.startswith(scope + "/") for op in added if op is not out.op), \
        [op.name for op in added]


def test_a_scoped_composite_takes_the_name_given():
    x = gn.placeholder(gn.float32, [3, 4])
    with gn.name_scope("layer"):
        out = gn.nn.dropout(x, 0.5, name="drop")
    assert out.name == "layer/drop:0"
    assert {op.name.split("/")[1] for op in gn.get_default_graph().get_operations()
            if op.name.startswith("layer/")} == {"drop"}


def test_unscaled_random_draws_stay_one_op():
    assert gn.random_normal([3]).op.type == "RandomStandardNormal"
    assert gn.random_uniform([3], name="noise").op.name == "noise"


def test_stabilization_still_rewrites_the_single_ops():
    """log(softmax(x)) -> log_softmax(x), and sum(labels * log_softmax) -> the fused loss,
    whose lowering is the same op a user's softmax_cross_entropy_with_logits gets."""
    x = gn.placeholder(gn.float32, [2, 3])
    labels = gn.constant(np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]], np.float32))
    naive = -gn.reduce_sum(labels * gn.log(gn.nn.softmax(x)), axis=1)
    fused = gn.nn.softmax_cross_entropy_with_logits(labels=labels, logits=x)
    feed = {x: np.array([[0.0, 200.0, -200.0], [1.0, 2.0, 3.0]], np.float32)}
    with gn.Session() as sess:
        report = sess.compile_report(naive, feed)
        got, want = sess.run([naive, fused], feed)
    types = [op.type for op in report.optimized_graph.get_operations()]
    assert "SoftmaxCrossEntropyWithLogits" in types and "Softmax" not in types
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.all(np.isfinite(got))


def test_sigmoid_cross_entropy_is_finite_and_its_gradient_is_sigmoid_minus_labels():
    logits = gn.placeholder(gn.float64, [4])
    labels = gn.constant(np.array([0.0, 1.0, 0.25, 1.0]))
    loss = gn.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    d_logits, d_labels = gn.gradients(gn.reduce_sum(loss), [logits, labels])
    z = np.array([800.0, -800.0, 0.5, 3.0])
    with gn.Session() as sess:
        value, g_logits, g_labels = sess.run([loss, d_logits, d_labels], {logits: z})
    np.testing.assert_allclose(value[:2], [800.0, 800.0])
    np.testing.assert_allclose(g_logits, 0.5 + 0.5 * np.tanh(z / 2) - [0.0, 1.0, 0.25, 1.0])
    np.testing.assert_allclose(g_labels, -z)


@pytest.mark.parametrize("data_format,shape", [("NHWC", (2, 3, 4)), ("NCHW", (2, 4, 3, 2)),
                                               ("NCHW", (5, 4))])
def test_bias_add_of_unknown_rank_trains_its_bias(data_format, shape):
    value = gn.placeholder(gn.float64)
    bias = gn.constant(np.arange(4.0))
    out = gn.nn.bias_add(value, bias, data_format=data_format)
    d_bias, = gn.gradients(gn.reduce_sum(out * out, axis=list(range(len(shape)))), [bias])
    x = np.random.default_rng(0).normal(size=shape)
    channels = -1 if data_format == "NHWC" else 1
    along = [1] * len(shape)
    along[channels] = 4
    expected = x + np.arange(4.0).reshape(along)
    others = tuple(i for i in range(len(shape)) if i != channels % len(shape))
    with gn.Session() as sess:
        got, grad = sess.run([out, d_bias], {value: x})
    np.testing.assert_allclose(got, expected)
    np.testing.assert_allclose(grad, (2 * expected).sum(axis=others))


def test_bias_add_refuses_a_bias_of_the_wrong_size_naming_the_op():
    x = gn.placeholder(gn.float32, [2, 3])
    with pytest.raises(gn.errors.ShapeError,
                       match=r"bias of size 4 does not match the 3 channels.*'shift' \(op: BiasAdd\)"):
        gn.nn.bias_add(x, gn.zeros([4]), name="shift")
    with pytest.raises(ValueError, match="data_format"):
        gn.nn.bias_add(x, gn.zeros([3]), data_format="NWC")
