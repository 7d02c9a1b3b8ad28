"""Draws the figures of README.md with graphnn's own gn.viz (needs Graphviz's `dot`).

Run from the repository root:  .venv/bin/python docs/make_figures.py
"""
from __future__ import annotations

import os

import numpy as np

import graphnn as gn

HERE = os.path.dirname(os.path.abspath(__file__))


def classifier() -> dict:
    """A one-hidden-layer classifier with its gradients and an Adam train op."""
    graph = gn.Graph()
    with graph.as_default():
        x = gn.placeholder(gn.float32, [None, 784], name="x")
        labels = gn.placeholder(gn.int32, [None], name="labels")
        with gn.name_scope("hidden"):
            W = gn.Variable(gn.random_normal([784, 64], stddev=0.05, seed=1), name="W")
            b = gn.Variable(gn.zeros([64]), name="b")
            h = gn.nn.relu(gn.matmul(x, W) + b)
        with gn.name_scope("logits"):
            W2 = gn.Variable(gn.random_normal([64, 10], stddev=0.05, seed=2), name="W")
            b2 = gn.Variable(gn.zeros([10]), name="b")
            logits = gn.matmul(h, W2) + b2
        with gn.name_scope("loss"):
            loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits))
        train_op = gn.train.AdamOptimizer(0.001).minimize(loss)
        init = gn.global_variables_initializer()
    return dict(graph=graph, x=x, labels=labels, loss=loss, train_op=train_op, init=init)


def main() -> None:
    model = classifier()
    path = gn.viz.render(model["train_op"], os.path.join(HERE, "classifier_graph.svg"),
                         collapse=["Adam"], legend=True,
                         title="One hidden layer, its gradients and an Adam step")
    print("wrote", os.path.relpath(path))

    feeds = {model["x"]: np.zeros((32, 784), np.float32), model["labels"]: np.zeros(32, np.int32)}
    with gn.Session(graph=model["graph"]) as sess:
        sess.run(model["init"])
        report = sess.compile_report(model["loss"], feeds)
    dot = gn.viz.to_dot_side_by_side(model["loss"], report.optimized_graph,
                                     titles=["loss as written", "loss after the compiler's passes"])
    path = gn.viz.render(dot, os.path.join(HERE, "loss_before_after.svg"))
    print("wrote", os.path.relpath(path))


if __name__ == "__main__":
    main()
