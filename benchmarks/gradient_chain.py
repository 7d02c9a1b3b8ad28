"""Gradient construction and first run on chains of element-wise ops, next to jax.jit(jax.grad).

For chains of N ops (alternating sin, *1.001, tanh, +0.1) this prints the time to build
the gradient graph with gn.gradients, the time to compile and run it once, and the time
to compile and run jax.jit(jax.grad(f)) of the same function. XLA's CPU compiler is
superlinear on long chains, so each compile+run is capped by a timeout (in a subprocess).

``--phases`` instead prints where the time to the first result goes (issue 20's
per-phase breakdown) for three deep graphs: the chain above, the chain ``tanh, *0.9, +x``
(a fan-in from x at every third op), both on float32[1024] with loss = sum and the
gradient with respect to x, and an Elman RNN unrolled over N time steps (input 8, hidden
64, batch 16, one placeholder per step, MSE on the last state, gradients of W, U and b).
The clock runs from before gn.gradients through Session creation and the first run; the
first run is split by its compile_report (pruned copy, passes, split planning, trace,
XLA compile, and the rest: planning, feeding, running). Then one steady run.

Usage: python benchmarks/gradient_chain.py [--timeout SECONDS] [N ...]
       python benchmarks/gradient_chain.py --phases [N ...] [--rnn STEPS ...]
"""
import argparse
import json
import subprocess
import sys
import time

import numpy as np

# Issue 20's chain (tanh, *0.9, +x), as benchmarks/deep_graphs.py builds it.
from deep_graphs import link as fan_in_link


def link(i: int, y, sin, tanh):
    """The i-th op of the chain, for graphnn tensors and jax arrays alike."""
    kind = i % 4
    if kind == 0:
        return sin(y)
    if kind == 1:
        return y * 1.001
    if kind == 2:
        return tanh(y)
    return y + 0.1


def chain_graphnn(n: int) -> dict:
    import graphnn as gn
    x = gn.placeholder(gn.float32, shape=[16], name="x")
    y = x
    build_start = time.perf_counter()
    for i in range(n):
        y = link(i, y, gn.sin, gn.tanh)
    forward = time.perf_counter() - build_start
    forward_ops = gn.get_default_graph().num_ops
    start = time.perf_counter()
    grad, = gn.gradients(gn.reduce_sum(y), x)
    gradient_build = time.perf_counter() - start
    gradient_ops = gn.get_default_graph().num_ops - forward_ops
    return {"forward_build_s": forward, "gradient_build_s": gradient_build,
            "gradient_ops": gradient_ops, "grad": grad}


def run_graphnn(n: int) -> dict:
    import graphnn as gn
    result = chain_graphnn(n)
    grad = result.pop("grad")
    start = time.perf_counter()
    with gn.Session() as sess:
        value = sess.run(grad, {grad.graph.get_tensor_by_name("x:0"): np.linspace(0, 1, 16,
                                                                              dtype=np.float32)})
    result["compile_and_run_s"] = time.perf_counter() - start
    result["checksum"] = float(np.sum(value))
    return result


def run_jax(n: int) -> dict:
    import jax
    import jax.numpy as jnp

    def f(x):
        for i in range(n):
            x = link(i, x, jnp.sin, jnp.tanh)
        return jnp.sum(x)

    start = time.perf_counter()
    value = jax.jit(jax.grad(f))(np.linspace(0, 1, 16, dtype=np.float32))
    value.block_until_ready()
    return {"compile_and_run_s": time.perf_counter() - start, "checksum": float(np.sum(value))}


def in_subprocess(kind: str, n: int, timeout: float) -> dict:
    try:
        done = subprocess.run([sys.executable, __file__, "--one", kind, str(n)],
                              capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"compile_and_run_s": None}
    return json.loads(done.stdout.strip().splitlines()[-1])


def build_chain(n: int, fan_in: bool):
    """The forward graph of a chain on float32[1024] in a fresh default graph: (x, loss, feed)."""
    import graphnn as gn
    gn.reset_default_graph()
    x = gn.placeholder(gn.float32, shape=[1024], name="x")
    y = x
    for i in range(n):
        y = fan_in_link(i, y, x, gn.tanh) if fan_in else link(i, y, gn.sin, gn.tanh)
    return [x], gn.reduce_sum(y), {x: np.linspace(0, 1, 1024, dtype=np.float32)}


