"""Property: on random graphs (and their gradients), optimized and unoptimized runs agree."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphnn as gn

UNARY = {
    "tanh": gn.tanh, "sin": gn.sin, "neg": gn.negative, "abs": gn.abs, "sigmoid": gn.sigmoid,
    "relu": gn.nn.relu, "softplus": gn.nn.softplus, "square_small": lambda t: gn.square(t) * 0.1,
    "exp_clipped": lambda t: gn.exp(gn.clip_by_value(t, -3.0, 3.0)),
    "log1p_abs": lambda t: gn.log(1.0 + gn.abs(t)),
    "log_sigmoid": lambda t: gn.log(gn.sigmoid(t)),
    "log_softmax": lambda t: gn.log(gn.nn.softmax(t)),
    "times_one": lambda t: t * 1.0, "plus_zero": lambda t: 0.0 + t, "minus_zero": lambda t: t - 0.0,
    "identity": gn.identity, "stop_gradient": gn.stop_gradient,
    "double_negation": lambda t: -(-t),
    "transpose_twice": lambda t: gn.transpose(gn.transpose(t)),
    "reshape_twice": lambda t: gn.reshape(gn.reshape(t, [-1]), [3, 4]),
    "cast_same": lambda t: gn.cast(t, gn.float32),
    "mean_back": lambda t: t - gn.reduce_mean(t, axis=1, keepdims=True),
    "sum_unit_axis": lambda t: gn.reduce_sum(gn.expand_dims(t, 1), axis=1),
    "bias": lambda t: t + gn.constant(np.linspace(-1, 1, 4, dtype=np.float32)),
}
BINARY = {
    "add": gn.add, "sub": gn.subtract, "mul": gn.multiply, "maximum": gn.maximum,
    "minimum": gn.minimum, "safe_div": lambda a, b: a / (gn.abs(b) + 1.0),
    "select": lambda a, b: gn.where(a > b, a, b),
}

step = st.one_of(
    st.tuples(st.just("unary"), st.sampled_from(sorted(UNARY)), st.integers(0, 100)),
    st.tuples(st.just("binary"), st.sampled_from(sorted(BINARY)), st.integers(0, 100),
              st.integers(0, 100)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=12), seed=st.integers(0, 2 ** 16))
def test_optimized_and_unoptimized_runs_agree(steps, seed):
    graph = gn.Graph()
    with graph.as_default():
        x = gn.placeholder(gn.float32, [None, 4], name="x")
        w = gn.Variable(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), name="w")
        values = [x, w, x * w]
        for item in steps:
            if item[0] == "unary":
                values.append(UNARY[item[1]](values[item[2] % len(values)]))
            else:
                values.append(BINARY[item[1]](values[item[2] % len(values)],
                                              values[item[3] % len(values)]))
        out = gn.reduce_sum(values[-1] * values[-1]) * 0.01
        grads = gn.gradients(out, [x, w])
        fetches = [out] + [g for g in grads if g is not None]
        init = gn.global_variables_initializer()
    feed = {x: np.random.default_rng(seed).normal(size=(3, 4)).astype(np.float32)}
    results = []
    for optimize in (True, False):
        with gn.Session(graph, optimize=optimize) as sess:
            sess.run(init)
            results.append(sess.run(fetches, feed))
    ops_before = len(graph.get_operations())
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)
    assert len(graph.get_operations()) == ops_before
