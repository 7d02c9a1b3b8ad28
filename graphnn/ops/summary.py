"""Summary ops: scalars and histograms serialized as TensorBoard ``Summary`` protocol buffers.

A summary op's output is a ``string`` scalar, a host value (``compiler/host.py``): the
device computes the summarized tensor, then the op's ``host`` function serializes it.
The wire format is written here directly (a few fields of ``summary.proto``), so graphs
with summaries need no TensorFlow and no ``tensorboard`` package; ``FileWriter.add_summary``
writes the bytes. Merging is concatenation: protocol buffers merge repeated fields that way.

Tags are cleaned as TF 1 does: characters outside ``[-/\\w.]`` become ``_`` and leading
slashes are dropped (``W1:0/gradient`` -> ``W1_0/gradient``); the tag is the name scope
plus the cleaned name, made unique like an op name.
"""
from __future__ import annotations

import re
import struct
from typing import Any, Optional, Sequence

import numpy as np

from graphnn.errors import InvalidArgumentError
from graphnn.framework import dtypes
from graphnn.framework.graph import GraphKeys, check_name, get_default_graph, graph_of
from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.ops.declare import OpDef, apply, check_dtype, register, require, to_tensor

__all__ = ["clean_tag", "histogram", "merge", "merge_all", "scalar"]

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w.]")


# ----- protocol buffer wire format (summary.proto) -------------------------------------------
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (strings, bytes, sub-messages, packed repeated numbers)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _double(number: int, value: float) -> bytes:
    return _varint(number << 3 | 1) + struct.pack("<d", value)


def _summary_value(tag: str, field: bytes) -> bytes:
    """One ``Summary`` holding one ``Summary.Value`` (tag = 1)."""
    return _field(1, _field(1, tag.encode("utf-8")) + field)


def _histogram_limits() -> np.ndarray:
    """TF's default histogram bucket limits: +-1e-12 * 1.1**k up to 1e20, then +-DBL_MAX."""
    positive = []
    value = 1e-12
    while value < 1e20:
        positive.append(value)
        value *= 1.1
    return np.array([-np.finfo(np.float64).max] + [-v for v in reversed(positive)] + [0.0]
                    + positive + [np.finfo(np.float64).max])


_LIMITS = _histogram_limits()


def _histogram_proto(values: np.ndarray) -> bytes:
    """A ``HistogramProto`` as TF 1 encodes it: each run of empty buckets collapses into
    one entry carrying the run's last limit; at least one entry."""
    values = np.asarray(values, np.float64).reshape(-1)
    if values.size:
        stats = (values.min(), values.max(), float(values.size), values.sum(),
                 float(np.dot(values, values)))
        index = np.minimum(np.searchsorted(_LIMITS, values, side="right"), len(_LIMITS) - 1)
        counts = np.bincount(index, minlength=len(_LIMITS)).astype(np.float64)
        used = counts > 0
        keep = used | np.append(used[1:], True)
        limits, counts = _LIMITS[keep], counts[keep]
    else:
        stats = (0.0, 0.0, 0.0, 0.0, 0.0)
        limits, counts = _LIMITS[-1:], np.zeros(1)
    body = b"".join(_double(i + 1, float(v)) for i, v in enumerate(stats))
    body += _field(6, limits.astype("<f8").tobytes()) + _field(7, counts.astype("<f8").tobytes())
    return body


def _scalar_host(value: np.ndarray, tag: str) -> bytes:
    simple_value = _varint(2 << 3 | 5) + struct.pack("<f", float(value))
    return _summary_value(tag, simple_value)


def _histogram_host(values: np.ndarray, tag: str) -> bytes:
    if not np.all(np.isfinite(values)):
        raise InvalidArgumentError(f"Nan or Inf in summary histogram for: {tag}")
    return _summary_value(tag, _field(5, _histogram_proto(values)))


def _merge_host(*summaries: np.ndarray) -> bytes:
    return b"".join(s.item() if isinstance(s, np.ndarray) else s for s in summaries)


# ----- op declarations ------------------------------------------------------------------------
def _scalar_infer(inputs, tag):
    check_dtype(inputs[0], "numeric")
    require(inputs[0].shape.is_compatible_with([]),
            f"a scalar summary needs a scalar (one value), got shape {inputs[0].shape} for "
            f"'{inputs[0].name}'")
    return [(TensorShape([]), dtypes.string)]


def _histogram_infer(inputs, tag):
    check_dtype(inputs[0], "numeric")
    return [(TensorShape([]), dtypes.string)]


