"""Each optimizer against a numpy float64 reference of TensorFlow 1's update rule."""
import numpy as np
import pytest

import graphnn as gn

rng = np.random.default_rng(0)
X = rng.normal(size=(32, 3))
Y = X @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.normal(size=(32, 1))
W0 = rng.normal(size=(3, 1)) * 0.1
B0 = np.zeros(1)
STEPS = 60


def numpy_grads(w, b):
    residual = X @ w + b - Y
    return 2 * X.T @ residual / len(X), 2 * residual.mean(axis=0)


def gd(lr):
    def step(params, grads, state, t):
        return [p - lr * g for p, g in zip(params, grads)], state
    return step


def momentum(lr, mu, nesterov):
    def step(params, grads, state, t):
        state = state or [np.zeros_like(p) for p in params]
        state = [mu * a + g for a, g in zip(state, grads)]
        moves = [g + mu * a if nesterov else a for g, a in zip(grads, state)]
        return [p - lr * m for p, m in zip(params, moves)], state
    return step


def adam(lr, b1=0.9, b2=0.999, eps=1e-8):
    def step(params, grads, state, t):
        state = state or ([np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params])
        m = [b1 * mi + (1 - b1) * g for mi, g in zip(state[0], grads)]
        v = [b2 * vi + (1 - b2) * g * g for vi, g in zip(state[1], grads)]
        lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return [p - lr_t * mi / (np.sqrt(vi) + eps) for p, mi, vi in zip(params, m, v)], (m, v)
    return step


def rmsprop(lr, decay, mu, eps, centered):
    def step(params, grads, state, t):
        state = state or ([np.ones_like(p) for p in params], [np.zeros_like(p) for p in params],
                          [np.zeros_like(p) for p in params])
        ms = [decay * s + (1 - decay) * g * g for s, g in zip(state[0], grads)]
        mg = [decay * s + (1 - decay) * g for s, g in zip(state[2], grads)]
        denominators = [s - a * a if centered else s for s, a in zip(ms, mg)]
        mom = [mu * m + lr * g / np.sqrt(d + eps) for m, g, d in zip(state[1], grads, denominators)]
        return [p - m for p, m in zip(params, mom)], (ms, mom, mg)
    return step


def adagrad(lr, initial):
    def step(params, grads, state, t):
        state = state or [np.full_like(p, initial) for p in params]
        state = [a + g * g for a, g in zip(state, grads)]
        return [p - lr * g / np.sqrt(a) for p, g, a in zip(params, grads, state)], state
    return step


CASES = {
    "sgd": (lambda: gn.train.GradientDescentOptimizer(0.05), gd(0.05)),
    "momentum": (lambda: gn.train.MomentumOptimizer(0.02, 0.9), momentum(0.02, 0.9, False)),
    "nesterov": (lambda: gn.train.MomentumOptimizer(0.02, 0.9, use_nesterov=True),
                 momentum(0.02, 0.9, True)),
    "adam": (lambda: gn.train.AdamOptimizer(0.05), adam(0.05)),
    "adam_custom": (lambda: gn.train.AdamOptimizer(0.01, beta1=0.5, beta2=0.9, epsilon=1e-4),
                    adam(0.01, 0.5, 0.9, 1e-4)),
    "rmsprop": (lambda: gn.train.RMSPropOptimizer(0.01), rmsprop(0.01, 0.9, 0.0, 1e-10, False)),
    "rmsprop_momentum_centered": (
        lambda: gn.train.RMSPropOptimizer(0.01, decay=0.8, momentum=0.5, epsilon=1e-6,
                                          centered=True),
        rmsprop(0.01, 0.8, 0.5, 1e-6, True)),
    "adagrad": (lambda: gn.train.AdagradOptimizer(0.1), adagrad(0.1, 0.1)),
}


def build_regression(dtype=gn.float64):
    x = gn.placeholder(dtype, shape=[None, 3], name="x")
    y = gn.placeholder(dtype, shape=[None, 1], name="y")
    w = gn.Variable(W0.astype(dtype.as_numpy_dtype), name="w")
    b = gn.Variable(B0.astype(dtype.as_numpy_dtype), name="b")
    loss = gn.reduce_mean(gn.square(gn.matmul(x, w) + b - y))
    return x, y, w, b, loss


@pytest.mark.parametrize("name", sorted(CASES))
def test_optimizer_matches_numpy_reference(name):
    make_optimizer, reference_step = CASES[name]
    x, y, w, b, loss = build_regression()
    train = make_optimizer().minimize(loss)
    params, state = [W0.copy(), B0.copy()], None
    losses = []
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        for t in range(1, STEPS + 1):
            losses.append(sess.run(loss, {x: X, y: Y}))
            sess.run(train, {x: X, y: Y})
            params, state = reference_step(params, numpy_grads(*params), state, t)
            got_w, got_b = sess.run([w, b])
            np.testing.assert_allclose(got_w, params[0], rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name} step {t}")
            np.testing.assert_allclose(got_b, params[1], rtol=1e-9, atol=1e-12)
    assert losses[-1] < losses[0]


