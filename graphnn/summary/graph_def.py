"""A gn.Graph as TensorBoard's GraphDef protocol buffer (TensorFlow's format, without TensorFlow).

One NodeDef per op: its name, its op type, its inputs spelled as TensorFlow does
(``"x"`` for output 0, ``"split:1"`` for others, ``"^init"`` for a control input),
and attrs: the op's own static attributes, ``dtype``/``T``, and ``_output_shapes``,
which TensorBoard's graph tab reads to print shapes on edges, and the device
``gn.device`` asked for (TensorBoard can colour nodes by it). The ops of a control-flow
body follow their op, named under it, so TensorBoard draws the body as a nested group.
"""
from __future__ import annotations

import functools
import types
from typing import Any, Optional

import numpy as np

from graphnn.framework.dtypes import DType
from graphnn.framework.graph import Graph, Operation
from graphnn.framework.shapes import TensorShape
from graphnn.ops.func_graph import FuncGraph

INSTALL_HELP = ("gn.summary writes TensorBoard event files with the protocol buffers of the "
                "`tensorboard` package, which is not installed. Install the extra: "
                "pip install graphnn[tensorboard]   (or: pip install tensorboard)")
# Constants up to this many elements carry their values into the GraphDef; larger ones
# only their dtype and shape, so an event file never holds a copy of the weights.
MAX_CONST_ELEMENTS = 1024
_MAX_ATTR_TEXT = 200
_DATA_TYPES = {"float16": "DT_HALF", "bfloat16": "DT_BFLOAT16", "float32": "DT_FLOAT",
               "float64": "DT_DOUBLE", "int8": "DT_INT8", "int16": "DT_INT16",
               "int32": "DT_INT32", "int64": "DT_INT64", "uint8": "DT_UINT8", "bool": "DT_BOOL",
               "string": "DT_STRING"}


@functools.cache
def tensorboard_modules() -> types.SimpleNamespace:
    """TensorBoard's protobuf modules and record writer, imported on first use.

    ``tensorboard`` is an optional extra, so it is imported here, when a summary is
    first written, and not when graphnn is imported: ``import graphnn`` stays fast and
    works without it.

    Raises:
        ImportError: ``tensorboard`` is missing, saying how to install it.
    """
    try:
        from tensorboard.compat.proto import (attr_value_pb2, event_pb2, graph_pb2,
                                              node_def_pb2, summary_pb2, tensor_pb2,
                                              tensor_shape_pb2, types_pb2, versions_pb2)
        from tensorboard.summary.writer.record_writer import RecordWriter
    except ImportError as error:
        raise ImportError(INSTALL_HELP) from error
    return types.SimpleNamespace(
        attr_value_pb2=attr_value_pb2, event_pb2=event_pb2, graph_pb2=graph_pb2,
        node_def_pb2=node_def_pb2, summary_pb2=summary_pb2, tensor_pb2=tensor_pb2,
        tensor_shape_pb2=tensor_shape_pb2, types_pb2=types_pb2, versions_pb2=versions_pb2,
        RecordWriter=RecordWriter)


