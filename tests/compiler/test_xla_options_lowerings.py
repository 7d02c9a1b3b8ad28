"""Alternative lowerings (OpDef.alternatives) chosen by compiler.xla_options: each gives
the op's own lowering's values, forward and gradients, on the op harness's programs and on
hard values (ties, NaN, infinities, padding); it is used only where the calibration chose
it, the choice is reported and cached, and Session(xla_options="default") turns it off."""
import dataclasses
import itertools
import json
import os
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphnn as gn
from graphnn.compiler import xla_options
from graphnn.framework.registry import OP_TABLE, choosing_lowerings, lowering

ALTERNATIVES = [(op_type, alternative) for op_type, opdef in sorted(OP_TABLE.items())
                for alternative in opdef.alternatives]


def _pin(monkeypatch, tmp_path, chosen):
    """A calibration file choosing XLA's default options for every kind, and each
    alternative lowering when ``chosen`` (else the op's own lowering)."""
    tmp_path.mkdir(exist_ok=True)
    monkeypatch.setenv("GRAPHNN_CACHE_DIR", str(tmp_path))
    kind = {"name": "default", "why": "pinned by the test", "seconds": 0.0, "cached": True}
    lowerings = {f"{op_type}/{alternative.name}": {
        "name": alternative.name if chosen else "default", "seconds": 0.0, "cached": True,
        "why": f"pinned to {'chosen' if chosen else 'not chosen'} by the test"}
        for op_type, alternative in ALTERNATIVES}
    with open(xla_options.calibration_path(), "w", encoding="utf-8") as file:
        json.dump({"format": xla_options.CACHE_FORMAT, "machine": xla_options.machine_fingerprint(),
                   "kinds": {xla_options.CONVOLUTION: kind, xla_options.DOT: kind},
                   "lowerings": lowerings}, file)


def _harness_cases():
    cases = []
    for op_type, alternative in ALTERNATIVES:
        for dtype in (gn.float32, gn.float64):
            rng = np.random.default_rng(zlib.crc32(f"{op_type}/{dtype.name}".encode()))
            for number, sample in enumerate(OP_TABLE[op_type].samples(rng, dtype)):
                cases.append(pytest.param(op_type, alternative, sample,
                                          id=f"{op_type}-{alternative.name}-{dtype.name}-{number}"))
    return cases


def _forward_and_gradients(op_type, sample, mode):
    """The op's outputs, first gradients, and the gradient of a first gradient."""
    graph = gn.Graph()
    with graph.as_default():
        feeds = {gn.placeholder(value.dtype, shape=np.shape(value)): value
                 for value in sample.inputs}
        inputs = list(feeds)
        op = graph.create_op(op_type, inputs, sample.attrs)
        weights = gn.constant(np.linspace(-1.0, 2.0, op.outputs[0].shape.num_elements())
                              .reshape(op.outputs[0].shape.as_list()).astype(inputs[0].dtype
                                                                            .as_numpy_dtype))
        objective = gn.reduce_sum(gn.square(op.outputs[0]) * weights)
        first = gn.gradients(objective, inputs)
        second = gn.gradients(gn.reduce_sum(first[0] * first[0]), inputs)
        fetches = list(op.outputs) + [g for g in first + second if g is not None]
        with gn.Session(graph, xla_options=mode) as sess:
            report = sess.compile_report(fetches, feeds)
            return sess.run(fetches, feeds), report


def test_there_are_alternatives_to_check():
    assert ("MaxPool", "tiled-windows") in [(t, a.name) for t, a in ALTERNATIVES]


@pytest.mark.parametrize("op_type, alternative, sample", _harness_cases())
def test_every_alternative_gives_the_default_results_on_harness_programs(
        op_type, alternative, sample, monkeypatch, tmp_path):
    _pin(monkeypatch, tmp_path, chosen=True)
    got, report = _forward_and_gradients(op_type, sample, "auto")
    want, default_report = _forward_and_gradients(op_type, sample, "default")
    assert f"lowering of {op_type}: {alternative.name} (" in str(report)
    assert default_report.xla_choice.lowerings == ()
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w, err_msg=f"{op_type} with {alternative.name}")


