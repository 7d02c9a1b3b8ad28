"""The single-machine MirroredStrategy checks, run with 4 forced CPU devices.

``tests/distribute/test_mirrored.py`` starts this in a subprocess (XLA_FLAGS must be set
before JAX starts) and asserts on the JSON it prints: one process checks many things.
"""
import json
import os
import sys

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import graphnn as gn  # noqa: E402
import mlp  # noqa: E402


def largest_difference(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(np.asarray(a[k]) - np.asarray(b[k])))) for k in a)


def spec(sharding) -> list:
    return [None if part is None else str(part) for part in sharding.spec]


def stored(sess) -> list:
    return [(len(v.sharding.device_set), v.sharding.is_fully_replicated, spec(v.sharding))
            for v in sess._store.values()]


out = {}
strategy = gn.distribute.MirroredStrategy()
out["replicas"] = strategy.num_replicas_in_sync

# run, run_loop and make_callable: one device against four.
one, _, _ = mlp.train_low_level(None)
four, sess, (x, y, train, loss) = mlp.train_low_level(strategy)
out["low_level_difference"] = largest_difference(one, four)
out["session_devices"] = len(sess.devices)
out["stored"] = stored(sess)
xs, ys = mlp.data()
report = sess.compile_report(train, {x: xs, y: ys, "rate:0": 0.3})
out["feed_specs"] = {name: spec(s) for name, s in report.shardings.items()}
out["collectives"] = report.collectives
out["report_text"] = str(report)
loop = [e for e in sess._cache.values() if e.steps is not None][0]
out["loop_feed_specs"] = [spec(s) for s in loop.argument_shardings()[0]]
try:
    sess.run(loss, {x: xs[:6], y: ys[:6]})
except gn.errors.InvalidArgumentError as error:
    out["indivisible"] = str(error)

# Large matrices split over a "model" axis: 2 replicas of 2 devices each.
sharded = gn.distribute.MirroredStrategy(model_shards=2, min_shard_elements=200)
two_by_two, sess, _ = mlp.train_low_level(sharded)
out["model_sharded_difference"] = largest_difference(one, two_by_two)
out["model_sharded_stored"] = sorted(spec(v.sharding) for v in sess._store.values())
out["model_sharded_replicas"] = sharded.num_replicas_in_sync

# fit, evaluate and predict of a model built under strategy.scope() (batch 12, 64 samples).
out["model_difference"] = largest_difference(mlp.train_model(None), mlp.train_model(strategy))

# Random draws (dropout) do not depend on how the batch is split.
graph = gn.Graph()
with graph.as_default():
    gn.set_random_seed(1)
    inputs = gn.placeholder(gn.float32, [None, 8])
    dropped = gn.nn.dropout(inputs, rate=0.5)
    draws = [gn.Session(strategy=s).run(dropped, {inputs: np.ones((8, 8), np.float32)})
             for s in (None, strategy)]
out["dropout_difference"] = float(np.max(np.abs(draws[0] - draws[1])))

# A failed value check inside a partitioned program: the run raises, no variable changes.
with graph.as_default():
    table = gn.Variable(np.arange(12, dtype=np.float32).reshape(4, 3))
    index = gn.placeholder(gn.int32, [None])
    update = table.assign_add(gn.ones_like(table) * gn.reduce_sum(gn.gather(table, index + 1)))
    sess = gn.Session(strategy=strategy)
    sess.run(table.initializer)
    try:
        sess.run(update, {index: np.array([0, 1, 2, 3], np.int32)})
    except gn.errors.InvalidArgumentError as error:
        out["failed_check"] = str(error)
    out["after_failed_check"] = sess.run(table).tolist()

# Steps dispatched back to back (nothing fetched) on CPU devices: with matrices large
# enough for XLA:CPU to split its matmuls over threads, pipelined partitioned programs
# deadlock in their all-reduce (the process aborts), so graphnn waits for each run there.
with gn.Graph().as_default():
    inputs = gn.placeholder(gn.float32, [None, 784])
    labels = gn.placeholder(gn.int32, [None])
    hidden = inputs
    for rows, columns in [(784, 512), (512, 512), (512, 10)]:
        hidden = gn.matmul(hidden, gn.Variable(np.full((rows, columns), 1e-3, np.float32)))
    loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=hidden))
    train = gn.train.AdamOptimizer(1e-3).minimize(loss)
    sess = gn.Session(strategy=strategy)
    sess.run(gn.global_variables_initializer())
    feed = {inputs: np.ones((256, 784), np.float32), labels: np.zeros(256, np.int32)}
    for _ in range(50):
        sess.run(train, feed)
    out["pipelined_loss"] = float(sess.run(loss, feed))
print("RESULTS " + json.dumps(out))
