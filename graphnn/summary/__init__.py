"""TensorBoard event files: the graph for TensorBoard's graph tab, scalar training curves.

Needs the optional ``tensorboard`` package (``pip install graphnn[tensorboard]``),
whose protocol buffers are used; TensorFlow is not needed. Importing this module
works without it; creating a ``FileWriter`` then says how to install it.

Example:
    >>> writer = gn.summary.FileWriter("logs/run1", graph=gn.get_default_graph())
    >>> writer.add_scalar("loss", 0.5, step=1)
    >>> writer.close()
    $ tensorboard --logdir logs
"""
from graphnn.summary.graph_def import to_graph_def
from graphnn.summary.writer import FileWriter

__all__ = ["FileWriter", "to_graph_def"]
