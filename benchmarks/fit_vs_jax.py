"""Epoch time of ``model.fit`` against a hand-written JAX epoch and a run-per-batch loop.

Three ways to train one epoch of the same MLP on the same data from the same weights:

- ``fit``: ``gn.models.Sequential.fit(epochs=1, verbose=0, shuffle=False)``, which runs
  the epoch's batches as one ``run_loop`` (one XLA program);
- JAX: one jitted ``lax.scan`` over the epoch's batches, each step the same forward
  pass, cross-entropy and TensorFlow-1 Adam update written by hand;
- per batch: the model's own train op run with one ``sess.run`` per batch, as a
  hand-written TF1 loop does.

Before timing, one epoch of each from the same start must give the same loss and
weights (float tolerance). Each round times one epoch of each, interleaved; the
printed ratios are medians of per-round ratios: ``fit speed / JAX speed`` (the target
is >= 0.9) and ``fit speed / run-per-batch speed``.

Usage: python benchmarks/fit_vs_jax.py [--rounds 7] [--samples 12800] [--batch 128]
"""
import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

import graphnn as gn

SIZES = (64, 256, 256, 10)
LEARNING_RATE, BETA1, BETA2, EPSILON = 1e-3, 0.9, 0.999, 1e-8


def make_data(samples, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], size=samples).astype(np.int32)
    return x, y


def build_model(weights):
    with gn.Graph().as_default():
        model = gn.models.Sequential(
            [gn.layers.Dense(SIZES[1], activation="relu", input_shape=(SIZES[0],)),
             gn.layers.Dense(SIZES[2], activation="relu"), gn.layers.Dense(SIZES[3])])
        model.compile(gn.train.AdamOptimizer(LEARNING_RATE, BETA1, BETA2, EPSILON),
                      loss=gn.models.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.set_weights(weights)
    return model


def fit_epoch(model, x, y, batch):
    return model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0).history["loss"][0]


def run_per_batch_epoch(model, x, y, batch):
    """The model's train op, one ``sess.run`` per batch (the same graph ``fit`` runs)."""
    graph = model._training_graph("benchmark")
    model._initialize(graph.optimizer_variables)
    losses = []
    weights = np.ones(batch, np.float32)
    for start in range(0, len(x), batch):
        feed = {model.input: x[start:start + batch], graph.y: y[start:start + batch],
                graph.w: weights, model._training: True}
        losses.append(model.session.run([graph.train_op, graph.loss], feed)[1])
    return float(np.mean(losses))


def jax_epoch_function():
    def loss_of(params, x, y):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        return jnp.mean(-jnp.take_along_axis(jax.nn.log_softmax(h), y[:, None], axis=1))

    def step(state, batch):
        params, m, v, t = state
        loss, grads = jax.value_and_grad(loss_of)(params, *batch)
        t = t + 1
        lr_t = LEARNING_RATE * jnp.sqrt(1 - BETA2 ** t) / (1 - BETA1 ** t)  # TF 1's Adam
        m = jax.tree.map(lambda m_, g: BETA1 * m_ + (1 - BETA1) * g, m, grads)
        v = jax.tree.map(lambda v_, g: BETA2 * v_ + (1 - BETA2) * g * g, v, grads)
        params = jax.tree.map(lambda p, m_, v_: p - lr_t * m_ / (jnp.sqrt(v_) + EPSILON),
                              params, m, v)
        return (params, m, v, t), loss

    @jax.jit
    def epoch(state, xs, ys):
        return jax.lax.scan(step, state, (xs, ys))

    return epoch


def jax_start(weights):
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in zip(weights[::2], weights[1::2])]
    zeros = jax.tree.map(jnp.zeros_like, params)
    return params, zeros, zeros, jnp.float32(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--samples", type=int, default=12800)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    if args.samples % args.batch:
        parser.error("--samples must be a multiple of --batch (the JAX side has no padding)")
    x, y = make_data(args.samples)
    xs = jnp.asarray(x.reshape(-1, args.batch, SIZES[0]))
    ys = jnp.asarray(y.reshape(-1, args.batch))
    start = start_weights()
    epoch = jax_epoch_function()

    # Same start, same epoch: same loss and weights.
    fitted, looped = build_model(start), build_model(start)
    fit_loss = fit_epoch(fitted, x, y, args.batch)
    loop_loss = run_per_batch_epoch(looped, x, y, args.batch)
    (params, _, _, _), jax_losses = epoch(jax_start(start), xs, ys)
    jax_loss = float(jnp.mean(jax_losses))
    np.testing.assert_allclose([fit_loss, loop_loss], jax_loss, rtol=1e-4)
    jax_weights = [np.asarray(a) for pair in params for a in pair]
    for ours in (fitted.get_weights(), looped.get_weights()):
        for a, b in zip(ours, jax_weights):
            # Adam divides by sqrt(v): where a gradient is ~0, float noise may move a weight
            # by up to one step (the learning rate) either way.
            np.testing.assert_allclose(a, b, rtol=0, atol=LEARNING_RATE)
    print(f"one epoch from the same start: loss fit {fit_loss:.6f}, run per batch "
          f"{loop_loss:.6f}, JAX {jax_loss:.6f}; weights within one Adam step")

    state = jax_start(start)
    jax.block_until_ready(epoch(state, xs, ys))
    fit_times, jax_times, loop_times = [], [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        fit_epoch(fitted, x, y, args.batch)
        t1 = time.perf_counter()
        state, losses = epoch(state, xs, ys)
        jax.block_until_ready(losses)
        t2 = time.perf_counter()
        run_per_batch_epoch(looped, x, y, args.batch)
        t3 = time.perf_counter()
        fit_times.append(t1 - t0)
        jax_times.append(t2 - t1)
        loop_times.append(t3 - t2)
    steps = args.samples // args.batch
    print(f"MLP {SIZES}, {args.samples} samples, batch {args.batch} ({steps} steps), "
          f"{args.rounds} rounds, JAX {jax.__version__} on {jax.default_backend()}")
    print(f"  fit epoch            {1e3 * statistics.median(fit_times):8.2f} ms")
    print(f"  JAX lax.scan epoch   {1e3 * statistics.median(jax_times):8.2f} ms")
    print(f"  run per batch epoch  {1e3 * statistics.median(loop_times):8.2f} ms")
    vs_jax = statistics.median(j / f for j, f in zip(jax_times, fit_times))
    vs_loop = statistics.median(r / f for r, f in zip(loop_times, fit_times))
    print(f"fit speed / JAX speed: {vs_jax:.2f}x (target >= 0.9x)")
    print(f"fit speed / run-per-batch speed: {vs_loop:.2f}x")


def start_weights():
    """Seeded Glorot-uniform kernels and zero biases, for every side alike."""
    rng = np.random.default_rng(0)
    weights = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        limit = np.sqrt(6.0 / (a + b))
        weights += [rng.uniform(-limit, limit, size=(a, b)).astype(np.float32),
                    np.zeros(b, np.float32)]
    return weights


if __name__ == "__main__":
    main()
