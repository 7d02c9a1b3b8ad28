"""The graph that ``compile`` asks for: labels, sample weights, loss, metrics, train op.

The loss that trains is the sample-weighted mean of the per-sample losses plus the
layers' regularization penalties. Runs fetch the weighted *sums* per batch, so that
an epoch's ``loss`` is the mean over every sample however the batches were padded.
"""
from __future__ import annotations

from typing import Any, Callable

from graphnn.framework import dtypes
from graphnn.framework.graph import GraphKeys
from graphnn.framework.tensor import Tensor
from graphnn.models import losses
from graphnn.ops.math import add_n
from graphnn.ops.reduction import reduce_sum
from graphnn.ops.state import constant, placeholder
from graphnn.train.optimizer import Optimizer


class TrainingGraph:
    """The training and evaluation pieces of one compiled model, built once.

    Attributes:
        y: the labels placeholder; w: the sample-weights placeholder (0 marks padding).
        loss_sum: sum over the batch of weight * per-sample loss.
        regularization: the sum of the layers' penalties (a scalar, 0 without any).
        loss: the training objective, ``loss_sum / sum(w) + regularization``.
        metric_sums: {name: sum over the batch of weight * per-sample metric}.
        train_op: one optimizer step on ``loss`` (BatchNormalization updates included).
        optimizer_variables: the variables the optimizer created (slots, counters).
    """

    def __init__(self, output: Tensor, loss: losses.Loss, metrics: dict[str, Callable],
                 optimizer: Optimizer, trainable_variables: list, penalties: list[Tensor],
                 label_shape: tuple):
        graph = output.graph
        with graph.as_default():
            with graph.name_scope("loss"):
                self.y = placeholder(losses.label_dtype(loss), [None, *label_shape],
                                     name="y_true")
                self.w = placeholder(dtypes.float32, [None], name="sample_weight")
                per_sample = losses.as_float(loss.per_sample(self.y, output))
                self.loss_sum = reduce_sum(per_sample * self.w, name="weighted_sum")
                self.regularization = add_n(penalties) if penalties else constant(0.0)
                self.loss = self.loss_sum / reduce_sum(self.w) + self.regularization
            self.metric_sums: dict[str, Tensor] = {}
            with graph.name_scope("metrics"):
                for name, metric in metrics.items():
                    values = losses.as_float(metric(self.y, output))
                    self.metric_sums[name] = reduce_sum(values * self.w)
            before = set(graph.get_collection(GraphKeys.GLOBAL_VARIABLES))
            self.train_op = optimizer.minimize(self.loss, var_list=trainable_variables)
            self.optimizer_variables = [v for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES)
                                        if v not in before]

    def fetches(self) -> dict[str, Any]:
        """What one evaluation step fetches: the weighted sums and the penalty."""
        return {"loss_sum": self.loss_sum, "regularization": self.regularization,
                **{f"metric:{k}": v for k, v in self.metric_sums.items()}}
