"""graphnn demo: a two-layer network classifies three interleaved spirals.

Built with the low-level graph API (placeholders, variables, ops), differentiated
symbolically by `minimize`, and trained with Adam: each step is one compiled XLA
program that updates the weights in place.
"""
import time

import numpy as np

import graphnn as gn


def make_spirals(n_per_class: int, seed: int):
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for label in range(3):
        radius = np.linspace(0.05, 1.0, n_per_class)
        angle = label * 2 * np.pi / 3 + radius * 4.0 + rng.normal(scale=0.3, size=n_per_class)
        xs.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        ys.append(np.full(n_per_class, label))
    x, y = np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int32)
    order = rng.permutation(len(y))
    return x[order], y[order]


def main() -> None:
    gn.set_random_seed(0)
    x_train, y_train = make_spirals(300, seed=0)
    x_test, y_test = make_spirals(100, seed=1)

    x = gn.placeholder(gn.float32, shape=[None, 2], name="x")
    y = gn.placeholder(gn.int32, shape=[None], name="y")
    with gn.name_scope("hidden"):
        W1 = gn.Variable(gn.random_normal([2, 64], stddev=1.0), name="W")
        b1 = gn.Variable(gn.zeros([64]), name="b")
        h = gn.nn.relu(gn.matmul(x, W1) + b1)
    with gn.name_scope("output"):
        W2 = gn.Variable(gn.random_normal([64, 3], stddev=0.1), name="W")
        b2 = gn.Variable(gn.zeros([3]), name="b")
        logits = gn.matmul(h, W2) + b2
    loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    correct = gn.equal(gn.argmax(logits, axis=1, output_type=gn.int32), y)
    accuracy = gn.reduce_mean(gn.cast(correct, gn.float32))
    train = gn.train.AdamOptimizer(learning_rate=0.02).minimize(loss)

    start = time.perf_counter()
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        for step in range(1, 501):
            _, train_loss = sess.run([train, loss], feed_dict={x: x_train, y: y_train})
            if step % 100 == 0:
                train_accuracy = sess.run(accuracy, feed_dict={x: x_train, y: y_train})
                print(f"step {step:3d}  loss {train_loss:.4f}  train accuracy {train_accuracy:.3f}")
        test_loss, test_accuracy = sess.run([loss, accuracy], feed_dict={x: x_test, y: y_test})
    print(f"test loss {test_loss:.4f}  test accuracy {test_accuracy:.3f}  "
          f"({time.perf_counter() - start:.1f} s for 500 steps)")


if __name__ == "__main__":
    main()
