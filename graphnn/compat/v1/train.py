"""``tf.train``: TF 1's optimizer and Saver signatures over ``gn.train``, and the global step.

``use_locking`` is accepted and has no effect: a graphnn train op is one compiled XLA
program whose updates never interleave with another run's (the Session serializes runs
that touch variables). ``minimize``'s ``gate_gradients``, ``aggregation_method`` and
``colocate_gradients_with_ops`` concern TensorFlow's executor and are accepted likewise.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import graphnn as gn
from graphnn.compat.v1._unsupported import missing_names
from graphnn.compat.v1._variables import Variable
from graphnn.framework.graph import GraphKeys
from graphnn.train import latest_checkpoint

__all__ = ["AdagradOptimizer", "AdamOptimizer", "GradientDescentOptimizer", "MomentumOptimizer",
           "Optimizer", "RMSPropOptimizer", "Saver", "create_global_step", "exponential_decay",
           "get_global_step", "get_or_create_global_step", "global_step", "latest_checkpoint"]

GLOBAL_STEP = "global_step"


class _TF1Minimize:
    """``minimize`` and ``compute_gradients`` with TF 1's argument lists."""

    def minimize(self, loss: gn.Tensor, global_step: Optional[gn.Variable] = None,
                 var_list: Optional[Sequence[gn.Variable]] = None, gate_gradients: int = 1,
                 aggregation_method: Any = None, colocate_gradients_with_ops: bool = False,
                 name: Optional[str] = None, grad_loss: Any = None) -> gn.Operation:
        if grad_loss is not None:
            raise NotImplementedError("minimize(grad_loss=...) is not supported by "
                                      "graphnn.compat.v1")
        return super().minimize(loss, global_step=global_step, var_list=var_list, name=name)

    def compute_gradients(self, loss: gn.Tensor, var_list: Optional[Sequence[gn.Variable]] = None,
                          gate_gradients: int = 1, aggregation_method: Any = None,
                          colocate_gradients_with_ops: bool = False,
                          grad_loss: Any = None) -> list:
        if grad_loss is not None:
            raise NotImplementedError("compute_gradients(grad_loss=...) is not supported by "
                                      "graphnn.compat.v1")
        return super().compute_gradients(loss, var_list)


Optimizer = gn.train.Optimizer


class GradientDescentOptimizer(_TF1Minimize, gn.train.GradientDescentOptimizer):
    """``tf.train.GradientDescentOptimizer(learning_rate, use_locking=False, name=...)``."""

    def __init__(self, learning_rate: Any, use_locking: bool = False,
                 name: str = "GradientDescent"):
        super().__init__(learning_rate, name=name)


class MomentumOptimizer(_TF1Minimize, gn.train.MomentumOptimizer):
    """``tf.train.MomentumOptimizer(learning_rate, momentum, use_locking, name, use_nesterov)``."""

    def __init__(self, learning_rate: Any, momentum: Any, use_locking: bool = False,
                 name: str = "Momentum", use_nesterov: bool = False):
        super().__init__(learning_rate, momentum, use_nesterov=use_nesterov, name=name)


class AdamOptimizer(_TF1Minimize, gn.train.AdamOptimizer):
    """``tf.train.AdamOptimizer(learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08)``."""

    def __init__(self, learning_rate: Any = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-08, use_locking: bool = False, name: str = "Adam"):
        super().__init__(learning_rate, beta1, beta2, epsilon, name=name)


class RMSPropOptimizer(_TF1Minimize, gn.train.RMSPropOptimizer):
    """``tf.train.RMSPropOptimizer(learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10)``."""

    def __init__(self, learning_rate: Any, decay: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-10, use_locking: bool = False, centered: bool = False,
                 name: str = "RMSProp"):
        if centered:
            raise NotImplementedError("RMSPropOptimizer(centered=True) is not supported by "
                                      "graphnn.compat.v1")
        super().__init__(learning_rate, decay=decay, momentum=momentum, epsilon=epsilon,
                         name=name)


class AdagradOptimizer(_TF1Minimize, gn.train.AdagradOptimizer):
    """``tf.train.AdagradOptimizer(learning_rate, initial_accumulator_value=0.1)``."""

    def __init__(self, learning_rate: Any, initial_accumulator_value: float = 0.1,
                 use_locking: bool = False, name: str = "Adagrad"):
        super().__init__(learning_rate, initial_accumulator_value=initial_accumulator_value,
                         name=name)


class Saver(gn.train.Saver):
    """``tf.train.Saver(var_list=None, reshape=False, sharded=False, max_to_keep=5, ...)``.

    Checkpoints are graphnn's own format: it cannot read checkpoints written by
    TensorFlow, nor TensorFlow graphnn's. ``save``/``restore`` take TF 1's arguments.
    """

    def __init__(self, var_list: Any = None, reshape: bool = False, sharded: bool = False,
                 max_to_keep: Optional[int] = 5, keep_checkpoint_every_n_hours: float = 10000.0,
                 name: Optional[str] = None, restore_sequentially: bool = False,
                 saver_def: Any = None, builder: Any = None, defer_build: bool = False,
                 allow_empty: bool = False, write_version: Any = None, pad_step_number: bool = False,
                 save_relative_paths: bool = False, filename: Optional[str] = None):
        super().__init__(var_list, max_to_keep=max_to_keep)

    def save(self, sess: Any, save_path: str, global_step: Any = None,
             latest_filename: Optional[str] = None, meta_graph_suffix: str = "meta",
             write_meta_graph: bool = True, write_state: bool = True,
             strip_default_attrs: bool = False, save_debug_info: bool = False) -> str:
        return super().save(sess, save_path, global_step=global_step)


def get_global_step(graph: Optional[gn.Graph] = None) -> Optional[gn.Variable]:
    """The graph's global step variable, or None."""
    steps = (graph or gn.get_default_graph()).get_collection(GLOBAL_STEP)
    return steps[0] if steps else None


def create_global_step(graph: Optional[gn.Graph] = None) -> gn.Variable:
    """A new int64 ``global_step`` variable (0, not trainable); an error if one exists."""
    graph = graph or gn.get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default(), graph.name_scope(None):
        step = Variable(gn.constant(0, gn.int64), trainable=False, name="global_step",
                        collections=[GraphKeys.GLOBAL_VARIABLES, GLOBAL_STEP])
    return step


def get_or_create_global_step(graph: Optional[gn.Graph] = None) -> gn.Variable:
    """The graph's global step, created on first use."""
    return get_global_step(graph) or create_global_step(graph)


def global_step(sess: Any, global_step_tensor: Any) -> int:
    """The value of the global step as a Python int."""
    return int(sess.run(global_step_tensor))


def exponential_decay(learning_rate: Any, global_step: Any, decay_steps: Any, decay_rate: Any,
                      staircase: bool = False, name: Optional[str] = None) -> gn.Tensor:
    """``learning_rate * decay_rate ** (global_step / decay_steps)``, floored when ``staircase``."""
    with gn.name_scope(name or "ExponentialDecay"):
        rate = gn.convert_to_tensor(learning_rate, gn.float32)
        progress = gn.cast(global_step, gn.float32) / gn.cast(decay_steps, gn.float32)
        if staircase:
            progress = progress // 1.0
        return rate * gn.pow(gn.cast(decay_rate, gn.float32), progress)


__getattr__ = missing_names("train", {
    "Checkpoint": "use tf.train.Saver",
    "import_meta_graph": "graphnn does not write meta graphs; rebuild the graph in Python "
                         "and use tf.train.Saver().restore, or gn.io.write_graph/import_graph",
})
