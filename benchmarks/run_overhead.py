"""Per-call overhead of Session.run and make_callable, next to jax.jit, and the per-step
cost of a dispatch-bound training step (Iris-size MLP 4-16-3, tanh, batch 16, Adam(1e-2),
sparse softmax cross-entropy with its label check).

Both sides take numpy in and give numpy out, measured in one process, interleaved over
several rounds; the table reports the median microseconds per call.

``--compare DIR`` measures this checkout and another one (``git worktree add DIR <commit>``)
in alternating subprocesses, each importing its own graphnn, and reports the median over
rounds of the per-round ratio (this / other): on a shared machine only such ratios mean
anything.

Usage: python benchmarks/run_overhead.py [--rounds 7] [--compare DIR]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import jax
import numpy as np

import graphnn as gn

TRAIN_STEPS = 200


def per_call_us(fn, calls: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def iris_step():
    """A function running TRAIN_STEPS training steps, one sess.run each (the last one also
    fetches the loss, waiting for the device); returns microseconds per step."""
    rng = np.random.default_rng(2)
    graph = gn.Graph()
    with graph.as_default():
        x = gn.placeholder(gn.float32, [None, 4], name="x")
        y = gn.placeholder(gn.int32, [None], name="y")
        w1 = gn.Variable(rng.normal(size=(4, 16)).astype(np.float32))
        w2 = gn.Variable(rng.normal(size=(16, 3)).astype(np.float32) * 0.25)
        h = gn.tanh(gn.matmul(x, w1) + gn.Variable(np.zeros(16, np.float32)))
        logits = gn.matmul(h, w2) + gn.Variable(np.zeros(3, np.float32))
        loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                            logits=logits))
        train = gn.train.AdamOptimizer(1e-2).minimize(loss)
        init = gn.global_variables_initializer()
    sess = gn.Session(graph)
    xs = rng.normal(size=(TRAIN_STEPS, 16, 4)).astype(np.float32)
    ys = rng.integers(0, 3, size=(TRAIN_STEPS, 16)).astype(np.int32)
    sess.run(init)
    sess.run(train, {x: xs[0], y: ys[0]})
    sess.run([loss, train], {x: xs[0], y: ys[0]})

    def steps() -> float:
        sess.run(init)
        start = time.perf_counter()
        for i in range(TRAIN_STEPS - 1):
            sess.run(train, {x: xs[i], y: ys[i]})
        sess.run([loss, train], {x: xs[-1], y: ys[-1]})
        return (time.perf_counter() - start) / TRAIN_STEPS * 1e6
    return steps


def measure(rounds: int, calls: int) -> dict:
    """Median microseconds per call (per step for the training step) of each contender."""
    x_value = np.arange(4, dtype=np.float32)
    x = gn.placeholder(gn.float32, shape=[4], name="x")
    y = 2.0 * x + 1.0
    sess = gn.Session()
    step = sess.make_callable(y, [x])
    jitted = jax.jit(lambda v: 2.0 * v + 1.0)
    assert np.allclose(step(x_value), np.asarray(jitted(x_value)))
    train_steps = iris_step()
    contenders = {
        "jax.jit (numpy in/out)": lambda: per_call_us(lambda: np.asarray(jitted(x_value)), calls),
        "sess.run": lambda: per_call_us(lambda: sess.run(y, feed_dict={x: x_value}), calls),
        "make_callable": lambda: per_call_us(lambda: step(x_value), calls),
        "Iris train step (sess.run)": train_steps,
    }
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(fn())
    return {name: statistics.median(values) for name, values in samples.items()}


def compare(other: str, rounds: int, calls: int) -> None:
    """Alternating subprocesses of this checkout and ``other``; median of per-round ratios."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = os.path.abspath(__file__)
    results: dict = {here: [], other: []}
    for i in range(rounds):
        for checkout in ((here, other) if i % 2 == 0 else (other, here)):
            env = dict(os.environ, PYTHONPATH=checkout)
            out = subprocess.run([sys.executable, script, "--rounds", "3", "--calls", str(calls),
                                  "--json"], cwd=checkout, env=env, capture_output=True,
                                 text=True, check=True).stdout
            results[checkout].append(json.loads(out.splitlines()[-1]))
    print(f"{'median of ' + str(rounds) + ' rounds, us':28s} {'this':>9s} {'other':>9s} "
          f"{'this/other':>11s}")
    for name in results[here][0]:
        mine = [r[name] for r in results[here]]
        theirs = [r[name] for r in results[other]]
        ratio = statistics.median(a / b for a, b in zip(mine, theirs))
        print(f"{name:28s} {statistics.median(mine):9.1f} {statistics.median(theirs):9.1f} "
              f"{ratio:10.3f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--compare", metavar="DIR", help="another checkout to compare with")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compare:
        compare(os.path.abspath(args.compare), args.rounds, args.calls)
        return
    medians = measure(args.rounds, args.calls)
    if args.json:
        print(json.dumps(medians))
        return
    base = medians["jax.jit (numpy in/out)"]
    print(f"{'us per call (per step)':28s} {'median':>9s} {'vs jax.jit':>11s}")
    for name, median in medians.items():
        print(f"{name:28s} {median:9.1f} {median / base:10.2f}x")


if __name__ == "__main__":
    main()