def _max_pool_cases():
    yield from itertools.product([(5, 7), (9, 9)], [(2, 2), (3, 3), (3, 2)], ("SAME", "VALID"),
                                 ("NHWC",))
    yield (9, 9), (3, 3), "SAME", "NCHW"
    yield (5, 7), (3, 2), "VALID", "NCHW"


def test_tiled_max_pool_gradient_routes_ties_nan_and_infinities_as_the_default():
    """The gradient goes where select_and_scatter sends it: the first maximum in row-major
    window order under >=, padding included (JAX pads with -inf on CPU)."""
    alternative = next(a for t, a in ALTERNATIVES if t == "MaxPool")
    own = OP_TABLE["MaxPool"].lower
    rng = np.random.default_rng(0)
    for (h, w), window, padding, data_format in _max_pool_cases():
        shape = (4, h, w, 3) if data_format == "NHWC" else (4, 3, h, w)
        attrs = {"ksize": window, "strides": window, "padding": padding,
                 "data_format": data_format}
        x = np.round(rng.normal(size=shape)).astype(np.float32)  # rounded: many ties
        specials = x[2:].reshape(-1)  # the last two images also hold NaN, infinities, -0.0
        where = rng.choice(specials.size, size=specials.size // 3, replace=False)
        specials[where] = rng.choice([np.nan, np.inf, -np.inf, 0.0, -0.0], size=where.size)
        x[2:] = specials.reshape(x[2:].shape)
        grad = rng.normal(size=own(x, **attrs).shape).astype(np.float32)
        got, want = (jax.jit(lambda v, g, lower=lower: jax.vjp(
            lambda u: lower(u, **attrs), v)[1](g)[0])(x, grad) for lower in (alternative.lower, own))
        np.testing.assert_array_equal(np.asarray(alternative.lower(x, **attrs)),
                                      np.asarray(own(x, **attrs)), err_msg=str(attrs))
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=str(attrs))
    all_minus_inf = np.full((1, 4, 4, 1), -np.inf, np.float32)
    padded = {"ksize": (3, 3), "strides": (3, 3), "padding": "SAME", "data_format": "NHWC"}
    grad = np.ones((1, 2, 2, 1), np.float32)
    for lower in (own, alternative.lower):
        # Windows of -inf starting at padding (-inf too) leave their gradient there: only
        # the window starting at an input, (2, 2), passes its gradient on.
        _, pullback = jax.vjp(lambda v: lower(v, **padded), all_minus_inf)
        assert np.asarray(pullback(grad)[0])[0, :, :, 0].tolist() == [
            [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]


def test_overlapping_windows_keep_xla_lowering():
    alternative = next(a for t, a in ALTERNATIVES if t == "MaxPool")
    attrs = {"ksize": (3, 3), "strides": (2, 2), "padding": "SAME", "data_format": "NHWC"}
    jaxpr = jax.make_jaxpr(jax.grad(lambda x: jnp.sum(alternative.lower(x, **attrs))))(
        np.ones((1, 6, 6, 1), np.float32))
    assert "select_and_scatter_add" in str(jaxpr)


def _pool_graph():
    x = gn.placeholder(gn.float32, [2, 8, 8, 3])
    y = gn.nn.max_pool2d(x, 2, 2, "VALID")
    loss = gn.reduce_sum(y * y)
    return x, y, gn.gradients(loss, [x])[0]


def test_the_report_says_which_lowering_a_program_got(monkeypatch, tmp_path):
    _pin(monkeypatch, tmp_path / "refused", chosen=False)
    x, _, grad = _pool_graph()
    feed = {x: np.zeros((2, 8, 8, 3), np.float32)}
    with gn.Session() as sess:
        refused = str(sess.compile_report(grad, feed))
    assert "lowering of MaxPool: its own lowering (pinned to not chosen by the test" in refused
    _pin(monkeypatch, tmp_path / "chosen", chosen=True)
    with gn.Session() as sess:
        chosen = sess.compile_report(grad, feed)
    assert "lowering of MaxPool: tiled-windows (gradient computed elementwise" in str(chosen)
    assert chosen.calibration_seconds == 0.0


def test_chosen_lowering_is_what_the_program_runs(monkeypatch, tmp_path):
    """The program's forward and gradient trace the alternative where it is chosen, the
    op's own lowering where not."""
    opdef = OP_TABLE["MaxPool"]
    calls = []

    def counted(*args, **attrs):
        calls.append(attrs["ksize"])
        return opdef.alternatives[0].lower(*args, **attrs)
    monkeypatch.setitem(OP_TABLE, "MaxPool", dataclasses.replace(
        opdef, alternatives=(dataclasses.replace(opdef.alternatives[0], lower=counted),)))
    for chosen in (True, False):
        calls.clear()
        _pin(monkeypatch, tmp_path / str(chosen), chosen)
        x, y, grad = _pool_graph()
        value = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype(np.float32)
        with gn.Session() as sess:
            got = sess.run([y, grad], {x: value})
        assert len(calls) == (2 if chosen else 0)  # the forward and its VJP node
        with gn.Session(xla_options="default") as sess:
            want = sess.run([y, grad], {x: value})
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_default_mode_and_other_platforms_never_use_alternatives(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHNN_CACHE_DIR", str(tmp_path))
    x, _, grad = _pool_graph()
    with gn.Session(xla_options="default") as sess:
        report = sess.compile_report(grad, {x: np.zeros((2, 8, 8, 3), np.float32)})
    assert report.xla_choice.lowerings == () and "lowering of" not in str(report)
    assert not os.listdir(tmp_path)
    chooser = xla_options.LoweringChooser("auto", "gpu")
    assert not any(chooser(OP_TABLE[t], a) for t, a in ALTERNATIVES)
    assert chooser.decisions == {}


def test_alternative_is_calibrated_once_in_its_own_thread_and_cached(monkeypatch, tmp_path):
    """Calibrated while a float64 program is traced: the measurement (float32) runs apart
    from that trace and lands in the cache file's lowerings section."""
    monkeypatch.setenv("GRAPHNN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(xla_options, "ROUNDS", 3)
    x = gn.placeholder(gn.float64, [2, 8, 8, 3])
    grad = gn.gradients(gn.reduce_sum(gn.nn.max_pool2d(x, 2, 2, "SAME")), [x])[0]
    value = np.random.default_rng(0).normal(size=(2, 8, 8, 3))
    with gn.Session() as sess:
        first = sess.compile_report(grad, {x: value})
        got = sess.run(grad, {x: value})
    assert first.calibration_seconds > 0.0
    with gn.Session(xla_options="default") as sess:
        np.testing.assert_array_equal(got, sess.run(grad, {x: value}))
    with open(xla_options.calibration_path(), encoding="utf-8") as file:
        stored = json.load(file)["lowerings"]["MaxPool/tiled-windows"]
    assert stored["name"] in ("default", "tiled-windows") and stored["seconds"] > 0.0
    with gn.Session() as sess:
        again = sess.compile_report(grad * 2.0, {x: value})
    assert again.calibration_seconds == 0.0
    assert again.xla_choice.lowerings == first.xla_choice.lowerings


def test_no_chooser_means_the_ops_own_lowering():
    opdef = OP_TABLE["MaxPool"]
    assert lowering(opdef) is opdef.lower
    with choosing_lowerings(lambda op, alternative: True):
        assert lowering(opdef) is opdef.alternatives[0].lower
    assert lowering(opdef) is opdef.lower
