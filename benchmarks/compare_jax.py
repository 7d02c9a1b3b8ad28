"""graphnn against hand-written JAX, side by side in one process (issue: compiler speed).

Every ratio is the median of per-round ratios, the workloads interleaved over rounds;
both sides start from the same weights and must end at (nearly) the same loss. graphnn
compiles with the XLA options it chooses (``Session(xla_options="auto")``: printed with
the reason, and its one-time calibration is left out of the first-run time); the
reference is ``jax.jit`` with XLA's defaults. % of peak: the step's FLOPs from XLA's cost
analysis over ``--peak`` (156 GFLOP/s, the float32 FMA peak of the project's 2-core AVX2
machine), at each side's median time.

Usage: python benchmarks/compare_jax.py [--rounds 5] [--steps 200] [--peak 156]
       [--fresh-calibration]
"""
import argparse
import os
import statistics
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import graphnn as gn


def init_weights(sizes, seed):
    rng = np.random.default_rng(seed)
    return [((rng.normal(size=(a, b)) * np.sqrt(2.0 / a)).astype(np.float32),
             np.zeros(b, np.float32)) for a, b in zip(sizes[:-1], sizes[1:])]


def make_data(n_steps, batch, features, classes, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_steps, batch, features)).astype(np.float32)
    y = rng.integers(0, classes, size=(n_steps, batch)).astype(np.int32)
    return x, y


class GraphnnModel:
    def __init__(self, sizes, activation, lr, weights):
        self.graph = gn.Graph()
        with self.graph.as_default():
            self.x = gn.placeholder(gn.float32, [None, sizes[0]], name="x")
            self.y = gn.placeholder(gn.int32, [None], name="y")
            h = self.x
            for i, (w, b) in enumerate(weights):
                with gn.name_scope(f"dense{i}"):
                    h = gn.matmul(h, gn.Variable(w, name="W")) + gn.Variable(b, name="b")
                    if i < len(weights) - 1:
                        h = activation(h)
            self.loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(
                labels=self.y, logits=h))
            self.train = gn.train.AdamOptimizer(lr).minimize(self.loss)
            self.init = gn.global_variables_initializer()
        self.sess = gn.Session(self.graph)

    def reset(self):
        self.sess.run(self.init)

    def run_steps(self, xs, ys):
        # Fetching only the train op returns without waiting for the device, as a jitted
        # JAX step does; the loss is fetched (and waited for) on the last step alone.
        for x, y in zip(xs[:-1], ys[:-1]):
            self.sess.run(self.train, {self.x: x, self.y: y})
        loss, _ = self.sess.run([self.loss, self.train], {self.x: xs[-1], self.y: ys[-1]})
        return float(loss)

    def loop_steps(self, xs, ys):
        losses, _ = self.sess.run_loop([self.loss, self.train], {self.x: xs, self.y: ys})
        return float(losses[-1])


