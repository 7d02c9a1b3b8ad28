"""The MLP training step data-parallel on 1, 2 and 4 devices: graphnn's MirroredStrategy
against hand-written ``jax.jit`` with the same shardings (issue 21).

Each device count runs in its own process (``XLA_FLAGS=--xla_force_host_platform_device_count``
must be set before JAX starts; on a GPU machine the real GPUs are used instead with
``--platform gpu``). In each, graphnn (``gn.Session(strategy=MirroredStrategy(devices))``)
and the reference (``jax.jit`` with the batch split over a ``"batch"`` mesh axis, the
parameters and Adam's state replicated, donated) train the same MLP from the same
weights; rounds alternate the two sides, and the ratio is the median of per-round
ratios. Two workloads: ``step`` (one ``sess.run`` per step against one jitted call
per step) and ``loop`` (``sess.run_loop`` of all steps against a jitted ``lax.scan``).
Both sides must end at the same loss.

On forced CPU devices the "devices" share the machine's cores: more of them cannot
make a step faster on a 2-core machine (they add partitioning and all-reduce work),
so the steps/s across device counts measure overhead, not scaling. There, both sides
wait for each step before dispatching the next: XLA:CPU's in-process collectives
deadlock otherwise (``graphnn.compiler.placement``).

Usage: python benchmarks/distributed_mlp.py [--devices 1 2 4] [--rounds 5] [--steps 50]
       [--batch 256] [--platform cpu] [--xla-options auto|default]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SIZES = (784, 512, 512, 10)
LEARNING_RATE = 1e-3


def child(args) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax
    from jax.sharding import NamedSharding, PartitionSpec

    import graphnn as gn

    devices = jax.devices(args.platform)[:args.count]
    assert len(devices) == args.count, f"only {len(jax.devices(args.platform))} devices"
    strategy = gn.distribute.MirroredStrategy(devices=devices)
    mesh = strategy.mesh
    rng = np.random.default_rng(0)
    weights = [((rng.normal(size=(a, b)) * np.sqrt(2.0 / a)).astype(np.float32),
                np.zeros(b, np.float32)) for a, b in zip(SIZES[:-1], SIZES[1:])]
    xs = rng.normal(size=(args.steps, args.batch, SIZES[0])).astype(np.float32)
    ys = rng.integers(0, SIZES[-1], size=(args.steps, args.batch)).astype(np.int32)

    # graphnn
    graph = gn.Graph()
    with graph.as_default():
        x = gn.placeholder(gn.float32, [None, SIZES[0]], name="x")
        y = gn.placeholder(gn.int32, [None], name="y")
        h = x
        for i, (w, b) in enumerate(weights):
            h = gn.matmul(h, gn.Variable(w)) + gn.Variable(b)
            if i < len(weights) - 1:
                h = gn.nn.relu(h)
        loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
        train = gn.train.AdamOptimizer(LEARNING_RATE).minimize(loss)
        init = gn.global_variables_initializer()
    sess = gn.Session(graph, strategy=strategy, xla_options=args.xla_options)

    def graphnn_reset():
        sess.run(init)

    def graphnn_step():
        for i in range(args.steps - 1):
            sess.run(train, {x: xs[i], y: ys[i]})
        return float(sess.run([loss, train], {x: xs[-1], y: ys[-1]})[0])

    def graphnn_loop():
        return float(sess.run_loop([loss, train], {x: xs, y: ys})[0][-1])

    # hand-written JAX with the same shardings
    replicated = NamedSharding(mesh, PartitionSpec())
    batch = NamedSharding(mesh, PartitionSpec("batch"))
    per_step_batch = NamedSharding(mesh, PartitionSpec(None, "batch"))
    optimizer = optax.adam(LEARNING_RATE)

    def loss_of(params, inputs, labels):
        h = inputs
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        return optax.softmax_cross_entropy(h, jax.nn.one_hot(labels, SIZES[-1])).mean()

    def update(state, inputs, labels):
        params, opt_state = state
        value, grads = jax.value_and_grad(loss_of)(params, inputs, labels)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), value

    step = jax.jit(update, in_shardings=(replicated, batch, batch),
                   out_shardings=(replicated, replicated), donate_argnums=0)
    scan = jax.jit(lambda state, a, b: jax.lax.scan(lambda s, ab: update(s, *ab), state, (a, b)),
                   in_shardings=(replicated, per_step_batch, per_step_batch),
                   out_shardings=(replicated, replicated), donate_argnums=0)

    start_state = []

    def jax_reset():
        params = jax.device_put([(w, b) for w, b in weights], replicated)
        start_state[:] = [(params, jax.device_put(optimizer.init(params), replicated))]
        jax.block_until_ready(start_state)

    # XLA:CPU's in-process collectives deadlock when the next step is dispatched while
    # one runs, so on several CPU devices each step waits, as graphnn's runs do there.
    wait = jax.block_until_ready if strategy.placement.waits else (lambda value: value)

    def jax_step():
        state = start_state.pop()
        for i in range(args.steps - 1):
            state, _ = wait(step(state, xs[i], ys[i]))
        return float(step(state, xs[-1], ys[-1])[1])

    def jax_loop():
        return float(scan(start_state.pop(), xs, ys)[1][-1])

    def timed(reset, run):
        reset()  # starting weights, outside the timing
        start_time = time.perf_counter()
        run()
        return time.perf_counter() - start_time

    report = sess.compile_report(train, {x: xs[0], y: ys[0]})
    results = {"devices": args.count, "device": str(devices[0].device_kind),
               "xla_choice": report.xla_choice.name}
    for name, ours, theirs in (("step", graphnn_step, jax_step), ("loop", graphnn_loop, jax_loop)):
        graphnn_reset()
        jax_reset()
        losses = (ours(), theirs())  # compiles both
        ratios, our_times = [], []
        for _ in range(args.rounds):
            mine = timed(graphnn_reset, ours)
            reference = timed(jax_reset, theirs)
            ratios.append(reference / mine)
            our_times.append(mine)
        results[name] = {"steps_per_second": args.steps / statistics.median(our_times),
                         "vs_jax": statistics.median(ratios),
                         "loss_difference": abs(losses[0] - losses[1])}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--platform", default="cpu")
    parser.add_argument("--xla-options", default="auto", choices=["auto", "default"],
                        help="graphnn's Session(xla_options=...); the reference keeps XLA's")
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count is not None:
        print("RESULTS " + json.dumps(child(args)), flush=True)
        return
    print(f"MLP {SIZES}, Adam, global batch {args.batch}, {args.steps} steps, "
          f"median of {args.rounds} interleaved rounds")
    print(f"{'devices':>7}  {'run: steps/s':>12} {'vs jax.jit':>10}  "
          f"{'run_loop: steps/s':>17} {'vs jax.jit':>10}  loss diff")
    for count in args.devices:
        env = dict(os.environ)
        if args.platform == "cpu":
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                                f" --xla_force_host_platform_device_count={count}").strip()
        done = subprocess.run([sys.executable, __file__, "--count", str(count),
                               "--rounds", str(args.rounds), "--steps", str(args.steps),
                               "--batch", str(args.batch), "--platform", args.platform,
                               "--xla-options", args.xla_options],
                              capture_output=True, text=True, env=env)
        if done.returncode:
            sys.exit(f"{count} devices failed:\n{done.stderr[-3000:]}")
        line = next(l for l in done.stdout.splitlines() if l.startswith("RESULTS "))
        r = json.loads(line[len("RESULTS "):])
        difference = max(r["step"]["loss_difference"], r["loop"]["loss_difference"])
        print(f"{count:>7}  {r['step']['steps_per_second']:>12.1f} {r['step']['vs_jax']:>9.2f}x  "
              f"{r['loop']['steps_per_second']:>17.1f} {r['loop']['vs_jax']:>9.2f}x  "
              f"{difference:.1e}  (graphnn's XLA options: {r['xla_choice']})", flush=True)


if __name__ == "__main__":
    main()
