"""FileWriter: TensorBoard event files with a graph, scalar curves and fetched summaries.

The records are framed by TensorBoard's own ``RecordWriter`` and written
synchronously (no background thread), each event flushed as it is added, so
a TensorBoard watching the logdir sees it at once and a crash loses nothing.
"""
from __future__ import annotations

import itertools
import os
import socket
import time
from typing import Any, Optional

import numpy as np
from graphnn.framework.graph import Graph
from graphnn.framework.tensor import Tensor
from graphnn.summary.graph_def import tensorboard_modules, to_graph_def

_file_counter = itertools.count()


class FileWriter:
    """Writes an event file (``events.out.tfevents.*``) that TensorBoard reads.

    Args:
        logdir: the directory for the event file (created if missing). Point
            ``tensorboard --logdir`` at it, or at its parent to compare runs.
        graph: a ``gn.Graph`` to show in TensorBoard's graph tab.
        filename_suffix: appended to the event file's name.

    Raises:
        ImportError: the optional ``tensorboard`` package is not installed
            (``pip install graphnn[tensorboard]``).

    Example:
        >>> with gn.summary.FileWriter("logs/run1", graph=gn.get_default_graph()) as writer:
        ...     for step in range(100):
        ...         loss_value, _ = sess.run([loss, train_op], feed_dict)
        ...         writer.add_scalar("loss", loss_value, step)
        $ tensorboard --logdir logs
    """

    def __init__(self, logdir: str | os.PathLike, graph: Optional[Graph] = None,
                 filename_suffix: str = ""):
        self._pb = tensorboard_modules()
        self._logdir = os.fspath(logdir)
        os.makedirs(self._logdir, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_file_counter)}{filename_suffix}")
        self.path = os.path.join(self._logdir, name)
        self._file = open(self.path, "wb")
        self._records = self._pb.RecordWriter(self._file)
        self._closed = False
        self._write(self._pb.event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))
        if graph is not None:
            self.add_graph(graph)

    def get_logdir(self) -> str:
        return self._logdir

    def add_graph(self, graph: Graph, global_step: Optional[int] = None) -> None:
        """Writes ``graph`` (every op, with shapes and dtypes) for TensorBoard's graph tab."""
        if not isinstance(graph, Graph):
            raise TypeError(f"add_graph takes a gn.Graph (for example sess.graph or "
                            f"gn.get_default_graph()), got {graph!r}")
        event = self._pb.event_pb2.Event(wall_time=time.time(),
                                         graph_def=to_graph_def(graph).SerializeToString())
        if global_step is not None:
            event.step = int(global_step)
        self._write(event)

    def add_scalar(self, tag: str, value: Any, step: int) -> None:
        """Adds one point ``(step, value)`` to the curve ``tag`` in TensorBoard's scalars tab.

        Example:
            >>> writer.add_scalar("loss", 0.25, step=10)
        """
        if isinstance(value, Tensor):
            raise TypeError(f"add_scalar needs a number, got symbolic Tensor '{value.name}'; "
                            f"evaluate it with sess.run first")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"add_scalar needs a number for tag {tag!r}, got {value!r}") from None
        summary = self._pb.summary_pb2.Summary(
            value=[self._pb.summary_pb2.Summary.Value(tag=str(tag), simple_value=number)])
        self._write(self._pb.event_pb2.Event(wall_time=time.time(), step=int(step),
                                             summary=summary))

    def add_summary(self, summary: Any, global_step: Optional[int] = None) -> None:
        """Writes a fetched summary (TF 1): the bytes of ``sess.run(gn.summary.merge_all())``
        or of any ``gn.summary.scalar``/``histogram``/``merge``, or a ``Summary`` proto.

        Example:
            >>> merged = gn.summary.merge_all()
            >>> writer.add_summary(sess.run(merged, feed), step)
        """
        if isinstance(summary, Tensor):
            raise TypeError(f"add_summary needs the fetched value of '{summary.name}', not the "
                            f"symbolic Tensor; run it with sess.run first")
        if isinstance(summary, (bytes, np.ndarray)):
            summary = self._pb.summary_pb2.Summary.FromString(
                summary.item() if isinstance(summary, np.ndarray) else summary)
        elif not isinstance(summary, self._pb.summary_pb2.Summary):
            raise TypeError(f"add_summary takes serialized summary bytes or a Summary proto, "
                            f"got {type(summary).__name__}")
        event = self._pb.event_pb2.Event(wall_time=time.time(), summary=summary)
        if global_step is not None:
            event.step = int(global_step)
        self._write(event)

    def flush(self) -> None:
        """Makes everything added so far visible to readers of the file."""
        self._check_open()
        self._records.flush()

    def close(self) -> None:
        """Flushes and closes the event file; closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._records.close()

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<gn.summary.FileWriter {self.path!r} ({state})>"

    def _write(self, event: Any) -> None:
        self._check_open()
        self._records.write(event.SerializeToString())
        self._records.flush()

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"The FileWriter of {self.path!r} is closed")