def to_graph_def(graph: Graph) -> Any:
    """TensorBoard's ``GraphDef`` of ``graph``: one NodeDef per op, in creation order.

    Example:
        >>> graph_def = gn.summary.to_graph_def(gn.get_default_graph())
        >>> [node.op for node in graph_def.node][:2]
        ['Placeholder', 'VariableV2']
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"to_graph_def takes a gn.Graph, got {graph!r}")
    pb = tensorboard_modules()
    graph_def = pb.graph_pb2.GraphDef(versions=pb.versions_pb2.VersionDef(producer=1))
    _append_nodes(graph_def, graph, "", {})
    return graph_def


def _tf_input(tensor: Any, prefix: str = "") -> str:
    return prefix + (tensor.op.name if tensor.value_index == 0 else tensor.name)


def _append_nodes(graph_def: Any, graph: Graph, prefix: str, sources: dict) -> None:
    """The nodes of ``graph``, named under ``prefix``; a control-flow body's ops follow its
    op under ``<op>/<attribute>/`` (a nested group in TensorBoard), each stand-in for a
    captured tensor drawn with an edge from that tensor (``sources``)."""
    for op in graph.get_operations():
        node = node_def(op)
        if prefix or op in sources:
            node.name = prefix + op.name
            del node.input[:]
            node.input.extend(_tf_input(t, prefix) for t in op.inputs)
            node.input.extend(f"^{prefix}{control.name}" for control in op.control_inputs)
            node.input.extend(sources.get(op, ()))
        graph_def.node.append(node)
        for key, body in op.attrs.items():
            if isinstance(body, FuncGraph):
                captured = {inner.op: [_tf_input(outer, prefix)]
                            for outer, inner in zip(body.captured, body.captures)}
                _append_nodes(graph_def, body, f"{prefix}{op.name}/{key}/", captured)


def node_def(op: Operation) -> Any:
    """The NodeDef of one op (see the module docstring for what it holds)."""
    pb = tensorboard_modules()
    node = pb.node_def_pb2.NodeDef(name=op.name, op=op.type, device=op.device)
    node.input.extend(t.op.name if t.value_index == 0 else t.name for t in op.inputs)
    node.input.extend("^" + control.name for control in op.control_inputs)
    for key, value in op.attrs.items():
        attr = _attr_value(value)
        if attr is not None:
            node.attr[key].CopyFrom(attr)
    if "dtype" not in op.attrs and "T" not in op.attrs:
        typed = op.inputs or op.outputs
        if typed:
            node.attr["T"].CopyFrom(pb.attr_value_pb2.AttrValue(type=data_type(typed[0].dtype)))
    shapes = pb.attr_value_pb2.AttrValue.ListValue(shape=[shape_proto(t.shape)
                                                          for t in op.outputs])
    node.attr["_output_shapes"].CopyFrom(pb.attr_value_pb2.AttrValue(list=shapes))
    return node


def data_type(dtype: DType) -> int:
    """The ``DataType`` enum value of a graphnn dtype (``float32`` -> ``DT_FLOAT``)."""
    return tensorboard_modules().types_pb2.DataType.Value(_DATA_TYPES[dtype.name])


def shape_proto(shape: TensorShape) -> Any:
    """A ``TensorShapeProto``: unknown dimensions are -1, an unknown rank is ``unknown_rank``."""
    pb = tensorboard_modules().tensor_shape_pb2
    if shape.dims is None:
        return pb.TensorShapeProto(unknown_rank=True)
    return pb.TensorShapeProto(dim=[pb.TensorShapeProto.Dim(size=-1 if d is None else d)
                                    for d in shape.dims])


def _tensor_proto(array: np.ndarray) -> Optional[Any]:
    pb = tensorboard_modules()
    dtype_name = array.dtype.name
    if dtype_name not in _DATA_TYPES:
        return None
    proto = pb.tensor_pb2.TensorProto(
        dtype=pb.types_pb2.DataType.Value(_DATA_TYPES[dtype_name]),
        tensor_shape=shape_proto(TensorShape(array.shape)))
    if array.size <= MAX_CONST_ELEMENTS:
        proto.tensor_content = np.ascontiguousarray(array).tobytes()
    return proto


def _attr_value(value: Any) -> Optional[Any]:
    """An AttrValue for a static attribute; None for one TensorBoard cannot show."""
    attr_value = tensorboard_modules().attr_value_pb2.AttrValue
    if isinstance(value, DType):
        return attr_value(type=data_type(value))
    if isinstance(value, TensorShape):
        return attr_value(shape=shape_proto(value))
    if isinstance(value, (bool, np.bool_)):
        return attr_value(b=bool(value))
    if isinstance(value, (int, np.integer)):
        return attr_value(i=int(value))
    if isinstance(value, (float, np.floating)):
        return attr_value(f=float(value))
    if isinstance(value, str):
        return attr_value(s=value.encode("utf-8"))
    if isinstance(value, np.ndarray):
        tensor = _tensor_proto(value)
        return None if tensor is None else attr_value(tensor=tensor)
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        return attr_value(list=attr_value.ListValue(i=[int(v) for v in value]))
    if value is None:
        return None
    # Anything else (slice specs, sub-graphs ...) is shown as its short text.
    return attr_value(s=repr(value)[:_MAX_ATTR_TEXT].encode("utf-8"))
