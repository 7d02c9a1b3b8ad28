"""Save and restore a model (TF 1 tutorial): train, save, restore in a new session, resume."""
import os
import sys
import tempfile

import graphnn.compat.v1 as tf
from tutorial_data import read_data_sets

tf.disable_v2_behavior()
mnist = read_data_sets()

learning_rate = 0.001
batch_size = 100
n_hidden_1 = 128
n_input = 784
n_classes = 10
model_path = os.path.join(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(), "model.ckpt")

x = tf.placeholder("float", [None, n_input])
y = tf.placeholder("float", [None, n_classes])
weights = {
    'h1': tf.Variable(tf.random_normal([n_input, n_hidden_1], stddev=0.1)),
    'out': tf.Variable(tf.random_normal([n_hidden_1, n_classes], stddev=0.1))
}
biases = {
    'b1': tf.Variable(tf.random_normal([n_hidden_1], stddev=0.1)),
    'out': tf.Variable(tf.random_normal([n_classes], stddev=0.1))
}
layer_1 = tf.nn.relu(tf.add(tf.matmul(x, weights['h1']), biases['b1']))
pred = tf.matmul(layer_1, weights['out']) + biases['out']
cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=pred, labels=y))
optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate).minimize(cost)
correct_prediction = tf.equal(tf.argmax(pred, 1), tf.argmax(y, 1))
accuracy = tf.reduce_mean(tf.cast(correct_prediction, "float"))
init = tf.global_variables_initializer()
saver = tf.train.Saver()


def train_epoch(sess):
    for i in range(int(mnist.train.num_examples / batch_size)):
        batch_x, batch_y = mnist.train.next_batch(batch_size)
        sess.run([optimizer, cost], feed_dict={x: batch_x, y: batch_y})


print("Starting 1st session...")
with tf.Session() as sess:
    sess.run(init)
    train_epoch(sess)
    saved_accuracy = accuracy.eval({x: mnist.test.images, y: mnist.test.labels})
    print("Accuracy before saving:", saved_accuracy)
    save_path = saver.save(sess, model_path)
    print("Model saved in file: %s" % save_path)

print("Starting 2nd session...")
with tf.Session() as sess:
    sess.run(init)
    load_path = saver.restore(sess, model_path)
    print("Model restored from file: %s" % save_path)
    restored_accuracy = accuracy.eval({x: mnist.test.images, y: mnist.test.labels})
    print("Accuracy after restoring:", restored_accuracy)
    print("Restored exactly:", restored_accuracy == saved_accuracy)
    train_epoch(sess)
    print("Accuracy after resuming:", accuracy.eval({x: mnist.test.images, y: mnist.test.labels}))
