"""Split programs under a MirroredStrategy, run with 4 forced CPU devices.

``tests/distribute/test_split_mirrored.py`` starts this in a subprocess (XLA_FLAGS must be
set before JAX starts) and asserts on the JSON it prints. Each graph is trained whole on
one device, whole on 4 and split into segments on 4 (small ``split_above`` and
``segment_ops`` so that small graphs are split).
"""
import json
import os

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"

import numpy as np  # noqa: E402

import graphnn as gn  # noqa: E402

SPLIT = {"split_above": 60, "segment_ops": 30}
STEPS = 3


def spec(sharding) -> list:
    return [None if part is None else str(part) for part in sharding.spec]


def chain(rng):
    """A 90-op element-wise chain over a batch, scaled by a trained vector."""
    x = gn.placeholder(gn.float32, [None, 4], name="x")
    w = gn.Variable(np.linspace(0.5, 1.5, 4).astype(np.float32), name="w")
    y, h = x, x * w
    for i in range(90):
        h = gn.tanh(h) if i % 3 == 0 else (h * 0.9 if i % 3 == 1 else h + y)
    loss = gn.reduce_mean(gn.square(h - 0.5))
    train = gn.train.GradientDescentOptimizer(0.1).minimize(loss)
    return loss, train, [w], {x: rng.normal(size=(8, 4)).astype(np.float32)}


def rnn(rng, steps=16, batch=8, inputs=3, hidden=6):
    """An Elman RNN unrolled as TF 1's static_rnn: one placeholder per time step."""
    xs = [gn.placeholder(gn.float32, [None, inputs], name=f"x{t}") for t in range(steps)]
    target = gn.placeholder(gn.float32, [None, hidden], name="target")
    w_x = gn.Variable(rng.normal(size=(inputs, hidden)).astype(np.float32) * 0.5, name="w_x")
    w_h = gn.Variable(rng.normal(size=(hidden, hidden)).astype(np.float32) * 0.3, name="w_h")
    b = gn.Variable(np.zeros(hidden, np.float32), name="b")
    h = gn.zeros_like(gn.matmul(xs[0], w_x))
    for x in xs:
        h = gn.tanh(gn.matmul(x, w_x) + gn.matmul(h, w_h) + b)
    loss = gn.reduce_mean(gn.square(h - target))
    train = gn.train.MomentumOptimizer(0.1, 0.9).minimize(loss)
    feed = {x: rng.normal(size=(batch, inputs)).astype(np.float32) for x in xs}
    feed[target] = rng.normal(size=(batch, hidden)).astype(np.float32)
    return loss, train, [w_x, w_h, b], feed


def train(build, options: dict) -> tuple:
    """STEPS runs then a run_loop of STEPS steps; returns (results, session, graph parts)."""
    graph = gn.Graph()
    with graph.as_default():
        loss, step, variables, feed = build(np.random.default_rng(0))
        sess = gn.Session(**options)
        sess.run(gn.global_variables_initializer())
        losses = [float(sess.run([step, loss], feed)[1]) for _ in range(STEPS)]
        stacked = {k: np.stack([v * (1 + 0.1 * s) for s in range(STEPS)]) for k, v in feed.items()}
        looped = [float(v) for v in sess.run_loop([step, loss], stacked)[1]]
        weights = sess.run(variables)
    return {"losses": losses, "loop_losses": looped, "weights": weights}, sess, \
        (loss, step, feed)


def difference(a: dict, b: dict) -> float:
    values = [np.abs(np.subtract(a[k], b[k])).max() for k in ("losses", "loop_losses")]
    values += [np.abs(x - y).max() for x, y in zip(a["weights"], b["weights"])]
    return float(max(values))


out = {}
strategy = gn.distribute.MirroredStrategy()
one_device, whole_four = {}, {}
for build in (chain, rnn):
    one_device[build] = train(build, {"split_above": None})[0]
    whole_four[build] = train(build, {"split_above": None, "strategy": strategy})[0]
# Separately compiled segments, and runs of identical segments rolled into lax.scan loops
# (compiler.rolled) then compiled as one program; the RNN's loop reads a stack of feeds.
CASES = {"chain": (chain, {**SPLIT, "roll_loops": False}),
         "rnn": (rnn, {**SPLIT, "roll_loops": False}),
         "chain_rolled": (chain, SPLIT),
         "rnn_rolled": (rnn, {**SPLIT, "split_above": 120})}
