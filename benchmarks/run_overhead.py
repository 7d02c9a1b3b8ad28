"""Per-call overhead of Session.run and make_callable on a tiny graph, next to jax.jit.

Both sides take numpy in and give numpy out, measured in one process, interleaved
over several rounds; the table reports the median microseconds per call.
"""
import statistics
import time

import jax
import numpy as np

import graphnn as gn


def per_call_us(fn, calls: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main(rounds: int = 7, calls: int = 2000) -> None:
    x_value = np.arange(4, dtype=np.float32)
    x = gn.placeholder(gn.float32, shape=[4], name="x")
    y = 2.0 * x + 1.0
    sess = gn.Session()
    step = sess.make_callable(y, [x])
    jitted = jax.jit(lambda v: 2.0 * v + 1.0)

    contenders = {
        "jax.jit (numpy in/out)": lambda: np.asarray(jitted(x_value)),
        "sess.run": lambda: sess.run(y, feed_dict={x: x_value}),
        "make_callable": lambda: step(x_value),
    }
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(per_call_us(fn, calls))
    base = statistics.median(samples["jax.jit (numpy in/out)"])
    print(f"{'y = 2x + 1 on float32[4]':28s} {'us/call':>9s} {'vs jax.jit':>11s}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:28s} {median:9.1f} {median / base:10.2f}x")
    assert np.allclose(step(x_value), np.asarray(jitted(x_value)))


if __name__ == "__main__":
    main()
