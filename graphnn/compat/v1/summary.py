"""``tf.summary``: TF 1's summary ops and ``FileWriter``, over ``gn.summary``.

``scalar``/``histogram`` return serialized ``Summary`` bytes when fetched (tags cleaned
as TF 1 does: ``W1:0`` -> ``W1_0``); ``FileWriter.add_summary(summary, step)`` writes them.
"""
from __future__ import annotations

import os
from typing import Any, Optional

import graphnn as gn
from graphnn.compat.v1._unsupported import missing_names
from graphnn.summary import histogram, merge, merge_all, scalar

__all__ = ["FileWriter", "histogram", "merge", "merge_all", "scalar"]


class FileWriter(gn.summary.FileWriter):
    """``tf.summary.FileWriter(logdir, graph=None, max_queue=10, flush_secs=120, ...)``.

    Events are written and flushed as they are added, so ``max_queue`` and ``flush_secs``
    have nothing to tune; ``graph_def`` and ``session`` are not supported.

    Example:
        >>> writer = tf.summary.FileWriter("/tmp/logs", graph=tf.get_default_graph())
        >>> writer.add_summary(sess.run(merged, feed_dict), step)
    """

    def __init__(self, logdir: str | os.PathLike, graph: Optional[gn.Graph] = None,
                 max_queue: int = 10, flush_secs: int = 120, graph_def: Any = None,
                 filename_suffix: Optional[str] = None, session: Any = None):
        if graph_def is not None or session is not None:
            raise NotImplementedError("FileWriter(graph_def=..., session=...) is not supported "
                                      "by graphnn.compat.v1; pass graph=")
        super().__init__(logdir, graph=graph, filename_suffix=filename_suffix or "")


__getattr__ = missing_names("summary")
