"""Peak resident memory of a training loop: graphnn (donated variable buffers) against
hand-written JAX (jit + optax Adam with donate_argnums), each in a fresh subprocess.

Usage: python benchmarks/peak_memory.py [--width 2048] [--steps 20]
"""
import argparse
import json
import resource
import subprocess
import sys

import numpy as np


def weights(width, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [width, width, width, 10]
    return [((rng.normal(size=(a, b)) / np.sqrt(a)).astype(np.float32), np.zeros(b, np.float32))
            for a, b in zip(sizes[:-1], sizes[1:])]


def run_graphnn(width, steps):
    import graphnn as gn
    x = gn.placeholder(gn.float32, [None, width])
    y = gn.placeholder(gn.int32, [None])
    h = x
    params = weights(width)
    for i, (w, b) in enumerate(params):
        h = gn.matmul(h, gn.Variable(w)) + gn.Variable(b)
        h = gn.nn.relu(h) if i < len(params) - 1 else h
    loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
    train = gn.train.AdamOptimizer(1e-3).minimize(loss)
    del params
    rng = np.random.default_rng(1)
    bx = rng.normal(size=(64, width)).astype(np.float32)
    by = rng.integers(0, 10, 64).astype(np.int32)
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        for _ in range(steps):
            sess.run(train, {x: bx, y: by})
        return float(sess.run(loss, {x: bx, y: by}))


def run_jax(width, steps):
    import jax
    import jax.numpy as jnp
    import optax
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in weights(width)]
    optimizer = optax.adam(1e-3)
    state = optimizer.init(params)

    def loss_fn(p, bx, by):
        h = bx
        for i, (w, b) in enumerate(p):
            h = h @ w + b
            h = jax.nn.relu(h) if i < len(p) - 1 else h
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(h, by))

    @jax.jit
    def loss_only(p, bx, by):
        return loss_fn(p, bx, by)

    def step(p, s, bx, by):
        grads = jax.grad(loss_fn)(p, bx, by)
        updates, s = optimizer.update(grads, s, p)
        return optax.apply_updates(p, updates), s

    step = jax.jit(step, donate_argnums=(0, 1))
    rng = np.random.default_rng(1)
    bx = rng.normal(size=(64, width)).astype(np.float32)
    by = rng.integers(0, 10, 64).astype(np.int32)
    for _ in range(steps):
        params, state = step(params, state, bx, by)
    return float(loss_only(params, bx, by))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        loss = (run_graphnn if args.one == "graphnn" else run_jax)(args.width, args.steps)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"loss": loss, "peak_mb": peak_mb}))
        return
    parameters_mb = sum(w.nbytes + b.nbytes for w, b in weights(args.width)) / 2 ** 20
    print(f"MLP {args.width}-{args.width}-{args.width}-10, Adam: parameters {parameters_mb:.0f} MB, "
          f"with Adam's two slots {3 * parameters_mb:.0f} MB")
    for kind in ("graphnn", "jax"):
        out = subprocess.run([sys.executable, __file__, "--one", kind, "--width", str(args.width),
                              "--steps", str(args.steps)], capture_output=True, text=True,
                             check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{kind:8s} peak RSS {result['peak_mb']:7.0f} MB   final loss {result['loss']:.4f}")


if __name__ == "__main__":
    main()
