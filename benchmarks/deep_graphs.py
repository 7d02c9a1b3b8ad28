"""Deep graphs: graphnn's split compilation against jax.jit (issue 20), side by side.

1. The gradient of a chain of N element-wise ops (tanh, *0.9, +x repeating) on
   float32[1024], loss = sum, with respect to x. graphnn: the time to build the gradient
   (gn.gradients), the time to the first result (the clock runs from before gn.gradients
   through Session creation, the passes, lowering, XLA compiles and the first run; a
   per-phase breakdown is printed: gradients, passes (prune includes the private copy),
   planning the cut, tracing, XLA, the rest of compiling (run plans), the first run) and
   the steady run time. jax.jit(jax.grad(f)) of the same function runs in a subprocess
   capped in time (--cap) and memory (--memory-gb), since XLA's compile and run times
   explode with N.
2. An Elman RNN (input 8, hidden 64, batch 16, MSE on the last state) unrolled over
   --steps time steps as a TF 1 static_rnn user builds it (one placeholder per time step,
   all fed in one feed_dict): the gradient of the loss with respect to the weights, compile
   plus first run and steady run, against the same RNN in lax.scan and unrolled in
   jax.jit (capped, in a subprocess).

Targets (issue 20): chain N=5,000 first result < 4.75 s (TensorFlow 1), N=10,000 < 10 s,
growth linear; steady run at N=5,000 < 14.5 ms; the RNN's compile plus first run within
2x of lax.scan's, its steady run no slower than the unrolled jax.jit program's.

Usage: python benchmarks/deep_graphs.py [--quick] [--sizes 1000 2000 5000 10000]
       [--steps 1000] [--cap 120] [--memory-gb 6] [--repeat 20]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

WIDTH = 1024
RNN = {"inputs": 8, "hidden": 64, "batch": 16}


def link(i: int, y, x, tanh):
    """The i-th op of the chain, for graphnn tensors and jax arrays alike."""
    kind = i % 3
    if kind == 0:
        return tanh(y)
    if kind == 1:
        return y * 0.9
    return y + x


def chain_input() -> np.ndarray:
    return np.linspace(-1, 1, WIDTH, dtype=np.float32)


def steady(call, repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def graphnn_chain(n: int, repeat: int) -> dict:
    import graphnn as gn
    graph = gn.Graph()
    with graph.as_default():
        x = gn.placeholder(gn.float32, [WIDTH], name="x")
        y = x
        for i in range(n):
            y = link(i, y, x, gn.tanh)
        loss = gn.reduce_sum(y)
        feed = {x: chain_input()}
        start = time.perf_counter()
        grad, = gn.gradients(loss, x)
        built = time.perf_counter()
        sess = gn.Session()
        report = sess.compile_report(grad, feed)
        compiled = time.perf_counter()
        value = sess.run(grad, feed)
        first = time.perf_counter()
        run_s = steady(lambda: sess.run(grad, feed), repeat)
        sess.close()
    passes = sum(r.seconds for r in report.passes)
    split = report.split
    return {"gradient_s": built - start, "first_result_s": first - start,
            "passes_s": passes, "trace_s": report.trace_seconds,
            "xla_s": report.xla_compile_seconds,
            "cut_s": split.plan_seconds if split else 0.0,
            "other_compile_s": compiled - built - passes - report.trace_seconds
            - report.xla_compile_seconds - (split.plan_seconds if split else 0.0),
            "first_run_s": first - compiled, "run_s": run_s,
            "calibration_s": report.xla_choice.calibration_seconds,
            "segments": len(split.sizes) if split else 1,
            "distinct": split.distinct if split else 1, "loops": len(split.loops) if split else 0,
            "checksum": float(np.sum(value))}


def jax_chain(n: int, repeat: int) -> dict:
    import jax
    import jax.numpy as jnp

    def f(x):
        y = x
        for i in range(n):
            y = link(i, y, x, jnp.tanh)
        return jnp.sum(y)

    x = chain_input()
    start = time.perf_counter()
    grad = jax.jit(jax.grad(f))
    value = np.asarray(grad(x))
    first = time.perf_counter() - start
    return {"first_result_s": first,
            "run_s": steady(lambda: grad(x).block_until_ready(), repeat),
            "checksum": float(np.sum(value))}


def rnn_data(steps: int):
    rng = np.random.default_rng(0)
    i, h, b = RNN["inputs"], RNN["hidden"], RNN["batch"]
    weights = [(rng.normal(size=(i, h)) * 0.3).astype(np.float32),
               (rng.normal(size=(h, h)) * (0.9 / np.sqrt(h))).astype(np.float32),
               np.zeros(h, np.float32)]
    xs = rng.normal(size=(steps, b, i)).astype(np.float32)
    target = rng.normal(size=(b, h)).astype(np.float32)
    return weights, xs, target


def graphnn_rnn(steps: int, repeat: int) -> dict:
    import graphnn as gn
    (w_x0, w_h0, b0), xs, target_value = rnn_data(steps)
    graph = gn.Graph()
    with graph.as_default():
        inputs = [gn.placeholder(gn.float32, [RNN["batch"], RNN["inputs"]], name=f"x{t}")
                  for t in range(steps)]
        target = gn.placeholder(gn.float32, [RNN["batch"], RNN["hidden"]], name="target")
        w_x, w_h, b = gn.Variable(w_x0, name="w_x"), gn.Variable(w_h0, name="w_h"), \
            gn.Variable(b0, name="b")
        h = gn.zeros([RNN["batch"], RNN["hidden"]])
        for x in inputs:
            h = gn.tanh(gn.matmul(x, w_x) + gn.matmul(h, w_h) + b)
        loss = gn.reduce_mean(gn.square(h - target))
        feed = dict(zip(inputs, xs))
        feed[target] = target_value
        start = time.perf_counter()
        grads = gn.gradients(loss, [w_x, w_h, b])
        built = time.perf_counter()
        sess = gn.Session()
        sess.run(gn.global_variables_initializer())
        report = sess.compile_report(grads, feed)
        compiled = time.perf_counter()
        values = sess.run(grads, feed)
        first = time.perf_counter() - start
        run_s = steady(lambda: sess.run(grads, feed), repeat)
        sess.close()
    split = report.split
    passes = sum(r.seconds for r in report.passes)
    cut = split.plan_seconds if split else 0.0
    return {"first_result_s": first, "run_s": run_s, "xla_s": report.xla_compile_seconds,
            "gradient_s": built - start, "passes_s": passes, "cut_s": cut,
            "trace_s": report.trace_seconds,
            "calibration_s": report.xla_choice.calibration_seconds,
            "other_s": compiled - built - passes - cut - report.trace_seconds
            - report.xla_compile_seconds,
            "segments": len(split.sizes) if split else 1,
            "distinct": split.distinct if split else 1, "loops": len(split.loops) if split else 0,
            "checksum": float(sum(np.sum(np.abs(v)) for v in values))}


def _rnn_loss(unrolled: bool):
    import jax
    import jax.numpy as jnp

    def loss(weights, xs, target):
        w_x, w_h, b = weights
        h = jnp.zeros((RNN["batch"], RNN["hidden"]), jnp.float32)
        if unrolled:
            for t in range(xs.shape[0]):
                h = jnp.tanh(xs[t] @ w_x + h @ w_h + b)
        else:
            h, _ = jax.lax.scan(lambda h, x: (jnp.tanh(x @ w_x + h @ w_h + b), None), h, xs)
        return jnp.mean(jnp.square(h - target))
    return loss


def jax_rnn(steps: int, repeat: int, unrolled: bool) -> dict:
    import jax
    weights, xs, target = rnn_data(steps)
    grad = jax.jit(jax.grad(_rnn_loss(unrolled)))
    start = time.perf_counter()
    values = grad(weights, xs, target)
    first = time.perf_counter() - start
    return {"first_result_s": first,
            "run_s": steady(lambda: jax.block_until_ready(grad(weights, xs, target)), repeat),
            "checksum": float(sum(np.sum(np.abs(np.asarray(v))) for v in values))}


def capped(kind: str, size: int, repeat: int, cap: float, memory_gb: float) -> dict:
    """One measurement in a subprocess limited to ``cap`` seconds and ``memory_gb``."""
    # ulimit in a shell: a preexec_fn would fork this multithreaded (JAX) process.
    command = ["bash", "-c", f"ulimit -v {int(memory_gb * (1 << 20))} && exec \"$@\"", "bash",
               sys.executable, __file__, "--one", kind, str(size), str(repeat)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return {"failed": f"> {cap:.0f} s"}
    if done.returncode:
        return {"failed": f"failed (rc {done.returncode}, memory cap {memory_gb} GB?)"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _segments(result: dict) -> str:
    """How graphnn compiled the program: whole, rolled into loops, or in segments."""
    if result["segments"] == 1:
        return "whole"
    if result["loops"]:
        return f"{result['segments']} segs, {result['loops']} loops"
    return f"{result['segments']} segs ({result['distinct']} dist)"


def _calibration(result: dict) -> str:
    """graphnn's one-time measurement of XLA's options on this machine (``xla_options``),
    cached for later processes: part of the first result where it happened."""
    seconds = result["calibration_s"]
    return f"   (includes {seconds:.2f} s of one-time XLA options calibration)" if seconds else ""


def _seconds(result: dict, key: str, scale: float = 1.0, unit: str = "s") -> str:
    if "failed" in result:
        return result["failed"]
    return f"{result[key] * scale:.3f} {unit}" if scale == 1.0 else \
        f"{result[key] * scale:.2f} {unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke check")
    parser.add_argument("--sizes", nargs="*", type=int, default=[1000, 2000, 5000, 10000])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--cap", type=float, default=120.0)
    parser.add_argument("--memory-gb", type=float, default=6.0)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, size, repeat = args.one[0], int(args.one[1]), int(args.one[2])
        runs = {"jax-chain": lambda: jax_chain(size, repeat),
                "jax-rnn-scan": lambda: jax_rnn(size, repeat, unrolled=False),
                "jax-rnn-unrolled": lambda: jax_rnn(size, repeat, unrolled=True)}
        print(json.dumps(runs[kind]()))
        return
    sizes, steps = ([300, 1000], 100) if args.quick else (args.sizes, args.steps)
    repeat = 5 if args.quick else args.repeat

    print(f"Gradient of a chain of N element-wise ops on float32[{WIDTH}] "
          f"(jax.jit capped at {args.cap:.0f} s, {args.memory_gb} GB)")
    print(f"{'N':>6} | {'gn first result':>15} | {'gradients':>9} {'passes':>7} {'cut':>7} "
          f"{'trace':>7} {'XLA':>7} {'other':>7} {'1st run':>7} | {'segments':>20} | "
          f"{'gn run':>9} | "
          f"{'jax.jit first result':>20} | {'jax.jit run':>11}")
    for n in sizes:
        ours = graphnn_chain(n, repeat)
        theirs = capped("jax-chain", n, repeat, args.cap, args.memory_gb)
        print(f"{n:6d} | {ours['first_result_s']:13.3f} s | {ours['gradient_s']:7.3f} s "
              f"{ours['passes_s']:6.2f}s {ours['cut_s']:6.2f}s {ours['trace_s']:6.2f}s "
              f"{ours['xla_s']:6.2f}s "
              f"{ours['other_compile_s']:6.2f}s {ours['first_run_s']:6.2f}s | "
              f"{_segments(ours):>20} | "
              f"{ours['run_s'] * 1e3:6.2f} ms | {_seconds(theirs, 'first_result_s'):>20} | "
              f"{_seconds(theirs, 'run_s', 1e3, 'ms'):>11}{_calibration(ours)}", flush=True)
        if "failed" not in theirs:
            assert np.isclose(ours["checksum"], theirs["checksum"], rtol=1e-3), (ours, theirs)

    print(f"\nElman RNN (input {RNN['inputs']}, hidden {RNN['hidden']}, batch {RNN['batch']}) "
          f"unrolled over {steps} steps: gradient of the MSE on the last state")
    print(f"{'program':>26} | {'compile + first run':>19} | {'steady run':>10}")
    ours = graphnn_rnn(steps, repeat)
    print(f"{'graphnn (static_rnn style)':>26} | {ours['first_result_s']:17.3f} s | "
          f"{ours['run_s'] * 1e3:7.2f} ms   ({_segments(ours)})\n"
          f"{'':>26}   first result: gradients "
          f"{ours['gradient_s']:.2f} s, passes {ours['passes_s']:.2f} s, cut "
          f"{ours['cut_s']:.2f} s, trace {ours['trace_s']:.2f} s, XLA {ours['xla_s']:.2f} s, other "
          f"{ours['other_s']:.2f} s{_calibration(ours)}", flush=True)
    for kind, name in (("jax-rnn-scan", "jax.jit, lax.scan"),
                       ("jax-rnn-unrolled", "jax.jit, unrolled")):
        theirs = capped(kind, steps, repeat, args.cap, args.memory_gb)
        print(f"{name:>26} | {_seconds(theirs, 'first_result_s'):>19} | "
              f"{_seconds(theirs, 'run_s', 1e3, 'ms'):>10}", flush=True)
        if "failed" not in theirs:
            assert np.isclose(ours["checksum"], theirs["checksum"], rtol=1e-3), (ours, theirs)


if __name__ == "__main__":
    main()
