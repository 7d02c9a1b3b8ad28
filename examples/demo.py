"""graphnn demo: softmax regression on three Gaussian blobs, with the low-level graph API.

The gradient is written by hand as graph ops (dL/dlogits = softmax - onehot), so every
step of training is one compiled XLA program that updates the variables in place.
"""
import numpy as np

import graphnn as gn


def make_blobs(n_per_class: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]], np.float32)
    x = np.concatenate([c + rng.normal(size=(n_per_class, 2)) for c in centers]).astype(np.float32)
    y = np.repeat(np.arange(3), n_per_class).astype(np.int32)
    order = rng.permutation(len(y))
    return x[order], y[order]


def main() -> None:
    x_train, y_train = make_blobs(200, seed=0)
    x_test, y_test = make_blobs(100, seed=1)

    x = gn.placeholder(gn.float32, shape=[None, 2], name="x")
    y = gn.placeholder(gn.int32, shape=[None], name="y")
    with gn.name_scope("softmax_regression"):
        W = gn.Variable(gn.zeros([2, 3]), name="W")
        b = gn.Variable(gn.zeros([3]), name="b")
        logits = gn.matmul(x, W) + b
    loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    accuracy = gn.reduce_mean(gn.cast(gn.equal(gn.argmax(logits, axis=1, output_type=gn.int32), y),
                                      gn.float32))

    # d(mean cross-entropy)/d(logits) = (softmax(logits) - onehot(y)) / batch_size
    batch = gn.cast(gn.shape(x)[0], gn.float32)
    d_logits = (gn.nn.softmax(logits) - gn.one_hot(y, 3)) / batch
    learning_rate = 0.5
    train = gn.group(W.assign_sub(learning_rate * gn.matmul(x, d_logits, transpose_a=True)),
                     b.assign_sub(learning_rate * gn.reduce_sum(d_logits, axis=0)))

    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        for epoch in range(1, 101):
            _, train_loss = sess.run([train, loss], feed_dict={x: x_train, y: y_train})
            if epoch % 20 == 0:
                print(f"epoch {epoch:3d}  loss {train_loss:.4f}")
        test_loss, test_accuracy = sess.run([loss, accuracy], feed_dict={x: x_test, y: y_test})
    print(f"test loss {test_loss:.4f}  test accuracy {test_accuracy:.3f}")


if __name__ == "__main__":
    main()