def _merge_infer(inputs):
    for tensor in inputs:
        require(tensor.dtype.is_string, f"merge takes serialized summaries (string tensors), "
                                        f"got '{tensor.name}' of dtype {tensor.dtype}", TypeError)
    return [(TensorShape([]), dtypes.string)]


register(OpDef("ScalarSummary", infer=_scalar_infer, lower=None, host=_scalar_host,
               differentiable=False, stateful=True))
register(OpDef("HistogramSummary", infer=_histogram_infer, lower=None, host=_histogram_host,
               differentiable=False, stateful=True))
register(OpDef("MergeSummary", infer=_merge_infer, lower=None, host=_merge_host,
               differentiable=False, stateful=True))


# ----- public functions -----------------------------------------------------------------------
def clean_tag(name: str) -> str:
    """``name`` as a legal summary tag (TF 1's rule): ``"W1:0"`` -> ``"W1_0"``."""
    return _INVALID_TAG_CHARACTERS.sub("_", str(name)).lstrip("/")


def _summary(op_type: str, name: str, value: Any, collections: Optional[Sequence[str]],
             family: Optional[str]) -> Tensor:
    tensor = to_tensor(value)
    graph = tensor.graph
    tag = clean_tag(name)
    if family:
        tag = f"{clean_tag(family)}/{tag}"
    op_name = tag if _valid_op_name(tag) else op_type
    unique = graph.unique_name(op_name, mark_as_used=False)
    scope = graph.get_name_scope()
    full_tag = unique if op_name == tag else (scope + "/" if scope else "") + tag
    summary = apply(op_type, [tensor], {"tag": full_tag}, name=op_name)
    for key in (GraphKeys.SUMMARIES,) if collections is None else collections:
        graph.add_to_collection(key, summary)
    return summary


def _valid_op_name(name: str) -> bool:
    try:
        for part in name.split("/"):
            check_name(part)
    except ValueError:
        return False
    return bool(name)


def scalar(name: str, tensor: Any, collections: Optional[Sequence[str]] = None,
           family: Optional[str] = None) -> Tensor:
    """A serialized ``Summary`` with one scalar point, tagged ``name`` (TF 1's ``summary.scalar``).

    The op is added to ``collections`` (default ``GraphKeys.SUMMARIES``, which
    ``merge_all`` merges). Fetch it and pass the bytes to ``FileWriter.add_summary``.

    Example:
        >>> loss_summary = gn.summary.scalar("loss", loss)
        >>> writer.add_summary(sess.run(loss_summary, feed), step)
    """
    return _summary("ScalarSummary", name, tensor, collections, family)


def histogram(name: str, values: Any, collections: Optional[Sequence[str]] = None,
              family: Optional[str] = None) -> Tensor:
    """A serialized ``Summary`` with a histogram of ``values`` (TF 1's ``summary.histogram``).

    Example:
        >>> gn.summary.histogram(W.name, W)      # tag "W_0", as TF 1 cleans "W:0"
    """
    return _summary("HistogramSummary", name, values, collections, family)


def merge(inputs: Sequence[Any], collections: Optional[Sequence[str]] = None,
          name: Optional[str] = None) -> Tensor:
    """One serialized ``Summary`` holding every value of the summaries ``inputs``.

    Example:
        >>> merged = gn.summary.merge([loss_summary, weights_summary])
    """
    tensors = [to_tensor(s) for s in inputs]
    if not tensors:
        raise ValueError("summary.merge needs at least one summary")
    merged = apply("MergeSummary", tensors, name=name or "Merge/MergeSummary")
    for key in collections or ():
        graph_of(tensors).add_to_collection(key, merged)
    return merged


def merge_all(key: str = GraphKeys.SUMMARIES, scope: Optional[str] = None,
              name: Optional[str] = None) -> Optional[Tensor]:
    """Merges every summary in the default graph's collection ``key``; None when it is empty.

    ``scope`` keeps only the summaries whose op name starts with it (a regular expression,
    matched at the start, as TF 1).

    Example:
        >>> merged = gn.summary.merge_all()
        >>> summary, _ = sess.run([merged, train_op], feed)
        >>> writer.add_summary(summary, step)
    """
    summaries = get_default_graph().get_collection(key)
    if scope is not None:
        summaries = [s for s in summaries if re.match(scope, s.op.name)]
    if not summaries:
        return None
    return merge(summaries, name=name)
