"""Deep programs built as TF 1 users unroll them, shared by the split and rolled tests."""
import numpy as np

import graphnn as gn


def chain(x, n):
    """n element-wise ops: tanh, *0.9, +x, repeating."""
    y = x
    for i in range(n):
        kind = i % 3
        y = gn.tanh(y) if kind == 0 else (y * 0.9 if kind == 1 else y + x)
    return y


def rnn(steps, optimizer, hidden=6, inputs=3, batch=4, seed=0, dropout=None):
    """An Elman RNN unrolled as TF 1's static_rnn (one placeholder per step), trained by
    ``optimizer``: (loss, train op, variables, feed)."""
    rng = np.random.default_rng(seed)
    xs = [gn.placeholder(gn.float32, [batch, inputs], name=f"x{t}") for t in range(steps)]
    target = gn.placeholder(gn.float32, [batch, hidden], name="target")
    w_x = gn.Variable(rng.normal(0, 0.3, (inputs, hidden)).astype(np.float32), name="w_x")
    w_h = gn.Variable(rng.normal(0, 0.3, (hidden, hidden)).astype(np.float32), name="w_h")
    b = gn.Variable(np.zeros(hidden, np.float32), name="b")
    h = gn.zeros([batch, hidden])
    for x in xs:
        if dropout is not None:
            x = gn.nn.dropout(x, rate=dropout)
        h = gn.tanh(gn.matmul(x, w_x) + gn.matmul(h, w_h) + b)
    loss = gn.reduce_mean(gn.square(h - target))
    train = optimizer.minimize(loss)
    feed = {x: rng.normal(size=(batch, inputs)).astype(np.float32) for x in xs}
    feed[target] = rng.normal(size=(batch, hidden)).astype(np.float32)
    return loss, train, [w_x, w_h, b], feed


def check_run_loop_equals_runs(rnn_program, options, steps=3):
    """``run_loop`` over ``steps`` steps in a Session(**options) gives what as many runs of
    the whole program give; returns the looped session's report."""
    loss, train, variables, feed = rnn_program
    stacked = {k: np.stack([v * (1 + 0.1 * s) for s in range(steps)]) for k, v in feed.items()}
    with gn.Session(**options) as looped, gn.Session(split_above=None) as single:
        for sess in (looped, single):
            sess.run(gn.global_variables_initializer())
        losses = looped.run_loop([train, loss], stacked)[1]
        expected = [single.run([train, loss], {k: v[s] for k, v in stacked.items()})[1]
                    for s in range(steps)]
        np.testing.assert_allclose(losses, expected, rtol=1e-5)
        for got, want in zip(looped.run(variables), single.run(variables)):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        return looped.compile_report([train, loss], feed)