for name, (build, options) in CASES.items():
    split, sess, (loss, step, feed) = train(build, {**options, "strategy": strategy})
    out[f"{name}_against_one_device"] = difference(split, one_device[build])
    out[f"{name}_against_whole"] = difference(split, whole_four[build])
    report = sess.compile_report([step, loss], feed)
    out[f"{name}_split"] = None if report.split is None else {
        "segments": len(report.split.sizes), "cache_hits": report.split.cache_hits,
        "devices": report.split.devices, "loops": len(report.split.loops)}
    out[f"{name}_shardings"] = {n: spec(s) for n, s in report.shardings.items()}
    out[f"{name}_stored"] = sorted({(len(v.sharding.device_set), str(spec(v.sharding)))
                                    for v in sess._store.values()})
    out[f"{name}_collectives"] = report.collectives
    out[f"{name}_report"] = str(report)
    loop = next(e for e in sess._cache.values() if e.steps is not None and e.split is not None)
    out[f"{name}_loop_feed_specs"] = sorted({str(spec(s)) for s in loop.argument_shardings()[0]})
    try:
        sess.run(loss, {k: v[:6] for k, v in feed.items()})
    except gn.errors.InvalidArgumentError as error:
        out[f"{name}_indivisible"] = str(error)

# Large matrices split over a "model" axis: each segment takes them as stored.
sharded = gn.distribute.MirroredStrategy(model_shards=2, min_shard_elements=30)
split, sess, _ = train(rnn, {**SPLIT, "roll_loops": False, "strategy": sharded})
out["model_sharded_difference"] = difference(split, one_device[rnn])
out["model_sharded_stored"] = sorted(spec(v.sharding) for v in sess._store.values())

# A value check failing in a late segment of a partitioned split program: no variable changes.
with gn.Graph().as_default():
    table = gn.Variable(np.arange(12, dtype=np.float32).reshape(4, 3), name="table")
    index = gn.placeholder(gn.int32, [None], name="index")
    rows = gn.gather(table, index)
    for i in range(80):
        rows = gn.tanh(rows) if i % 2 else rows * 0.5
    picked = gn.gather(table, index + gn.cast(gn.reduce_sum(rows) * 0.0, gn.int32) + 1)
    update = table.assign_add(gn.ones_like(table) * gn.reduce_sum(picked))
    sess = gn.Session(strategy=strategy, **SPLIT)  # (programs with checks are not rolled)
    sess.run(table.initializer)
    try:
        sess.run(update, {index: np.array([0, 1, 2, 3], np.int32)})
    except gn.errors.InvalidArgumentError as error:
        out["failed_check"] = str(error)
    out["failed_check_split"] = sess.compile_report(update, {index: np.zeros(4, np.int32)}) \
        .split is not None
    out["after_failed_check"] = sess.run(table).tolist()

# Segments dispatched back to back on CPU devices: as for whole programs (see
# programs/mirrored.py), a segment's all-reduce deadlocks when the next segment is
# dispatched while it runs, so each segment's run is waited for there.
with gn.Graph().as_default():
    inputs = gn.placeholder(gn.float32, [None, 784])
    labels = gn.placeholder(gn.int32, [None])
    hidden = inputs
    for rows, columns in [(784, 512), (512, 512), (512, 10)]:
        hidden = gn.matmul(hidden, gn.Variable(np.full((rows, columns), 1e-3, np.float32)))
    loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=hidden))
    step = gn.train.AdamOptimizer(1e-3).minimize(loss)
    sess = gn.Session(strategy=strategy, split_above=10, segment_ops=8, roll_loops=False)
    sess.run(gn.global_variables_initializer())
    feed = {inputs: np.ones((256, 784), np.float32), labels: np.zeros(256, np.int32)}
    for _ in range(50):
        sess.run(step, feed)
    out["pipelined_loss"] = float(sess.run(loss, feed))
    out["pipelined_split"] = sess.compile_report(step, feed).split.total_collectives()
print("RESULTS " + json.dumps(out))
