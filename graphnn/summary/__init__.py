"""TensorBoard event files: the graph for TensorBoard's graph tab, scalar training curves,
and summary ops (``scalar``, ``histogram``, ``merge_all``) whose fetched bytes
``FileWriter.add_summary`` writes, as in TF 1.

Needs the optional ``tensorboard`` package (``pip install graphnn[tensorboard]``),
whose protocol buffers are used; TensorFlow is not needed. Importing this module
works without it; creating a ``FileWriter`` then says how to install it.

Example:
    >>> writer = gn.summary.FileWriter("logs/run1", graph=gn.get_default_graph())
    >>> writer.add_scalar("loss", 0.5, step=1)
    >>> merged = gn.summary.merge_all()       # after gn.summary.scalar("loss", loss) ...
    >>> writer.add_summary(sess.run(merged, feed), step)
    >>> writer.close()
    $ tensorboard --logdir logs

Summary ops need no package; writing them needs ``tensorboard``.
"""
from graphnn.ops.summary import clean_tag, histogram, merge, merge_all, scalar
from graphnn.summary.graph_def import to_graph_def
from graphnn.summary.writer import FileWriter

__all__ = ["FileWriter", "clean_tag", "histogram", "merge", "merge_all", "scalar", "to_graph_def"]
