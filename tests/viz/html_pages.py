"""Graphs and models that the HTML view tests draw, and a reader for the page's data."""
import base64
import gzip
import json
import re

import graphnn as gn


def classifier_model():
    return gn.models.Sequential([gn.layers.Dense(16, activation="relu", input_shape=(4,)),
                                 gn.layers.Dropout(0.2),
                                 gn.layers.Dense(3, activation="softmax")])


def training_graph():
    """Two scopes, a loss, its gradients and an SGD step; returns the ops tests click on."""
    x = gn.placeholder(gn.float32, [None, 4], name="x")
    with gn.name_scope("hidden"):
        W = gn.Variable(gn.ones([4, 8]), name="W")
        h = gn.nn.relu(gn.matmul(x, W))
    with gn.name_scope("out"):
        y = gn.reduce_sum(h, axis=1)
    loss = gn.reduce_mean(gn.square(y), name="loss")
    train = gn.train.GradientDescentOptimizer(0.1).minimize(loss)
    return {"x": x, "matmul": h.op.inputs[0].op, "loss": loss, "train": train}


def page_data(page: str) -> dict:
    """The JSON the page carries, with its views unpacked."""
    match = re.search(r'<script type="application/json" class="gnviz-data">(.*?)</script>',
                      page, re.DOTALL)
    data = json.loads(match.group(1))
    data.update(json.loads(gzip.decompress(base64.b64decode(data.pop("packed")))))
    return data


def view_titles(data: dict, closed: set) -> set:
    """The node ids drawn in the view where exactly ``closed`` scopes are closed."""
    svg = data["views"][data["states"]["\n".join(sorted(closed))]]
    return {title for title in re.findall(r'<g id="node\d+" class="node">\n<title>(.*?)</title>',
                                          svg)}