def build_rnn(steps: int, inputs: int = 8, hidden: int = 64, batch: int = 16):
    """An Elman RNN unrolled as TF 1's static_rnn builds it: (variables, loss, feed)."""
    import graphnn as gn
    gn.reset_default_graph()
    rng = np.random.default_rng(0)
    w = gn.Variable(rng.normal(0, 0.3, (inputs, hidden)).astype(np.float32), name="W")
    u = gn.Variable(rng.normal(0, 0.1, (hidden, hidden)).astype(np.float32), name="U")
    b = gn.Variable(np.zeros(hidden, np.float32), name="b")
    xs = [gn.placeholder(gn.float32, [batch, inputs], name=f"x{t}") for t in range(steps)]
    target = gn.placeholder(gn.float32, [batch, hidden], name="target")
    h = gn.zeros([batch, hidden])
    for x in xs:
        h = gn.tanh(gn.matmul(x, w) + gn.matmul(h, u) + b)
    loss = gn.reduce_mean(gn.square(h - target))
    feed = {x: rng.normal(size=(batch, inputs)).astype(np.float32) for x in xs}
    feed[target] = np.zeros((batch, hidden), np.float32)
    return [w, u, b], loss, feed


def phases(build) -> dict:
    """Wall seconds of each phase of ``build()``'s gradient, from gn.gradients to the first
    result (issue 20's clock), the first run split by its ``compile_report``."""
    import graphnn as gn

    xs, loss, feed = build()
    start = time.perf_counter()
    grads = gn.gradients(loss, xs)
    gradients_done = time.perf_counter()
    sess = gn.Session()
    if xs[0].op.type == "VariableV2":
        sess.run(gn.global_variables_initializer())
    session_done = time.perf_counter()
    sess.run(grads, feed)
    first = time.perf_counter()
    report = sess.compile_report(grads, feed)
    steady = time.perf_counter()
    sess.run(grads, feed)
    times = {"gradients": gradients_done - start, "session": session_done - gradients_done,
             "copy": report.passes[0].seconds,
             "passes": sum(r.seconds for r in report.passes[1:]),
             "split_plan": report.split.plan_seconds if report.split is not None else 0.0,
             "trace": report.trace_seconds, "xla": report.xla_compile_seconds}
    times["other"] = first - session_done - sum(times[k] for k in ("copy", "passes",
                                                                   "split_plan", "trace", "xla"))
    times["first_result"] = first - start
    times["steady_ms"] = (time.perf_counter() - steady) * 1000
    times["graph_ops"] = loss.graph.num_ops
    times["run_ops"] = report.optimized_graph.num_ops
    sess.close()
    return times


def print_phases(sizes: list, steps: list) -> None:
    cases = [(f"chain {n}", lambda n=n: build_chain(n, False)) for n in sizes]
    cases += [(f"tanh,*0.9,+x {n}", lambda n=n: build_chain(n, True)) for n in sizes]
    cases += [(f"RNN {t} steps", lambda t=t: build_rnn(t)) for t in steps]
    names = ["gradients", "session", "copy", "passes", "split_plan", "trace", "xla", "other",
             "first_result", "steady_ms"]
    print("Wall seconds from gn.gradients to the first result; copy (pruned copy), passes, "
          "split planning, trace and XLA compile from compile_report, other: planning, "
          "feeding and running")
    print(f"{'graph':>18} | {'ops':>6} | {'run ops':>7} | "
          + " | ".join(f"{n:>12}" for n in names))
    for label, build in cases:
        result = phases(build)
        print(f"{label:>18} | {result['graph_ops']:6d} | {result['run_ops']:7d} | "
              + " | ".join(f"{result[n]:12.3f}" for n in names), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--phases", action="store_true")
    parser.add_argument("--rnn", nargs="*", type=int, default=[1000])
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phases:
        print_phases(args.sizes or [1000, 2000, 5000, 10000], args.rnn)
        return
    args.sizes = args.sizes or [100, 1000, 10000]
    if args.one:
        kind, n = args.one[0], int(args.one[1])
        print(json.dumps(run_graphnn(n) if kind == "graphnn" else run_jax(n)))
        return

    def fmt(seconds):
        return f"> {args.timeout:.0f} s" if seconds is None else f"{seconds:8.3f} s"

    print(f"{'ops':>6} | {'gn.gradients build':>18} | {'grad ops':>8} | "
          f"{'graphnn compile+run':>19} | {'jax.jit(grad) compile+run':>25}")
    for n in args.sizes:
        built = chain_graphnn(n)
        gradient_ops = built["gradient_ops"]
        ours = in_subprocess("graphnn", n, args.timeout)
        theirs = in_subprocess("jax", n, args.timeout)
        print(f"{n:6d} | {built['gradient_build_s']:16.3f} s | {gradient_ops:8d} | "
              f"{fmt(ours['compile_and_run_s']):>19} | {fmt(theirs['compile_and_run_s']):>25}",
              flush=True)
        if ours.get("checksum") is not None and theirs.get("checksum") is not None:
            assert np.isclose(ours["checksum"], theirs["checksum"], rtol=1e-3), (ours, theirs)


if __name__ == "__main__":
    main()
