"""gn.jvp against jax.jvp of the same program, through plain ops and control flow."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphnn as gn


def test_jvp_matches_jax_jvp():
    rng = np.random.default_rng(0)
    x_v, w_v, t_x, t_w = (rng.normal(size=s) for s in ((4, 3), (3, 2), (4, 3), (3, 2)))
    x = gn.placeholder(gn.float64, [4, 3])
    w = gn.placeholder(gn.float64, [3, 2])
    y = gn.nn.softmax(gn.tanh(gn.matmul(x, w)))
    z = gn.reduce_sum(gn.exp(x))
    dy, dz = gn.jvp([y, z], [x, w], [t_x, t_w])
    with gn.Session() as sess:
        got_y, got_z = sess.run([dy, dz], {x: x_v, w: w_v})
    with jax.enable_x64(True):
        _, want_y = jax.jvp(lambda a, b: jax.nn.softmax(jnp.tanh(a @ b)), (x_v, w_v), (t_x, t_w))
        _, want_z = jax.jvp(lambda a: jnp.sum(jnp.exp(a)), (x_v,), (t_x,))
    np.testing.assert_allclose(got_y, want_y, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_z, want_z, rtol=1e-10)


def test_jvp_through_scan_and_cond():
    xs = gn.placeholder(gn.float64, [5])
    ys = gn.scan(lambda acc, x: gn.cond(x > 0.0, lambda: acc * x, lambda: acc + x), xs,
                 initializer=gn.constant(1.0, gn.float64))
    tangent = np.array([1.0, 0.5, -1.0, 2.0, 0.0])
    dys, = gn.jvp(ys, xs, tangent)
    xs_v = np.array([0.5, -1.0, 2.0, 1.5, -0.2])

    def f(values):
        def step(acc, x):
            acc = jax.lax.cond(x > 0, lambda: acc * x, lambda: acc + x)
            return acc, acc
        return jax.lax.scan(step, jnp.float64(1.0), values)[1]

    with gn.Session() as sess:
        got = sess.run(dys, {xs: xs_v})
    with jax.enable_x64(True):
        np.testing.assert_allclose(got, jax.jvp(f, (xs_v,), (tangent,))[1], rtol=1e-12)


def test_jvp_of_an_unconnected_or_integer_output():
    x = gn.placeholder(gn.float32, [2])
    other = gn.placeholder(gn.float32, [2])
    d_other, d_int = gn.jvp([other * 2.0, gn.argmax(x)], [x], [np.ones(2, np.float32)])
    assert d_int is None
    with gn.Session() as sess:
        np.testing.assert_array_equal(sess.run(d_other, {other: [1.0, 2.0]}), [0.0, 0.0])
    with pytest.raises(ValueError, match="one per x"):
        gn.jvp(x, [x], [])
