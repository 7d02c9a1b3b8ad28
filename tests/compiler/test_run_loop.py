"""Session.run_loop and make_callable give exactly what repeated Session.run gives."""
import numpy as np
import pytest

import graphnn as gn

rng = np.random.default_rng(0)
XS = rng.normal(size=(12, 8, 4)).astype(np.float32)
YS = rng.integers(0, 3, size=(12, 8)).astype(np.int32)


def build_classifier(seed=7):
    gn.set_random_seed(seed)
    x = gn.placeholder(gn.float32, [None, 4], name="x")
    y = gn.placeholder(gn.int32, [None], name="y")
    w = gn.Variable(gn.random_normal([4, 3], stddev=0.5), name="w")
    b = gn.Variable(gn.zeros([3]), name="b")
    hidden = gn.nn.dropout(gn.tanh(gn.matmul(x, w) + b), rate=0.25)
    loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=hidden))
    step = gn.Variable(0, trainable=False, name="step")
    train = gn.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
    return x, y, w, b, step, loss, train


def test_run_loop_equals_repeated_runs_with_adam_and_dropout():
    x, y, w, b, step, loss, train = build_classifier()
    init = gn.global_variables_initializer()
    with gn.Session() as one_by_one:
        one_by_one.run(init)
        losses = [one_by_one.run([train, loss], {x: XS[i], y: YS[i]})[1] for i in range(12)]
        expected = one_by_one.run([w, b, step])
        next_loss = one_by_one.run(loss, {x: XS[0], y: YS[0]})
    with gn.Session() as looped:
        looped.run(init)
        trained, looped_losses = looped.run_loop([train, loss], {x: XS, y: YS})
        assert trained is None
        np.testing.assert_allclose(looped_losses, losses, rtol=1e-6)
        for got, want in zip(looped.run([w, b, step]), expected):
            np.testing.assert_allclose(got, want, rtol=1e-6)
        assert looped.run(step) == 12
        # Random counters advanced by the 12 steps: the next draw matches too.
        np.testing.assert_allclose(looped.run(loss, {x: XS[0], y: YS[0]}), next_loss, rtol=1e-6)


def test_run_loop_in_chunks_equals_one_loop():
    x, y, w, b, step, loss, train = build_classifier()
    init = gn.global_variables_initializer()
    with gn.Session() as whole:
        whole.run(init)
        all_losses = whole.run_loop(loss, {x: XS, y: YS})
        whole.run_loop(train, {x: XS, y: YS})
        final = whole.run(w)
    with gn.Session() as chunks:
        chunks.run(init)
        np.testing.assert_allclose(chunks.run_loop(loss, {x: XS, y: YS}), all_losses, rtol=1e-6)
        chunks.run_loop(train, {x: XS[:5], y: YS[:5]})
        chunks.run_loop(train, {x: XS[5:], y: YS[5:]})
        np.testing.assert_allclose(chunks.run(w), final, rtol=1e-6)


def test_run_loop_returns_nested_structures_stacked():
    counter = gn.Variable(0.0, name="counter")
    increment = counter.assign_add(1.0)
    noise = gn.random_uniform([2], seed=3)
    with gn.Session() as sess:
        sess.run(counter.initializer)
        result = sess.run_loop({"count": increment, "noise": noise}, steps=5)
        assert result["count"].tolist() == [1, 2, 3, 4, 5]
        assert result["noise"].shape == (5, 2)
        assert len({tuple(row) for row in result["noise"]}) == 5
        with pytest.raises(ValueError, match="steps"):
            sess.run_loop(increment)


def test_run_loop_validates_step_axis():
    x = gn.placeholder(gn.float32, [None, 4], name="x")
    y = gn.reduce_sum(x)
    with gn.Session() as sess:
        with pytest.raises(gn.errors.InvalidArgumentError, match="each of 3 steps"):
            sess.run_loop(y, {x: np.zeros((3, 2, 5), np.float32)})
        with pytest.raises(gn.errors.InvalidArgumentError, match="steps"):
            sess.run_loop(y, {x: np.zeros((3, 2, 4), np.float32)}, steps=4)
        np.testing.assert_allclose(sess.run_loop(y, {x: np.ones((3, 2, 4))}), [8, 8, 8])


def test_run_loop_uninitialized_variable_fails_cleanly():
    v = gn.Variable(1.0, name="v")
    with gn.Session() as sess:
        with pytest.raises(gn.errors.FailedPreconditionError, match="uninitialized value v"):
            sess.run_loop(v.assign_add(1.0), steps=3)
        sess.run(v.initializer)
        np.testing.assert_allclose(sess.run_loop(v.assign_add(1.0), steps=3), [2, 3, 4])


def test_make_callable_equals_run_and_does_not_retrace():
    x, y, w, b, step, loss, train = build_classifier()
    init = gn.global_variables_initializer()
    with gn.Session() as by_run:
        by_run.run(init)
        expected = [by_run.run([loss, train], {x: XS[i], y: YS[i]})[0] for i in range(6)]
    with gn.Session() as by_callable:
        by_callable.run(init)
        fn = by_callable.make_callable([loss, train], [x, y])
        got = [fn(XS[i], YS[i])[0] for i in range(6)]
        count = by_callable.compilation_count
        fn(XS[6], YS[6])
        assert by_callable.compilation_count == count
    np.testing.assert_allclose(got, expected, rtol=1e-6)