def test_train_op_is_one_group_running_one_program():
    x, y, w, b, loss = build_regression()
    train = gn.train.AdamOptimizer(0.1).minimize(loss)
    assert isinstance(train, gn.Operation) and train.type == "NoOp"
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        before = sess.compilation_count
        for _ in range(5):
            assert sess.run(train, {x: X, y: Y}) is None
        assert sess.compilation_count == before + 1


def test_slots_are_non_trainable_and_initialized_by_global_initializer():
    x, y, w, b, loss = build_regression()
    optimizer = gn.train.AdamOptimizer(0.1)
    optimizer.minimize(loss)
    m, v = optimizer.get_slot(w, "m"), optimizer.get_slot(w, "v")
    assert m.op.name == "w/Adam" and v.op.name == "w/Adam_1"
    assert m.shape == w.shape and not m.trainable
    assert set(gn.trainable_variables()) == {w, b}
    assert {m, v} <= set(gn.global_variables())
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(m), np.zeros((3, 1)))


def test_learning_rate_placeholder_and_global_step():
    x, y, w, b, loss = build_regression()
    lr = gn.placeholder(gn.float32, shape=[], name="lr")
    step = gn.Variable(0, trainable=False, name="global_step")
    train = gn.train.GradientDescentOptimizer(lr).minimize(loss, global_step=step)
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        sess.run(train, {x: X, y: Y, lr: 0.0})
        np.testing.assert_array_equal(sess.run(w), W0)
        sess.run(train, {x: X, y: Y, lr: 0.05})
        grad_w, _ = numpy_grads(W0, B0)
        np.testing.assert_allclose(sess.run(w), W0 - 0.05 * grad_w, rtol=1e-6)
        assert sess.run(step) == 2


def test_compute_and_apply_gradients_allow_editing_gradients():
    x, y, w, b, loss = build_regression()
    optimizer = gn.train.GradientDescentOptimizer(0.1)
    grads_and_vars = optimizer.compute_gradients(loss)
    assert [v for _, v in grads_and_vars] == [w, b]
    clipped = [(gn.clip_by_value(g, -0.01, 0.01), v) for g, v in grads_and_vars]
    train = optimizer.apply_gradients(clipped)
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        sess.run(train, {x: X, y: Y})
        assert np.abs(sess.run(w) - W0).max() <= 0.001 + 1e-12


def test_minimize_without_any_gradient_names_each_variable_and_cut():
    x, y, w, b, loss = build_regression()
    predicted_class = gn.argmax(gn.matmul(x, w), axis=1)
    bad_loss = gn.reduce_mean(gn.cast(predicted_class, gn.float64))
    cut_line = predicted_class.op.location[1]
    with pytest.raises(ValueError) as error:
        gn.train.GradientDescentOptimizer(0.1).minimize(bad_loss)
    message = str(error.value)
    assert "No gradients provided for any variable" in message
    assert "'w'" in message and "'b'" in message
    assert f"ArgMax 'ArgMax' created at {__file__}:{cut_line}" in message
    assert "not used to compute" in message  # b has no path at all


def test_minimize_warns_when_some_variables_get_no_gradient():
    x, y, w, b, loss = build_regression()
    unused = gn.Variable(np.ones(2), name="unused")
    with pytest.warns(UserWarning, match="unused"):
        gn.train.GradientDescentOptimizer(0.1).minimize(loss)
    assert unused.trainable


def test_stop_gradient_cut_is_explained():
    x, y, w, b, loss = build_regression()
    frozen_loss = gn.reduce_mean(gn.stop_gradient(gn.matmul(x, w)))
    with pytest.raises(ValueError, match="StopGradient 'StopGradient' created at"):
        gn.train.AdamOptimizer().minimize(frozen_loss, var_list=[w])


def test_float32_training_reduces_loss_with_every_optimizer():
    for name, (make_optimizer, _) in sorted(CASES.items()):
        with gn.Graph().as_default():
            x, y, w, b, loss = build_regression(gn.float32)
            train = make_optimizer().minimize(loss)
            with gn.Session() as sess:
                sess.run(gn.global_variables_initializer())
                first = sess.run(loss, {x: X, y: Y})
                for _ in range(30):
                    sess.run(train, {x: X, y: Y})
                assert sess.run(loss, {x: X, y: Y}) < first, name
                assert sess.run(w).dtype == np.float32
