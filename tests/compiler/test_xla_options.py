"""XLA options per program (compiler.xla_options): every option set the compiler may choose
gives the default path's results, the choice is reported, cached per machine and jaxlib,
and Session(xla_options="default") turns it off."""
import json
import os
import zlib

import jax
import jaxlib
import numpy as np
import pytest

import graphnn as gn
from graphnn.compiler import xla_options
from graphnn.framework.registry import OP_TABLE

# Other XLA code paths sum in another order: float32 results agree to a few ulps of the
# largest value, float64 ones (which the library fusions leave to XLA) to rounding.
TOLERANCE = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-12}


def _accepted(options):
    try:
        jax.jit(lambda a: a @ a).lower(np.eye(2, dtype=np.float32)).compile(
            compiler_options=options)
    except Exception:  # noqa: BLE001 - jaxlib's error for an unknown option
        return False
    return True


ACCEPTED = [name for name, options in xla_options.CANDIDATES.items() if _accepted(options)]
REFUSED = [name for name in xla_options.CANDIDATES if name not in ACCEPTED]


def _pin(monkeypatch, tmp_path, name):
    """Points the calibration cache at a file whose verdict is ``name`` for every kind."""
    monkeypatch.setenv("GRAPHNN_CACHE_DIR", str(tmp_path))
    entry = {"name": name, "why": f"pinned to {name} by the test", "seconds": 0.0,
             "cached": True}
    with open(xla_options.calibration_path(), "w", encoding="utf-8") as file:
        json.dump({"format": xla_options.CACHE_FORMAT, "machine": xla_options.machine_fingerprint(),
                   "kinds": {xla_options.CONVOLUTION: entry, xla_options.DOT: entry}}, file)


def _assert_close(got, want, what):
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, what
        if g.dtype.kind == "f":
            scale = max(float(np.max(np.abs(w), initial=0.0)), 1.0)
            np.testing.assert_allclose(g, w, rtol=TOLERANCE[g.dtype],
                                       atol=TOLERANCE[g.dtype] * scale, err_msg=what)
        else:
            np.testing.assert_array_equal(g, w, err_msg=what)


def _kind_of_sample(op_type, sample):
    """The program kind of an op's lowering on a sample (None: XLA's defaults anyway)."""
    try:
        with jax.enable_x64(True):
            jaxpr = jax.make_jaxpr(lambda *a: OP_TABLE[op_type].lower(*a, **sample.attrs))(
                *sample.inputs)
    except Exception:  # noqa: BLE001 - ops needing static inputs: shape ops, never dots
        return None
    return xla_options.program_kind(jaxpr)


def _harness_programs():
    """Op harness samples whose programs multiply matrices or convolve, float32 and 64."""
    cases = []
    for op_type in sorted(t for t, d in OP_TABLE.items() if d.samples is not None):
        for dtype in (gn.float32, gn.float64):
            rng = np.random.default_rng(zlib.crc32(f"{op_type}/{dtype.name}".encode()))
            for number, sample in enumerate(OP_TABLE[op_type].samples(rng, dtype)):
                if _kind_of_sample(op_type, sample) is not None:
                    cases.append(pytest.param(op_type, sample,
                                              id=f"{op_type}-{dtype.name}-{number}"))
    return cases


def _run_forward_and_gradients(op_type, sample, mode):
    graph = gn.Graph()
    with graph.as_default():
        inputs, feeds = [], {}
        for i, value in enumerate(sample.inputs):
            if i in sample.static:
                inputs.append(graph.constant(np.asarray(value)))
                continue
            placeholder = gn.placeholder(value.dtype, shape=np.shape(value))
            inputs.append(placeholder)
            feeds[placeholder] = value
        op = graph.create_op(op_type, inputs, sample.attrs)
        fetches = list(op.outputs)
        floats = [t for t in feeds if t.dtype.is_floating]
        if floats and OP_TABLE[op_type].differentiable:
            objective = gn.add_n([gn.reduce_sum(gn.square(o)) for o in op.outputs
                                  if o.dtype.is_floating])
            fetches += [g for g in gn.gradients(objective, floats) if g is not None]
        with gn.Session(graph, xla_options=mode) as sess:
            report = sess.compile_report(fetches, feeds)
            return sess.run(fetches, feeds), report


@pytest.mark.parametrize("candidate", ACCEPTED)
@pytest.mark.parametrize("op_type, sample", _harness_programs())
def test_every_accepted_option_set_matches_the_default_on_harness_programs(
        op_type, sample, candidate, monkeypatch, tmp_path):
    _pin(monkeypatch, tmp_path, candidate)
    got, report = _run_forward_and_gradients(op_type, sample, "auto")
    want, default_report = _run_forward_and_gradients(op_type, sample, "default")
    assert report.xla_choice.name == candidate
    assert report.xla_options == xla_options.CANDIDATES[candidate]
    assert default_report.xla_options == {}
    _assert_close(got, want, f"{op_type} with {candidate}")


