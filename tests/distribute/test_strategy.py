"""MirroredStrategy in this process (one CPU device): arguments, scope, errors.

Several devices are tested in subprocesses (test_mirrored.py, test_multihost.py).
"""
import jax
import numpy as np
import pytest

import graphnn as gn


def test_default_strategy_spans_every_device_of_the_backend():
    strategy = gn.distribute.MirroredStrategy()
    assert strategy.devices == jax.devices()
    assert strategy.num_replicas_in_sync == len(jax.devices())
    assert dict(strategy.mesh.shape) == {"batch": len(jax.devices())}


def test_devices_may_be_tf1_strings():
    strategy = gn.distribute.MirroredStrategy(devices=["/cpu:0"])
    assert strategy.devices == [jax.devices("cpu")[0]]


@pytest.mark.parametrize("devices, match", [
    (["/cpu:0", "/device:CPU:0"], "named twice"),
    (["/cpu:99"], "there are"),
    (["/job:worker"], "no device type"),
    ([], "at least one"),
])
def test_bad_devices_are_refused(devices, match):
    with pytest.raises(ValueError, match=match):
        gn.distribute.MirroredStrategy(devices=devices)


def test_model_shards_must_divide_the_devices():
    with pytest.raises(ValueError, match="model_shards=3"):
        gn.distribute.MirroredStrategy(devices=["/cpu:0"], model_shards=3)


def test_a_session_takes_either_a_device_or_a_strategy():
    with pytest.raises(gn.errors.InvalidArgumentError, match="one or the other"):
        gn.Session(device="cpu", strategy=gn.distribute.MirroredStrategy())


def test_sessions_and_models_created_in_scope_use_the_strategy():
    strategy = gn.distribute.MirroredStrategy()
    assert gn.distribute.get_strategy() is None
    with strategy.scope():
        assert gn.distribute.get_strategy() is strategy
        sess = gn.Session()
        model = gn.models.Sequential([gn.layers.Dense(1, input_shape=(2,))])
    assert gn.distribute.get_strategy() is None
    assert sess.strategy is strategy
    assert model.session.strategy is strategy  # created after the scope ended
    assert gn.Session().strategy is None


def test_a_one_replica_strategy_runs_as_one_device(fresh_default_graph):
    x = gn.placeholder(gn.float32, [None, 3])
    w = gn.Variable(np.eye(3, dtype=np.float32))
    loss = gn.reduce_mean(gn.square(x @ w))
    train = gn.train.GradientDescentOptimizer(0.1).minimize(loss)
    feeds = {x: np.arange(6, dtype=np.float32).reshape(2, 3)}
    results = []
    for strategy in (None, gn.distribute.MirroredStrategy(devices=["/cpu:0"])):
        sess = gn.Session(strategy=strategy)
        sess.run(gn.global_variables_initializer())
        sess.run(train, feeds)
        sess.run_loop(train, {x: np.stack([feeds[x]] * 3)})
        sess.load_variable(w, sess.run(w) * 2)
        results.append(sess.run([w, loss], feeds))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
