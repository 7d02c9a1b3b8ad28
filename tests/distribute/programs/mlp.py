"""The model every distribute test trains: the same steps on one device or many."""
import numpy as np

import graphnn as gn

BATCH = 16


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4 * BATCH, 8)).astype(np.float32)
    y = (x @ rng.normal(size=(8, 1)) > 0).astype(np.float32)
    return x, y


def train_low_level(strategy):
    """run, run_loop and make_callable on a hand-built graph; returns the weights and losses."""
    graph = gn.Graph()
    with graph.as_default():
        gn.set_random_seed(3)
        x = gn.placeholder(gn.float32, [None, 8], name="x")
        y = gn.placeholder(gn.float32, [None, 1], name="y")
        rate = gn.placeholder_with_default(0.1, [], name="rate")
        hidden = gn.layers.Dense(32, activation="tanh")(x)
        logits = gn.layers.Dense(1)(hidden)
        loss = gn.reduce_mean(gn.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
        train = gn.train.MomentumOptimizer(rate, 0.9).minimize(loss)
        sess = gn.Session(strategy=strategy)
        sess.run(gn.global_variables_initializer())
        xs, ys = data()
        losses = [sess.run([train, loss], {x: xs[i::4], y: ys[i::4], rate: 0.2})[1]
                  for i in range(4)]
        stacked = sess.run_loop([train, loss], {x: xs.reshape(4, BATCH, 8),
                                                y: ys.reshape(4, BATCH, 1)})[1]
        step = sess.make_callable(loss, [x, y])
        weights = sess.run(gn.trainable_variables())
    return {"losses": np.array(losses), "loop_losses": stacked, "callable_loss": step(xs, ys),
            **{f"w{i}": w for i, w in enumerate(weights)}}, sess, (x, y, train, loss)


def train_model(strategy):
    """Sequential.fit built under strategy.scope(): a batch size of 12 and 64 samples."""
    graph = gn.Graph()
    with graph.as_default(), (strategy.scope() if strategy else _nothing()):
        gn.set_random_seed(5)
        model = gn.models.Sequential([gn.layers.Dense(16, activation="relu", input_shape=(8,)),
                                      gn.layers.Dense(1, activation="sigmoid")])
        model.compile(gn.train.AdamOptimizer(0.01), "binary_crossentropy", ["accuracy"])
        xs, ys = data()
        history = model.fit(xs, ys, batch_size=12, epochs=2, verbose=0)
        evaluated = model.evaluate(xs, ys, batch_size=10)
        predicted = model.predict(xs[:10], batch_size=3)
        return {"fit_loss": np.array(history.history["loss"]), "evaluate": np.array(evaluated),
                "predict": predicted, **{f"m{i}": w for i, w in enumerate(model.get_weights())}}


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