class JaxModel:
    def __init__(self, activation, lr, weights):
        self.weights = weights
        self.optimizer = optax.adam(lr)

        def loss_fn(params, x, y):
            h = x
            for i, (w, b) in enumerate(params):
                h = h @ w + b
                if i < len(params) - 1:
                    h = activation(h)
            return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(h, y))

        def step(params, state, x, y):
            loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
            updates, state = self.optimizer.update(grads, state, params)
            return optax.apply_updates(params, updates), state, loss

        def scan(params, state, xs, ys):
            def body(carry, batch):
                params, state, loss = step(*carry, *batch)
                return (params, state), loss
            (params, state), losses = jax.lax.scan(body, (params, state), (xs, ys))
            return params, state, losses

        self.step = jax.jit(step, donate_argnums=(0, 1))
        self.scan = jax.jit(scan, donate_argnums=(0, 1))

    def reset(self):
        self.params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in self.weights]
        self.state = self.optimizer.init(self.params)

    def run_steps(self, xs, ys):
        for x, y in zip(xs, ys):
            self.params, self.state, loss = self.step(self.params, self.state, x, y)
        return float(loss)

    def loop_steps(self, xs, ys):
        self.params, self.state, losses = self.scan(self.params, self.state, xs, ys)
        return float(losses[-1])


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def compare(name, ours, theirs, rounds, higher_is_better_for_us=True):
    """Runs (setup, work) pairs interleaved; returns median ratio theirs/ours of times."""
    ratios, our_times, their_times, losses = [], [], [], []
    for _ in range(rounds):
        ours[0]()
        t_ours, loss_ours = timed(ours[1])
        theirs[0]()
        t_theirs, loss_theirs = timed(theirs[1])
        ratios.append(t_theirs / t_ours)
        our_times.append(t_ours)
        their_times.append(t_theirs)
        losses.append((loss_ours, loss_theirs))
    return statistics.median(ratios), statistics.median(our_times), \
        statistics.median(their_times), losses[-1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--peak", type=float, default=156.0, help="peak GFLOP/s")
    parser.add_argument("--fresh-calibration", action="store_true",
                        help="measure graphnn's XLA options afresh (in a temporary cache "
                             "directory) instead of using the verdict cached on this machine")
    args = parser.parse_args()
    if args.fresh_calibration:
        os.environ["GRAPHNN_CACHE_DIR"] = tempfile.mkdtemp(prefix="graphnn-calibration-")
    rows = []

    # ----- MLP 784-256-256-10, batch 128, Adam(1e-3) ----------------------------------
    weights = init_weights([784, 256, 256, 10], seed=0)
    xs, ys = make_data(args.steps, 128, 784, 10, seed=1)
    start = time.perf_counter()
    ours = GraphnnModel([784, 256, 256, 10], gn.nn.relu, 1e-3, weights)
    ours.reset()
    ours.sess.run([ours.loss, ours.train], {ours.x: xs[0], ours.y: ys[0]})
    first_ours = time.perf_counter() - start
    choice = ours.sess.compile_report([ours.loss, ours.train],
                                      {ours.x: xs[0], ours.y: ys[0]}).xla_choice
    first_ours -= choice.calibration_seconds
    start = time.perf_counter()
    theirs = JaxModel(jax.nn.relu, 1e-3, weights)
    theirs.reset()
    theirs.step(theirs.params, theirs.state, xs[0], ys[0])[2].block_until_ready()
    first_theirs = time.perf_counter() - start
    rows.append(("MLP step, first run (build+compile)", first_ours, first_theirs,
                 first_theirs / first_ours, "<= 1.5x the time (ratio >= 0.67)"))
    analysis = theirs.step.lower(theirs.params, theirs.state, xs[0], ys[0]).compile() \
        .cost_analysis()
    flops = float((analysis[0] if isinstance(analysis, (list, tuple)) else analysis)["flops"])

    def peak(seconds_per_step):
        return f"{100 * flops / seconds_per_step / (args.peak * 1e9):.0f}%"
    ours.loop_steps(xs[:2], ys[:2])
    theirs.reset()
    theirs.loop_steps(xs[:2], ys[:2])

    ratio, t_ours, t_theirs, loss = compare(
        "mlp run", (ours.reset, lambda: ours.run_steps(xs, ys)),
        (theirs.reset, lambda: theirs.run_steps(xs, ys)), args.rounds)
    rows.append(("MLP 200 steps: sess.run vs jit step", t_ours, t_theirs, ratio,
                 f">= 1.1x; peak {peak(t_ours / args.steps)} vs {peak(t_theirs / args.steps)}; "
                 f"final loss {loss[0]:.4f} vs {loss[1]:.4f}"))
    ratio, t_ours, t_theirs, loss = compare(
        "mlp loop", (ours.reset, lambda: ours.loop_steps(xs, ys)),
        (theirs.reset, lambda: theirs.loop_steps(xs, ys)), args.rounds)
    rows.append(("MLP 200 steps: run_loop vs lax.scan", t_ours, t_theirs, ratio,
                 f">= 1.1x; peak {peak(t_ours / args.steps)} vs {peak(t_theirs / args.steps)}; "
                 f"final loss {loss[0]:.4f} vs {loss[1]:.4f}"))

    # ----- Iris-size MLP 4-16-3, tanh, batch 16, Adam(1e-2): dispatch-bound ---------------
    weights = init_weights([4, 16, 3], seed=2)
    xs, ys = make_data(args.steps, 16, 4, 3, seed=3)
    small = GraphnnModel([4, 16, 3], gn.tanh, 1e-2, weights)
    small.reset()
    small.run_steps(xs[:2], ys[:2])
    small.loop_steps(xs, ys)
    ratio, t_loop, t_runs, loss = compare(
        "iris", (small.reset, lambda: small.loop_steps(xs, ys)),
        (small.reset, lambda: small.run_steps(xs, ys)), args.rounds)
    rows.append(("Iris MLP: run_loop vs 200 sess.run", t_loop, t_runs, ratio,
                 f">= 10x faster; final loss {loss[0]:.4f} vs {loss[1]:.4f}"))

    # ----- make_callable on y = 2x + 1 ------------------------------------------------------
    graph = gn.Graph()
    with graph.as_default():
        x = gn.placeholder(gn.float32, [4])
        y = 2.0 * x + 1.0
    sess = gn.Session(graph)
    call = sess.make_callable(y, [x])
    jitted = jax.jit(lambda v: 2.0 * v + 1.0)
    value = np.arange(4, dtype=np.float32)

    def many(fn, n=5000):
        for _ in range(n):
            fn()

    ratio, t_ours, t_theirs, _ = compare(
        "callable", (lambda: None, lambda: many(lambda: call(value))),
        (lambda: None, lambda: many(lambda: np.asarray(jitted(value)))), args.rounds)
    rows.append(("y=2x+1: make_callable vs jax.jit (us/call)", t_ours / 5000 * 1e6,
                 t_theirs / 5000 * 1e6, ratio, "<= 1.5x the time (ratio >= 0.67)"))

    print(f"{'workload':44s} {'graphnn':>10s} {'reference':>10s} {'ratio':>7s}  target / check")
    for name, a, b, r, note in rows:
        print(f"{name:44s} {a:10.4f} {b:10.4f} {r:7.2f}  {note}")
    print("(ratio = reference time / graphnn time: above 1 means graphnn is faster)")
    print(f"MLP: {flops / 1e6:.0f} MFLOP per step; graphnn's XLA options: {choice.name} "
          f"{choice.options or ''} ({choice.reason}; calibration here "
          f"{choice.calibration_seconds:.2f} s)")

    # ----- node counts before and after optimization ------------------------------------------
    report = ours.sess.compile_report([ours.loss, ours.train],
                                      {ours.x: make_data(1, 128, 784, 10, 4)[0][0],
                                       ours.y: make_data(1, 128, 784, 10, 4)[1][0]})
    print(f"MLP training graph: {report.passes[0].nodes_after} nodes after pruning -> "
          f"{report.passes[-1].nodes_after} after optimization")
    chain = gn.Graph()
    with chain.as_default():
        v = gn.placeholder(gn.float32, [16], name="v")
        h = v
        for i in range(1000):
            h = gn.sin(h) if i % 2 == 0 else h * 1.001
        grad, = gn.gradients(gn.reduce_sum(h), v)
    report = gn.Session(chain).compile_report(grad, {v: np.ones(16, np.float32)})
    print(f"1,000-op chain gradient: {report.passes[0].nodes_after} nodes after pruning -> "
          f"{report.passes[-1].nodes_after} after optimization")


if __name__ == "__main__":
    main()
