"""gn.scan, gn.map_fn and gn.while_loop: values against Python loops, gradients against
finite differences and jax.grad of the same program, nesting, state, randomness, errors,
and a small Elman RNN trained on a toy sequence task."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphnn as gn


def _finite_difference(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step.flat[i] = eps
        grad.flat[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def test_scan_without_initializer_is_a_cumulative_sum():
    xs = gn.placeholder(gn.float32, [4, 2])
    values = np.arange(8, dtype=np.float32).reshape(4, 2)
    with gn.Session() as sess:
        np.testing.assert_allclose(sess.run(gn.scan(lambda a, x: a + x, xs), {xs: values}),
                                   np.cumsum(values, axis=0))
        np.testing.assert_allclose(
            sess.run(gn.scan(lambda a, x: a + x, xs, reverse=True), {xs: values}),
            np.cumsum(values[::-1], axis=0)[::-1])


def test_scan_with_structures_and_an_initializer():
    xs = gn.placeholder(gn.float32, [3])
    sums, counts = gn.scan(lambda acc, x: (acc[0] + x, acc[1] + 1), xs,
                           initializer=(gn.constant(0.0), gn.constant(0)))
    with gn.Session() as sess:
        got_sums, got_counts = sess.run([sums, counts], {xs: [1.0, 2.0, 3.0]})
    np.testing.assert_allclose(got_sums, [1, 3, 6])
    np.testing.assert_array_equal(got_counts, [1, 2, 3])


def test_scan_errors_name_the_function():
    xs = gn.placeholder(gn.float32, [3, 2])

    def wrong_dtype(acc, x):
        return gn.cast(acc, gn.int32)

    def wrong_structure(acc, x):
        return acc, x

    with pytest.raises(gn.errors.DTypeError, match="wrong_dtype .*int32 .*float32"):
        gn.scan(wrong_dtype, xs)
    with pytest.raises(ValueError, match="wrong_structure .* same"):
        gn.scan(wrong_structure, xs)
    with pytest.raises(gn.errors.ShapeError, match="shape must stay the same"):
        gn.scan(lambda acc, x: gn.concat([acc, x], 0), xs)


def test_map_fn_over_rows():
    m = gn.placeholder(gn.float32, [None, 3])
    norms = gn.map_fn(lambda row: gn.sqrt(gn.reduce_sum(row * row)), m)
    values = np.array([[3.0, 4.0, 0.0], [1.0, 2.0, 2.0]], np.float32)
    with gn.Session() as sess:
        np.testing.assert_allclose(sess.run(norms, {m: values}), [5.0, 3.0])


def _rnn_jax(h0, xs, w, u):
    def step(h, x):
        h = jnp.tanh(h @ w + x @ u)
        return h, h
    return jnp.sum(jax.lax.scan(step, h0, xs)[1] ** 2)


def test_scan_gradient_matches_finite_differences_and_jax():
    rng = np.random.default_rng(0)
    h0_v, xs_v = rng.normal(size=(2,)), rng.normal(size=(5, 3))
    w_v, u_v = rng.normal(size=(2, 2)) * 0.5, rng.normal(size=(3, 2)) * 0.5
    h0 = gn.placeholder(gn.float64, [2])
    xs = gn.placeholder(gn.float64, [5, 3])
    w = gn.Variable(w_v, name="w")
    u = gn.placeholder(gn.float64, [3, 2])
    hs = gn.scan(lambda h, x: gn.tanh(gn.matmul(h[None], w)[0] + gn.matmul(x[None], u)[0]),
                 xs, initializer=h0)
    loss = gn.reduce_sum(hs * hs)
    grads = gn.gradients(loss, [h0, xs, w, u])
    feeds = {h0: h0_v, xs: xs_v, u: u_v}
    with gn.Session() as sess:
        sess.run(w.initializer)
        got = sess.run(grads, feeds)
        f = lambda v: sess.run(loss, {**feeds, xs: v})  # noqa: E731
        np.testing.assert_allclose(got[1], _finite_difference(f, xs_v), rtol=1e-6, atol=1e-8)
    with jax.enable_x64(True):
        want = jax.grad(_rnn_jax, argnums=(0, 1, 2, 3))(h0_v, xs_v, w_v, u_v)
    for g, expected in zip(got, want):
        np.testing.assert_allclose(g, expected, rtol=1e-10, atol=1e-12)


def test_cond_inside_scan_and_its_gradient():
    """A ReLU-like step written with gn.cond in each step of a scan."""
    xs = gn.placeholder(gn.float64, [6])
    w = gn.placeholder(gn.float64, [])
    ys = gn.scan(lambda acc, x: gn.cond(x > 0.0, lambda: acc * w + x, lambda: acc - x * w),
                 xs, initializer=gn.constant(1.0, gn.float64))
    loss = gn.reduce_sum(ys)
    gx, gw = gn.gradients(loss, [xs, w])
    xs_v = np.array([0.5, -1.0, 2.0, -0.3, 0.7, -2.0])

    def jax_loss(x_all, w_v):
        def step(acc, x):
            acc = jax.lax.cond(x > 0, lambda: acc * w_v + x, lambda: acc - x * w_v)
            return acc, acc
        return jnp.sum(jax.lax.scan(step, jnp.float64(1.0), x_all)[1])

    with gn.Session() as sess:
        got_x, got_w = sess.run([gx, gw], {xs: xs_v, w: 0.8})
    with jax.enable_x64(True):
        want_x, want_w = jax.grad(jax_loss, argnums=(0, 1))(xs_v, 0.8)
    np.testing.assert_allclose(got_x, want_x, rtol=1e-12)
    np.testing.assert_allclose(got_w, want_w, rtol=1e-12)


def test_random_ops_in_a_scan_body_draw_anew_each_step():
    xs = gn.placeholder(gn.float32, [5])
    noise = gn.scan(lambda acc, x: gn.random_uniform([]) + 0.0 * x, xs,
                    initializer=gn.constant(0.0))
    with gn.Session() as sess:
        first = sess.run(noise, {xs: np.zeros(5, np.float32)})
        second = sess.run(noise, {xs: np.zeros(5, np.float32)})
    assert len(set(first.tolist())) == 5
    assert not np.array_equal(first, second)


def test_assign_in_a_scan_body_is_carried_and_written_back():
    total = gn.Variable(0.0)
    xs = gn.placeholder(gn.float32, [4])
    out = gn.scan(lambda acc, x: total.assign_add(x) * 1.0, xs, initializer=gn.constant(0.0))
    with gn.Session() as sess:
        sess.run(total.initializer)
        np.testing.assert_allclose(sess.run(out, {xs: [1.0, 2.0, 3.0, 4.0]}), [1, 3, 6, 10])
        assert sess.run(total) == 10.0


def test_while_loop_forward_and_its_gradient_error():
    x = gn.placeholder(gn.float32, [])
    i, power = gn.while_loop(lambda i, p: p < 100.0, lambda i, p: (i + 1, p * x),
                             [gn.constant(0), gn.constant(1.0)])
    with gn.Session() as sess:
        assert sess.run([i, power], {x: 3.0}) == [5, 243.0]
    with pytest.raises(ValueError, match="maximum_iterations=N"):
        gn.gradients(power, x)


def test_while_loop_single_variable_and_structure_error():
    n = gn.while_loop(lambda n: n < 10, lambda n: n * 2, [gn.constant(1)])
    with gn.Session() as sess:
        assert sess.run(n) == 16

    def body(i, s):
        return i + 1

    with pytest.raises(ValueError, match="body .* same"):
        gn.while_loop(lambda i, s: i < 3, body, [0, 1.0])


def test_bounded_while_loop_stops_early_and_matches_jax_gradients():
    x = gn.placeholder(gn.float64, [2])
    i, s = gn.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, gn.sin(s) * x + 1.0),
                         [gn.constant(0), gn.zeros([2], gn.float64)], maximum_iterations=10)
    capped, _ = gn.while_loop(lambda i, s: i < 100, lambda i, s: (i + 1, s),
                              [gn.constant(0), gn.zeros([2])], maximum_iterations=7)
    g, = gn.gradients(gn.reduce_sum(s), x)
    x_v = np.array([0.4, -1.3])

    def jax_f(xv):
        s = jnp.zeros(2)
        for _ in range(3):
            s = jnp.sin(s) * xv + 1.0
        return jnp.sum(s)

    with gn.Session() as sess:
        got_i, got_g, got_capped = sess.run([i, g, capped], {x: x_v})
        f = lambda v: sess.run(gn.reduce_sum(s), {x: v})  # noqa: E731
        np.testing.assert_allclose(got_g, _finite_difference(f, x_v), rtol=1e-6)
    assert got_i == 3 and got_capped == 7
    with jax.enable_x64(True):
        np.testing.assert_allclose(got_g, jax.grad(jax_f)(x_v), rtol=1e-12)


def test_while_loop_body_draws_anew_each_step():
    i, values = gn.while_loop(lambda i, v: i < 3,
                              lambda i, v: (i + 1, gn.concat([v[1:], gn.random_normal([1])], 0)),
                              [gn.constant(0), gn.zeros([3])])
    with gn.Session() as sess:
        drawn = sess.run(values)
    assert len(set(drawn.tolist())) == 3


def test_elman_rnn_learns_to_sum_a_sequence():
    """h_t = tanh(h_{t-1} W + x_t U + b), output h_T V: trained to sum 5 numbers."""
    rng = np.random.default_rng(1)
    steps, hidden = 5, 8
    gn.set_random_seed(3)
    x = gn.placeholder(gn.float32, [steps, None, 1], name="x")  # time-major
    y = gn.placeholder(gn.float32, [None, 1], name="y")
    w = gn.Variable(gn.random_normal([hidden, hidden], stddev=0.3), name="W")
    u = gn.Variable(gn.random_normal([1, hidden], stddev=0.5), name="U")
    b = gn.Variable(gn.zeros([hidden]), name="b")
    v = gn.Variable(gn.random_normal([hidden, 1], stddev=0.3), name="V")
    h0 = gn.zeros_like(gn.matmul(x[0], u))
    hs = gn.scan(lambda h, x_t: gn.tanh(gn.matmul(h, w) + gn.matmul(x_t, u) + b), x,
                 initializer=h0)
    loss = gn.reduce_mean(gn.square(gn.matmul(hs[-1], v) - y))
    train = gn.train.AdamOptimizer(0.02).minimize(loss)
    data = rng.uniform(-0.5, 0.5, size=(steps, 64, 1)).astype(np.float32)
    target = data.sum(axis=0)
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        before = sess.run(loss, {x: data, y: target})
        for _ in range(300):
            sess.run(train, {x: data, y: target})
        after = sess.run(loss, {x: data, y: target})
    assert after < 0.05 * before


def test_a_gradient_partly_through_an_unbounded_loop_is_refused_not_truncated():
    w = gn.Variable(2.0)
    _, grown = gn.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * w), [0, 1.0])
    loss = grown + w * w  # the second path alone would give a silently wrong gradient
    with pytest.raises(ValueError, match="While 'while/While' created at .*maximum_iterations"):
        gn.gradients(loss, w)
    assert "maximum_iterations" in gn.explain_gradient(grown, w)
    assert gn.gradients(w * w, w)[0] is not None  # other gradients are unaffected


def test_scan_with_an_assigning_body_has_no_gradient():
    total = gn.Variable(0.0)
    xs = gn.placeholder(gn.float32, [3])
    out = gn.scan(lambda acc, x: acc + total.assign_add(x), xs, initializer=gn.constant(0.0))
    with pytest.raises(ValueError, match="assigns variables"):
        gn.gradients(out, xs)