def test_the_harness_programs_cover_dots_and_convolutions():
    kinds = {_kind_of_sample(p.values[0], p.values[1]) for p in _harness_programs()}
    assert kinds == {xla_options.DOT, xla_options.CONVOLUTION}


def _conv_net(graph):
    with graph.as_default():
        rng = np.random.default_rng(0)
        x = gn.placeholder(gn.float32, [None, 12, 12, 1], name="x")
        y = gn.placeholder(gn.int32, [None], name="y")
        w1 = gn.Variable((rng.normal(size=(5, 5, 1, 8)) * 0.2).astype(np.float32))
        h = gn.nn.max_pool2d(gn.nn.relu(gn.nn.conv2d(x, w1, 1, "SAME")), 2, 2, "VALID")
        w2 = gn.Variable((rng.normal(size=(3, 3, 8, 16)) * 0.1).astype(np.float32))
        h = gn.nn.max_pool2d(gn.nn.relu(gn.nn.conv2d(h, w2, 1, "SAME")), 2, 2, "VALID")
        w3 = gn.Variable((rng.normal(size=(144, 10)) * 0.1).astype(np.float32))
        logits = gn.matmul(gn.reshape(h, [-1, 144]), w3)
        loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                              logits=logits))
        train = gn.train.AdamOptimizer(1e-2).minimize(loss)
        return x, y, loss, train, gn.global_variables_initializer()


@pytest.mark.parametrize("candidate", ACCEPTED)
def test_training_a_conv_net_with_each_option_set_matches_the_default(
        candidate, monkeypatch, tmp_path):
    _pin(monkeypatch, tmp_path, candidate)
    graph = gn.Graph()
    x, y, loss, train, init = _conv_net(graph)
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(4, 16, 12, 12, 1)).astype(np.float32)
    ys = rng.integers(0, 10, size=(4, 16)).astype(np.int32)
    results = {}
    for mode in ("auto", "default"):
        with gn.Session(graph, xla_options=mode) as sess:
            sess.run(init)
            stepped = [sess.run([loss, train], {x: a, y: b})[0] for a, b in zip(xs, ys)]
            looped = sess.run_loop([loss, train], {x: xs, y: ys})[0]
            chosen = sess.compile_report([loss, train], {x: xs[0], y: ys[0]}).xla_choice.name
            with graph.as_default():
                weights = sess.run(gn.trainable_variables())
            results[mode] = (stepped, looped, weights, chosen)
    assert results["auto"][3] == candidate and results["default"][3] == "default"
    _assert_close(results["auto"][:3], results["default"][:3], f"conv net with {candidate}")


def test_report_names_the_options_and_why(monkeypatch, tmp_path):
    _pin(monkeypatch, tmp_path, ACCEPTED[0])
    a = gn.placeholder(gn.float32, [3, 3])
    with gn.Session() as sess:
        report = sess.compile_report(gn.matmul(a, a), {a: np.eye(3, dtype=np.float32)})
    assert report.xla_options == xla_options.CANDIDATES[ACCEPTED[0]]
    assert report.calibration_seconds == 0.0  # the verdict came from the cache file
    text = str(report)
    assert f"XLA options: {ACCEPTED[0]}" in text
    assert f"pinned to {ACCEPTED[0]} by the test" in text
    assert xla_options.calibration_path() in text


