"""Gradient construction and first run on chains of element-wise ops, next to jax.jit(jax.grad).

For chains of N ops (alternating sin, *1.001, tanh, +0.1) this prints the time to build
the gradient graph with gn.gradients, the time to compile and run it once, and the time
to compile and run jax.jit(jax.grad(f)) of the same function. XLA's CPU compiler is
superlinear on long chains, so each compile+run is capped by a timeout (in a subprocess).

Usage: python benchmarks/gradient_chain.py [--timeout SECONDS] [N ...]
"""
import argparse
import json
import subprocess
import sys
import time

import numpy as np


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000, 10000])
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
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
