"""Graph files: a graph as plain, versioned JSON (TensorFlow's GraphDef, readable).

A file holds a format name and version, the graph seed, the ops in creation
order (type, name, tagged attributes, inputs as ``"op:index"``, control inputs,
declared output shapes and dtypes, the user's file:line, gradient provenance, the
device ``gn.device`` asked for when there was one),
the variables (initializer, initial value, trainable flag) and the collections,
one op (variable, collection) per line. ``graph_import`` reads it back, and
``write_graph`` checks with ``graph_import`` that it will before writing.
"""
from __future__ import annotations

import json
import math
import warnings
from typing import Any, Optional

from graphnn.framework.graph import Graph, Operation
from graphnn.framework.tensor import Tensor
from graphnn.io.attrs import encode_attr, encode_shape
from graphnn.io.files import GraphFileError, atomic_write
from graphnn.io.graph_import import BODY_TAG, FORMAT, MAX_FILE_BYTES, VERSION, graph_from_dict
from graphnn.ops.func_graph import FuncGraph
from graphnn.ops.state import VARIABLE_OP, Variable


def write_graph(graph: Graph, path: str) -> str:
    """Writes ``graph`` to ``path`` as JSON (atomically); returns ``path``.

    The file is written only if ``import_graph`` will read it back: the text is
    checked with the importer's own checks first.

    Control-flow bodies (``gn.cond`` branches, loop bodies) are written inside their op.

    Raises:
        TypeError: an op attribute cannot be stored (an arbitrary object).
        GraphFileError (a ValueError): ``import_graph`` would refuse the file (a shape
            or constant beyond its limits, for example); nothing is written.

    Example:
        >>> gn.io.write_graph(gn.get_default_graph(), "model.graph.json")
        >>> graph = gn.io.import_graph("model.graph.json")
    """
    data = _dumps_one_item_per_line(graph_to_dict(graph)).encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        raise GraphFileError(f"Cannot write graph file {path!r}: it would be {len(data)} bytes, "
                             f"beyond the {MAX_FILE_BYTES} that import_graph reads")
    try:
        graph_from_dict(json.loads(data))
    except GraphFileError as error:
        raise GraphFileError(f"Cannot write graph file {path!r}: import_graph would refuse "
                             f"it: {error}") from None
    atomic_write(path, lambda file: file.write(data))
    return path


def _dumps_one_item_per_line(document: dict) -> str:
    """JSON with one op (variable, collection) per line: readable, and diffs stay small."""
    def dumps(value: Any) -> str:
        return json.dumps(value, allow_nan=False, separators=(", ", ": "))

    fields = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            body = ",\n  ".join(dumps(item) for item in value)
            fields.append(f"{dumps(key)}: [\n  {body}\n ]")
        elif isinstance(value, dict) and value:
            body = ",\n  ".join(f"{dumps(k)}: {dumps(v)}" for k, v in value.items())
            fields.append(f"{dumps(key)}: {{\n  {body}\n }}")
        else:
            fields.append(f"{dumps(key)}: {dumps(value)}")
    return "{\n " + ",\n ".join(fields) + "\n}\n"


def graph_to_dict(graph: Graph) -> dict:
    """The JSON document of ``graph`` (what ``write_graph`` writes).

    Raises:
        TypeError: an op attribute cannot be stored (an arbitrary object).
    """
    ops = [_op_to_dict(op) for op in graph.get_operations()]
    variables = [{"name": v.op.name, "initializer": v.initializer.name,
                  "initial_value": v.initial_value.name, "trainable": v.trainable}
                 for v in _variables_of(graph)]
    return {"format": FORMAT, "version": VERSION, "seed": graph.seed, "ops": ops,
            "variables": variables, "collections": _collections_to_dict(graph)}


def _variables_of(graph: Graph) -> list[Variable]:
    return [op.outputs[0] for op in graph.get_operations()
            if op.type == VARIABLE_OP and isinstance(op.outputs[0], Variable)]


def _op_to_dict(op: Operation) -> dict:
    attrs = {}
    for key, value in op.attrs.items():
        attrs[key] = {BODY_TAG: _body_to_dict(value)} if isinstance(value, FuncGraph) else \
            encode_attr(value, f"op '{op.name}' ({op.type}) attribute {key!r}")
    return {"name": op.name, "type": op.type,
            "inputs": [t.name for t in op.inputs],
            "control_inputs": [c.name for c in op.control_inputs],
            "attrs": attrs,
            "outputs": [{"shape": encode_shape(t.shape), "dtype": t.dtype.name}
                        for t in op.outputs],
            "location": [str(op.location[0]), int(op.location[1])],
            "gradient_of": None if op.gradient_of is None else op.gradient_of.name,
            **({"device": op.device} if op.device else {})}


def _body_to_dict(body: FuncGraph) -> dict:
    """A control-flow body: its ops (as the graph's), and its inputs, captured tensors of the
    enclosing graph with their stand-ins, outputs and written variables, by name."""
    return {"name": body.name, "ops": [_op_to_dict(op) for op in body.get_operations()],
            "inputs": [t.name for t in body.inputs],
            "captured": [t.name for t in body.captured],
            "captures": [t.name for t in body.captures],
            "outputs": [t.name for t in body.outputs],
            "written": [t.name for t in body.written]}


def _collections_to_dict(graph: Graph) -> dict:
    result = {}
    for key in graph.get_all_collection_keys():
        items = [_collection_item(item) for item in graph.get_collection(key)]
        if isinstance(key, str) and all(item is not None for item in items):
            result[key] = items
        else:
            # As TF 1's export_meta_graph: a collection of other objects is left out, loudly.
            warnings.warn(f"Collection {key!r} is not written to the graph file: graph files "
                          f"hold collections of Variables, Tensors, Operations and JSON "
                          f"scalars only", stacklevel=3)
    return result


def _collection_item(item: Any) -> Optional[dict]:
    if isinstance(item, Variable):
        return {"variable": item.op.name}
    if isinstance(item, Tensor):
        return {"tensor": item.name}
    if isinstance(item, Operation):
        return {"op": item.name}
    if item is None or isinstance(item, (bool, int, str)) or (
            isinstance(item, float) and math.isfinite(item)):
        return {"value": item}
    return None