def test_default_switch_gives_xla_defaults_without_calibrating(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHNN_CACHE_DIR", str(tmp_path))
    a = gn.placeholder(gn.float32, [3, 3])
    with gn.Session(xla_options="default") as sess:
        report = sess.compile_report(gn.matmul(a, a), {a: np.eye(3, dtype=np.float32)})
        assert sess.xla_options == "default"
    assert report.xla_options == {} and report.xla_choice.name == "default"
    assert "xla_options='default'" in report.xla_choice.reason
    assert report.calibration_seconds == 0.0
    assert not os.listdir(tmp_path)


def test_programs_without_dots_or_convolutions_keep_the_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHNN_CACHE_DIR", str(tmp_path))
    a = gn.placeholder(gn.float32, [3])
    with gn.Session() as sess:
        report = sess.compile_report(gn.exp(a) + 1.0, {a: np.ones(3, np.float32)})
    assert report.xla_options == {}
    assert "no dots, convolutions or random draws" in report.xla_choice.reason
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("candidate", list(xla_options.COMPILE_CANDIDATES))
def test_each_compile_candidate_draws_the_default_values(candidate, monkeypatch, tmp_path):
    """Initializers (random draws, no dots or convolutions) may be compiled with a cheaper
    LLVM pipeline: every random op draws the same numbers as with XLA's defaults."""
    monkeypatch.setenv("GRAPHNN_CACHE_DIR", str(tmp_path))
    entry = {"name": candidate, "why": "pinned by the test", "seconds": 0.0, "cached": True}
    with open(xla_options.calibration_path(), "w", encoding="utf-8") as file:
        json.dump({"format": xla_options.CACHE_FORMAT, "machine": xla_options.machine_fingerprint(),
                   "kinds": {xla_options.RANDOM: entry}}, file)
    graph = gn.Graph()
    with graph.as_default():
        gn.set_random_seed(3)
        x = gn.placeholder(gn.float32, [64, 32])
        draws = [gn.random_normal([64, 32], seed=1), gn.truncated_normal([5, 5, 8, 16], seed=2),
                 gn.random_uniform([128], seed=3), gn.random_uniform([7], 0, 10, gn.int32, seed=4),
                 gn.nn.dropout(x, rate=0.5, training=True)]
        variable = gn.Variable(gn.random_normal([256, 64], stddev=0.1, seed=5))
    values = np.ones((64, 32), np.float32)
    results = {}
    for mode in ("auto", "default"):
        with gn.Session(graph, xla_options=mode) as sess:
            report = sess.compile_report(draws, {x: values})
            sess.run(variable.initializer)
            results[mode] = (sess.run(draws, {x: values}), sess.run(variable), report)
    assert results["auto"][2].xla_choice.name == candidate
    assert results["auto"][2].xla_options == xla_options.COMPILE_CANDIDATES[candidate]
    assert "random draws program: pinned by the test" in str(results["auto"][2])
    for got, want in zip(results["auto"][0] + [results["auto"][1]],
                         results["default"][0] + [results["default"][1]]):
        np.testing.assert_array_equal(got, want)


def test_unknown_xla_options_mode_is_refused():
    with pytest.raises(gn.errors.InvalidArgumentError, match="xla_options='fast'.*'auto'"):
        gn.Session(xla_options="fast")


def test_calibration_runs_once_is_cached_and_refuses_unknown_options(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHNN_CACHE_DIR", str(tmp_path / "cache"))
    # A candidate this jaxlib does not know is left out with a reason, never an error.
    monkeypatch.setitem(xla_options.CANDIDATES, "bogus", {"xla_cpu_no_such_option": True})
    monkeypatch.setattr(xla_options, "ROUNDS", 3)
    a = gn.placeholder(gn.float32, [None, 784])
    w = gn.Variable(np.full((784, 10), 0.01, np.float32))
    logits = gn.matmul(a, w)
    feed = {a: np.ones((4, 784), np.float32)}
    with gn.Session() as sess:
        sess.run(w.initializer)
        first = sess.compile_report(logits, feed)
        value = sess.run(logits, feed)
    np.testing.assert_allclose(value, np.full((4, 10), 7.84), rtol=1e-5)
    assert first.calibration_seconds > 0.0
    assert first.xla_choice.name in ("default", *ACCEPTED)
    assert "bogus not accepted by jaxlib" in first.xla_choice.reason
    for name in REFUSED:
        assert f"{name} not accepted by jaxlib {jaxlib.__version__}" in first.xla_choice.reason
    path = xla_options.calibration_path()
    assert path.startswith(str(tmp_path / "cache")) and jaxlib.__version__ in path
    with open(path, encoding="utf-8") as file:
        stored = json.load(file)
    assert stored["kinds"][xla_options.DOT]["name"] == first.xla_choice.name
    assert xla_options.CONVOLUTION not in stored["kinds"]  # calibrated only when needed
    with gn.Session() as sess:
        again = sess.compile_report(gn.matmul(a, w) * 2.0, feed)
    assert again.calibration_seconds == 0.0 and again.xla_choice.name == first.xla_choice.name


def test_a_cache_file_from_another_machine_is_ignored(monkeypatch, tmp_path):
    _pin(monkeypatch, tmp_path, ACCEPTED[0])
    with open(xla_options.calibration_path(), encoding="utf-8") as file:
        content = json.load(file)
    content["machine"] = "some other processor"
    with open(xla_options.calibration_path(), "w", encoding="utf-8") as file:
        json.dump(content, file)
    monkeypatch.setattr(xla_options, "ROUNDS", 3)
    a = gn.placeholder(gn.float32, [64, 64])
    with gn.Session() as sess:
        report = sess.compile_report(gn.matmul(a, a), {a: np.eye(64, dtype=np.float32)})
    assert report.calibration_seconds > 0.0
    assert "pinned" not in report.xla_choice.reason
    with open(xla_options.calibration_path(), encoding="utf-8") as file:
        assert json.load(file)["machine"] == xla_options.machine_fingerprint()


def test_options_that_xla_refuses_at_compile_time_fall_back_to_the_defaults(
        monkeypatch, tmp_path):
    _pin(monkeypatch, tmp_path, ACCEPTED[0])
    monkeypatch.setitem(xla_options.CANDIDATES, ACCEPTED[0], {"xla_cpu_no_such_option": True})
    a = gn.placeholder(gn.float32, [2, 2])
    with gn.Session() as sess:
        report = sess.compile_report(gn.matmul(a, a), {a: np.eye(2, dtype=np.float32)})
        value = sess.run(gn.matmul(a, a), {a: np.eye(2, dtype=np.float32)})
    np.testing.assert_array_equal(value, np.eye(2))
    assert report.xla_options == {} and report.xla_choice.name == "default"
    assert f"XLA refused {ACCEPTED[0]}'s options" in report.xla_choice.reason
