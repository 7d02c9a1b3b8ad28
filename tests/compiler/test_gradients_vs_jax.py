"""Gradients of whole functions (MLP, conv net, reused inputs, reductions, contractions,
indexing, joins) against jax.grad of the same math in jax.numpy, and second derivatives of a
subset of ops against jax.hessian."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphnn as gn


def _run(fetches, feed_dict=None):
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        return sess.run(fetches, feed_dict=feed_dict)


def _jax_grads(f, args, argnums):
    with jax.enable_x64(True):  # jitted: eager JAX would compile op by op, slowly
        grads = jax.jit(jax.grad(f, argnums=argnums))(*(jnp.asarray(a) for a in args))
        return [np.asarray(g) for g in grads]


def _assert_all_close(got, expected, rtol=1e-9, atol=1e-12):
    assert len(got) == len(expected)
    for k, (g, e) in enumerate(zip(got, expected)):
        assert g is not None, f"gradient {k} is None"
        assert np.shape(g) == np.shape(e), f"gradient {k}: shape {np.shape(g)} != {np.shape(e)}"
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"gradient {k}")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ----- whole models ---------------------------------------------------------------------------
def _mlp_params(rng, dtype):
    return [rng.normal(size=(4, 6)).astype(dtype), rng.normal(size=(6,)).astype(dtype) * 0.1,
            rng.normal(size=(6, 3)).astype(dtype), rng.normal(size=(3,)).astype(dtype) * 0.1]


def _jax_mlp_loss(W1, b1, W2, b2, x, labels):
    logits = jax.nn.relu(x @ W1 + b1) @ W2 + b2
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None], axis=-1))


def _graphnn_mlp_grads(params, dtype):
    x = gn.placeholder(dtype, [None, 4], name="x")
    labels = gn.placeholder(gn.int32, [None], name="labels")
    with gn.name_scope("hidden"):
        W1, b1 = gn.Variable(params[0], name="W"), gn.Variable(params[1], name="b")
        h = gn.nn.relu(gn.matmul(x, W1) + b1)
    with gn.name_scope("out"):
        W2, b2 = gn.Variable(params[2], name="W"), gn.Variable(params[3], name="b")
        logits = gn.matmul(h, W2) + b2
    loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=logits))
    return gn.gradients(loss, [W1, b1, W2, b2]), x, labels


def test_mlp_with_relu_and_sparse_softmax_cross_entropy(rng):
    params = _mlp_params(rng, np.float64)
    xv, yv = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8).astype(np.int32)
    grads, x, labels = _graphnn_mlp_grads(params, gn.float64)
    got = _run(grads, {x: xv, labels: yv})
    expected = _jax_grads(_jax_mlp_loss, params + [xv, yv], (0, 1, 2, 3))
    _assert_all_close(got, expected)


def test_float32_mlp(rng):
    params = _mlp_params(rng, np.float32)
    xv = rng.normal(size=(8, 4)).astype(np.float32)
    yv = rng.integers(0, 3, size=8).astype(np.int32)
    grads, x, labels = _graphnn_mlp_grads(params, gn.float32)
    got = _run(grads, {x: xv, labels: yv})
    assert all(g.dtype == np.float32 for g in got)
    expected = _jax_grads(_jax_mlp_loss, [p.astype(np.float64) for p in params]
                          + [xv.astype(np.float64), yv], (0, 1, 2, 3))
    _assert_all_close(got, expected, rtol=1e-4, atol=1e-5)


def _jax_conv(x, w):
    return jax.lax.conv_general_dilated(x, w, window_strides=(1, 1), padding="SAME",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _jax_max_pool(x):
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def test_small_conv_net(rng):
    xv = rng.normal(size=(2, 6, 6, 2))
    params = [rng.normal(size=(3, 3, 2, 4)) * 0.5, rng.normal(size=(4,)) * 0.1,
              rng.normal(size=(36, 3)) * 0.3, rng.normal(size=(3,)) * 0.1]
    label_v = rng.dirichlet(np.ones(3), size=2)

    x = gn.placeholder(gn.float64, [None, 6, 6, 2], name="images")
    labels = gn.placeholder(gn.float64, [None, 3], name="labels")
    K, kb, W, b = (gn.Variable(p, name=n) for p, n in zip(params, ["K", "kb", "W", "b"]))
    h = gn.nn.relu(gn.nn.conv2d(x, K, strides=1, padding="SAME") + kb)
    h = gn.nn.max_pool2d(h, ksize=2, strides=2, padding="VALID")
    logits = gn.matmul(gn.reshape(h, [-1, 36]), W) + b
    loss = gn.reduce_mean(gn.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    got = _run(gn.gradients(loss, [K, kb, W, b, x]), {x: xv, labels: label_v})

    def f(K, kb, W, b, x):
        h = _jax_max_pool(jax.nn.relu(_jax_conv(x, K) + kb))
        logits = h.reshape(-1, 36) @ W + b
        return jnp.mean(-jnp.sum(label_v * jax.nn.log_softmax(logits, -1), -1))

    expected = _jax_grads(f, params + [xv], (0, 1, 2, 3, 4))
    _assert_all_close(got, expected)


# ----- compositions ------------------------------------------------------------------------
def test_function_reusing_one_input_many_times(rng):
    xv, wv = rng.uniform(-2, 2, size=(5,)), rng.normal(size=(5,))
    x = gn.placeholder(gn.float64, [5], name="x")
    y = x * x * x + gn.exp(x) * gn.sin(x) + x / (1.0 + x * x)
    got = _run(gn.gradients(gn.reduce_sum(y * wv), x), {x: xv})

    def f(x):
        return jnp.sum((x * x * x + jnp.exp(x) * jnp.sin(x) + x / (1.0 + x * x)) * wv)

    _assert_all_close(got, _jax_grads(f, [xv], (0,)))


@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), (0, True)])
def test_reduce_logsumexp(rng, axis, keepdims):
    xv = rng.normal(size=(3, 4)) * 3.0
    xv[1] += 600.0  # exp would overflow without the shift
    x = gn.placeholder(gn.float64, [3, 4], name="x")
    y = gn.reduce_logsumexp(x, axis=axis, keepdims=keepdims)
    wv = rng.normal(size=y.shape.as_list())
    got = _run(gn.gradients(gn.reduce_sum(y * wv), x), {x: xv})

    def f(x):
        return jnp.sum(jax.nn.logsumexp(x, axis=axis, keepdims=keepdims) * wv)

    expected = _jax_grads(f, [xv], (0,))
    assert np.all(np.isfinite(got[0]))
    _assert_all_close(got, expected)


def test_tensordot_and_einsum(rng):
    av, bv = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 3, 5))
    cv, dv = rng.normal(size=(2, 4, 5)), rng.normal(size=(5, 2))
    a, b, c, d = (gn.placeholder(gn.float64, v.shape) for v in (av, bv, cv, dv))
    dot = gn.tensordot(a, b, axes=[[1, 2], [1, 0]])  # (2, 5)
    batched = gn.einsum("bij,bjk->bik", a, c)  # (2, 3, 5)
    chain = gn.einsum("ij,jk,kl->il", dot, d, dot)  # (2, 5)
    w1, w2, w3 = rng.normal(size=(2, 5)), rng.normal(size=(2, 3, 5)), rng.normal(size=(2, 5))
    loss = gn.reduce_sum(dot * w1) + gn.reduce_sum(batched * w2) + gn.reduce_sum(gn.sin(chain) * w3)
    got = _run(gn.gradients(loss, [a, b, c, d]), {a: av, b: bv, c: cv, d: dv})

    def f(a, b, c, d):
        dot = jnp.tensordot(a, b, axes=[[1, 2], [1, 0]])
        batched = jnp.einsum("bij,bjk->bik", a, c)
        chain = jnp.einsum("ij,jk,kl->il", dot, d, dot)
        return jnp.sum(dot * w1) + jnp.sum(batched * w2) + jnp.sum(jnp.sin(chain) * w3)

    _assert_all_close(got, _jax_grads(f, [av, bv, cv, dv], (0, 1, 2, 3)), rtol=1e-8)


def test_gather_and_reduce_mean(rng):
    pv = rng.normal(size=(5, 3))
    rows = np.array([4, 0, 2, 2, 1, 2], np.int32)  # repeated rows accumulate
    cols = np.array([[2], [0]], np.int32)
    p = gn.placeholder(gn.float64, [5, 3], name="params")
    idx = gn.placeholder(gn.int32, [None], name="rows")
    picked = gn.gather(p, idx)
    by_column = gn.gather(p, cols, axis=1)  # (5, 2, 1)
    loss = (gn.reduce_mean(gn.square(picked))
            + gn.reduce_sum(gn.reduce_mean(gn.exp(by_column), axis=[0, 2]) * np.array([1.0, -2.0])))
    got = _run(gn.gradients(loss, p), {p: pv, idx: rows})

    def f(p):
        return (jnp.mean(jnp.square(jnp.take(p, rows, axis=0)))
                + jnp.sum(jnp.mean(jnp.exp(jnp.take(p, cols, axis=1)), axis=(0, 2))
                          * jnp.array([1.0, -2.0])))

    _assert_all_close(got, _jax_grads(f, [pv], (0,)))


def test_concat_split_stack(rng):
    av, bv = rng.normal(size=(2, 3)), rng.normal(size=(2, 2))
    w = rng.normal(size=(2, 2, 2))
    a = gn.placeholder(gn.float64, [2, 3], name="a")
    b = gn.placeholder(gn.float64, [2, 2], name="b")
    joined = gn.concat([a, b], axis=1)  # (2, 5)
    u, v = gn.split(joined, [2, 3], axis=1)
    first, second = gn.split(v, 2, axis=0)
    stacked = gn.stack([u * v[:, :2], gn.exp(u)], axis=2)  # (2, 2, 2)
    loss = (gn.reduce_sum(stacked * w) + gn.reduce_sum(v * v)
            + gn.reduce_sum(first * gn.sin(second)))
    got = _run(gn.gradients(loss, [a, b]), {a: av, b: bv})

    def f(a, b):
        joined = jnp.concatenate([a, b], axis=1)
        u, v = joined[:, :2], joined[:, 2:]
        stacked = jnp.stack([u * v[:, :2], jnp.exp(u)], axis=2)
        return jnp.sum(stacked * w) + jnp.sum(v * v) + jnp.sum(v[:1] * jnp.sin(v[1:]))

    _assert_all_close(got, _jax_grads(f, [av, bv], (0, 1)))


# ----- second order -----------------------------------------------------------------------------
def _softmax_rows(x):
    return gn.nn.softmax(x, axis=-1)


UNARY = {
    "tanh": (gn.tanh, jnp.tanh, (-2.0, 2.0)),
    "sigmoid": (gn.sigmoid, jax.nn.sigmoid, (-3.0, 3.0)),
    "exp": (gn.exp, jnp.exp, (-1.0, 1.0)),
    "log": (gn.log, jnp.log, (0.3, 3.0)),
    "softmax": (_softmax_rows, lambda x: jax.nn.softmax(x, axis=-1), (-2.0, 2.0)),
    # relu's second derivative is 0 away from 0; squaring makes the Hessian non-zero
    "relu_squared": (lambda x: gn.square(gn.nn.relu(x)), lambda x: jnp.square(jax.nn.relu(x)),
                     (0.3, 2.0)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_hessian_of_unary_op_matches_jax(name):
    graphnn_fn, jax_fn, (low, high) = UNARY[name]
    rng = np.random.default_rng(len(name))
    xv = rng.uniform(low, high, size=(2, 3))
    if name == "relu_squared":
        xv[0] *= -1.0  # both sides of 0, never at 0
    wv = rng.normal(size=(2, 3))
    x = gn.placeholder(gn.float64, [2, 3], name="x")
    y = gn.reduce_sum(graphnn_fn(x) * wv)
    hessian, = gn.hessians(y, x)
    grad_of_grad, = gn.gradients(gn.gradients(y, x)[0], x)
    got_h, got_gg = _run([hessian, grad_of_grad], {x: xv})

    def f(x):
        return jnp.sum(jax_fn(x) * wv)

    with jax.enable_x64(True):
        expected = np.asarray(jax.jit(jax.hessian(f))(jnp.asarray(xv)))
    np.testing.assert_allclose(got_h, expected, rtol=1e-9, atol=1e-12)
    # d/dx of sum(dy/dx): the Hessian summed over its first pair of axes
    np.testing.assert_allclose(got_gg, expected.sum(axis=(0, 1)), rtol=1e-9, atol=1e-12)


def _conv_same(x, k):
    return gn.nn.conv2d(x, k, strides=1, padding="SAME")


BINARY = {
    "mul": (lambda a, b: a * b, lambda a, b: a * b, (3, 4), (3, 4)),
    "div": (lambda a, b: a / b, lambda a, b: a / b, (3, 4), (4,)),
    "matmul": (gn.matmul, jnp.matmul, (3, 4), (4, 2)),
    "conv2d": (_conv_same, _jax_conv, (1, 4, 4, 2), (3, 3, 2, 2)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_second_derivatives_of_binary_op_match_jax(name):
    """Hessian-vector products, both pure (d2/da2) and mixed (d2/da db), through
    gn.gradients(gn.gradients(...))."""
    graphnn_fn, jax_fn, a_shape, b_shape = BINARY[name]
    rng = np.random.default_rng(len(name))
    av = rng.normal(size=a_shape)
    bv = rng.uniform(0.5, 2.0, size=b_shape) * rng.choice([-1.0, 1.0], size=b_shape)
    a = gn.placeholder(gn.float64, a_shape, name="a")
    b = gn.placeholder(gn.float64, b_shape, name="b")
    out = graphnn_fn(a, b)
    wv = rng.normal(size=out.shape.as_list())
    y = gn.reduce_sum(gn.square(out) * wv)
    ua, ub = rng.normal(size=a_shape), rng.normal(size=b_shape)
    ga, gb = gn.gradients(y, [a, b])
    hvp_a = gn.gradients(gn.reduce_sum(ga * ua), [a, b])  # [H_aa ua, H_ba ua]
    hvp_b = gn.gradients(gn.reduce_sum(gb * ub), [a, b])  # [H_ab ub, H_bb ub]
    got = _run(hvp_a + hvp_b, {a: av, b: bv})

    def f(a, b):
        return jnp.sum(jnp.square(jax_fn(a, b)) * wv)

    def hvp(a, b, direction, argnum):
        def along(a, b):
            return jnp.sum(jax.grad(f, argnums=argnum)(a, b) * direction)
        return jax.grad(along, argnums=(0, 1))(a, b)

    with jax.enable_x64(True):
        both = jax.jit(lambda a, b: hvp(a, b, ua, 0) + hvp(a, b, ub, 1))
        expected = [np.asarray(h) for h in both(jnp.asarray(av), jnp.asarray(bv))]
    _assert_all_close(got, expected, rtol=1e-9, atol=1e-11)


def test_hessian_with_respect_to_conv2d_input_matches_jax():
    rng = np.random.default_rng(7)
    xv, kv = rng.normal(size=(1, 3, 3, 1)), rng.normal(size=(2, 2, 1, 2))
    wv = rng.normal(size=(1, 3, 3, 2))
    x = gn.placeholder(gn.float64, [1, 3, 3, 1], name="x")
    y = gn.reduce_sum(gn.tanh(_conv_same(x, gn.constant(kv))) * wv)
    hessian, = gn.hessians(y, x)
    got = _run(hessian, {x: xv})

    def f(x):
        return jnp.sum(jnp.tanh(_jax_conv(x, kv)) * wv)

    with jax.enable_x64(True):
        expected = np.asarray(jax.jit(jax.hessian(f))(jnp.asarray(xv)))
    assert got.shape == (1, 3, 3, 1, 1, 3, 3, 1)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
