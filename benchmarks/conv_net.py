"""The TF1 tutorial conv net: graphnn against hand-written JAX, side by side in one process.

conv 5x5x32 SAME + ReLU, max-pool 2, conv 5x5x64 SAME + ReLU, max-pool 2, dense 3136-1024
ReLU, dense 1024-10; batch 128 of 28x28x1; Adam(1e-3). graphnn compiles with its chosen
XLA options (``Session(xla_options="auto")``, reported below with the one-time calibration
time); the reference is a hand-written ``jax.jit`` step with XLA's default options. Both
start from the same weights, take the same batches, and must end at the same loss.
Rounds are interleaved; the ratio is the median of per-round ratios, and each side's
time the best round. % of peak: FLOPs of the step from XLA's cost analysis over
``--peak`` (156 GFLOP/s: the float32 AVX2 FMA peak of this project's 2-core machine at
2.6 GHz; with AVX-512, which its processor also has, the peak is twice that).

Usage: python benchmarks/conv_net.py [--rounds 5] [--steps 5] [--peak 156] [--fresh-calibration]
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

BATCH = 128


def init_weights(seed):
    rng = np.random.default_rng(seed)

    def normal(shape, fan_in):
        return (rng.normal(size=shape) * np.sqrt(1.0 / fan_in)).astype(np.float32)
    return [normal((5, 5, 1, 32), 25), np.zeros(32, np.float32),
            normal((5, 5, 32, 64), 800), np.zeros(64, np.float32),
            normal((3136, 1024), 3136), np.zeros(1024, np.float32),
            normal((1024, 10), 1024), np.zeros(10, np.float32)]


class GraphnnNet:
    def __init__(self, weights, xla_options="auto"):
        self.graph = gn.Graph()
        with self.graph.as_default():
            self.x = gn.placeholder(gn.float32, [None, 28, 28, 1], name="x")
            self.y = gn.placeholder(gn.int32, [None], name="y")
            w = [gn.Variable(v, name=f"v{i}") for i, v in enumerate(weights)]
            h = gn.nn.relu(gn.nn.conv2d(self.x, w[0], 1, "SAME") + w[1])
            h = gn.nn.max_pool2d(h, 2, 2, "SAME")
            h = gn.nn.relu(gn.nn.conv2d(h, w[2], 1, "SAME") + w[3])
            h = gn.nn.max_pool2d(h, 2, 2, "SAME")
            h = gn.nn.relu(gn.matmul(gn.reshape(h, [-1, 3136]), w[4]) + w[5])
            logits = gn.matmul(h, w[6]) + w[7]
            self.loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(
                labels=self.y, logits=logits))
            self.train = gn.train.AdamOptimizer(1e-3).minimize(self.loss)
            self.init = gn.global_variables_initializer()
        self.sess = gn.Session(self.graph, xla_options=xla_options)

    def reset(self):
        self.sess.run(self.init)

    def run_steps(self, xs, ys):
        for x, y in zip(xs[:-1], ys[:-1]):
            self.sess.run(self.train, {self.x: x, self.y: y})
        loss, _ = self.sess.run([self.loss, self.train], {self.x: xs[-1], self.y: ys[-1]})
        return float(loss)


class JaxNet:
    def __init__(self, weights):
        self.weights = weights
        self.optimizer = optax.adam(1e-3)

        def loss_fn(p, x, y):
            dn = ("NHWC", "HWIO", "NHWC")
            pool = (1, 2, 2, 1)
            h = jax.nn.relu(jax.lax.conv_general_dilated(x, p[0], (1, 1), "SAME",
                                                         dimension_numbers=dn) + p[1])
            h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, pool, pool, "SAME")
            h = jax.nn.relu(jax.lax.conv_general_dilated(h, p[2], (1, 1), "SAME",
                                                         dimension_numbers=dn) + p[3])
            h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, pool, pool, "SAME")
            h = jax.nn.relu(h.reshape(h.shape[0], -1) @ p[4] + p[5])
            logits = h @ p[6] + p[7]
            return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y))

        def step(params, state, x, y):
            loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
            updates, state = self.optimizer.update(grads, state, params)
            return optax.apply_updates(params, updates), state, loss

        self.step = jax.jit(step, donate_argnums=(0, 1))

    def reset(self):
        self.params = [jnp.asarray(w) for w in self.weights]
        self.state = self.optimizer.init(self.params)

    def run_steps(self, xs, ys):
        for x, y in zip(xs, ys):
            self.params, self.state, loss = self.step(self.params, self.state, x, y)
        return float(loss)

    def flops_per_step(self, x, y):
        compiled = self.step.lower(self.params, self.state, x, y).compile()
        analysis = compiled.cost_analysis()
        analysis = analysis[0] if isinstance(analysis, (list, tuple)) else analysis
        return float(analysis["flops"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5, help="training steps per round")
    parser.add_argument("--peak", type=float, default=156.0, help="peak GFLOP/s")
    parser.add_argument("--fresh-calibration", action="store_true",
                        help="measure graphnn's XLA options afresh (in a temporary cache "
                             "directory) instead of using the verdict cached on this machine")
    args = parser.parse_args()
    if args.fresh_calibration:
        os.environ["GRAPHNN_CACHE_DIR"] = tempfile.mkdtemp(prefix="graphnn-calibration-")
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(args.steps, BATCH, 28, 28, 1)).astype(np.float32)
    ys = rng.integers(0, 10, size=(args.steps, BATCH)).astype(np.int32)
    weights = init_weights(0)

    start = time.perf_counter()
    ours = GraphnnNet(weights)
    ours.reset()
    report = ours.sess.compile_report([ours.loss, ours.train], {ours.x: xs[0], ours.y: ys[0]})
    first_ours = time.perf_counter() - start - report.calibration_seconds
    start = time.perf_counter()
    theirs = JaxNet(weights)
    theirs.reset()
    theirs.run_steps(xs[:1], ys[:1])
    first_theirs = time.perf_counter() - start
    flops = theirs.flops_per_step(xs[0], ys[0])

    ratios, t_ours, t_theirs, losses = [], [], [], None
    for _ in range(args.rounds):
        ours.reset()
        start = time.perf_counter()
        loss_ours = ours.run_steps(xs, ys)
        t_ours.append((time.perf_counter() - start) / args.steps)
        theirs.reset()
        start = time.perf_counter()
        loss_theirs = theirs.run_steps(xs, ys)
        t_theirs.append((time.perf_counter() - start) / args.steps)
        ratios.append(t_theirs[-1] / t_ours[-1])
        losses = (loss_ours, loss_theirs)
    assert np.isclose(losses[0], losses[1], rtol=1e-3), f"losses differ: {losses}"

    def peak_share(seconds):
        return 100 * flops / seconds / (args.peak * 1e9)

    print(f"TF1 tutorial conv net, batch {BATCH}, Adam: {flops / 1e9:.2f} GFLOP per step "
          f"(XLA cost analysis)")
    print(f"graphnn XLA options: {report.xla_choice.name} {report.xla_options or ''}")
    print(f"  why: {report.xla_choice.reason}")
    for line in report.xla_choice.lowerings:
        print(f"  lowering of {line}")
    print(f"  one-time calibration in this process: {report.calibration_seconds:.2f} s "
          f"(0 when cached; not counted as compile time)")
    print(f"{'workload':34s} {'graphnn':>10s} {'jax.jit':>10s} {'ratio':>7s}  note")
    print(f"{'conv net step (ms, best round)':34s} {min(t_ours) * 1e3:10.1f} "
          f"{min(t_theirs) * 1e3:10.1f} {statistics.median(ratios):7.2f}  target >= 1.5x; "
          f"% of peak {peak_share(min(t_ours)):.0f} vs {peak_share(min(t_theirs)):.0f}; "
          f"final loss {losses[0]:.4f} vs {losses[1]:.4f}")
    print(f"{'first step: build+compile (s)':34s} {first_ours:10.2f} {first_theirs:10.2f} "
          f"{first_theirs / first_ours:7.2f}  (calibration excluded)")
    print("(ratio = median over rounds of jax.jit time / graphnn time: above 1 means graphnn "
          "is faster)")


if __name__ == "__main__":
    main()
