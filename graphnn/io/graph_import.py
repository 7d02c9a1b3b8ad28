"""Reading graph files (see ``graph_file``): validate everything, then re-create each op.

Importing re-creates every op through ``Graph.create_op`` in a fresh graph, so
shape and dtype inference and the naming rule check the file; creation order
(hence op ids, hence the random streams of unseeded random ops) and names come
out identical, and a graph built in one process runs in another with the same
results. Nothing in a file is executed: it is JSON decoded into a fixed set of
value kinds. ``write_graph`` runs the same checks before it writes, so a file it
writes always reads back.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
from typing import Any, Optional

import networkx as nx

from graphnn.errors import NotFoundError
from graphnn.framework.graph import Graph, Operation, check_name
from graphnn.framework.registry import OP_TABLE
from graphnn.framework.tensor import Tensor
from graphnn.io.attrs import (check_attr_kinds, check_shape_size, decode_attr, decode_dtype,
                              decode_shape)
from graphnn.io.files import GraphFileError, read_bounded
from graphnn.ops.func_graph import FuncGraph
from graphnn.ops.state import CONST_OP, VARIABLE_OP, Variable

FORMAT = "graphnn.graph"
VERSION = 1
MAX_FILE_BYTES = 2 ** 31

_DOCUMENT_KEYS = {"format", "version", "seed", "ops", "variables", "collections"}
_OP_KEYS = {"name", "type", "inputs", "control_inputs", "attrs", "outputs", "location", "device",
            "gradient_of"}
_VARIABLE_KEYS = {"name", "initializer", "initial_value", "trainable"}
_COLLECTION_KINDS = {"variable", "tensor", "op", "value"}
BODY_TAG = "$graph"  # an attribute holding a control-flow body (a FuncGraph)
_BODY_KEYS = {"name", "ops", "inputs", "captured", "captures", "outputs", "written"}
MAX_BODY_DEPTH = 16  # bodies nested in bodies


@dataclasses.dataclass
class _BodyRecord:
    """A control-flow body read from a file, built when its op is (it reads that graph)."""

    name: str
    records: list
    names: dict  # "inputs", "captured", ... -> tensor names


def import_graph(path: str) -> Graph:
    """Reads a graph file written by ``write_graph`` into a NEW ``gn.Graph``.

    The new graph has the same op names, variables (as ``gn.Variable`` objects)
    and collections, so ``gn.train.Saver()`` built in it restores checkpoints of
    the original. Loading never executes code from the file.

    Raises:
        GraphFileError (a ValueError): the file is truncated, corrupt, from another
            format version, or describes an invalid graph; the message says what.

    Example:
        >>> graph = gn.io.import_graph("model.graph.json")
        >>> with graph.as_default():
        ...     saver = gn.train.Saver()
    """
    data = read_bounded(path, MAX_FILE_BYTES, "Graph file")
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_reject_constant,
                              object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise GraphFileError(f"Graph file {path!r} is not valid JSON (truncated or "
                             f"corrupt?): {error}") from None
    try:
        return graph_from_dict(document)
    except GraphFileError as error:
        raise GraphFileError(f"Graph file {path!r}: {error}") from error


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _unique_keys(pairs: list) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        keys = [key for key, _ in pairs]
        duplicate = next(key for key in keys if keys.count(key) > 1)
        raise ValueError(f"duplicate key {duplicate!r} in a JSON object")
    return result


@dataclasses.dataclass
class _OpRecord:
    name: str
    type: str
    inputs: list          # [(op name, output index)]
    control_inputs: list  # [op name]
    attrs: dict
    outputs: Optional[list]  # [(TensorShape, DType)], None when the file does not say
    location: tuple
    gradient_of: Optional[str]
    device: str = ""

    def references(self) -> list[str]:
        names = [name for name, _ in self.inputs] + self.control_inputs
        return names + ([self.gradient_of] if self.gradient_of is not None else [])


def graph_from_dict(document: Any) -> Graph:
    """A new Graph from a document of ``graph_to_dict`` (see ``import_graph``)."""
    _check_header(document)
    records = [_parse_op(raw, position) for position, raw in enumerate(document["ops"])]
    _check_references(records)
    variables = _parse_variables(document["variables"], {r.name: r for r in records})
    graph = Graph()
    graph.seed = document["seed"]
    with graph.as_default(), graph.name_scope(None):
        created: dict[str, Operation] = {}
        for record in records:
            created[record.name] = _create_op(graph, record, variables.get(record.name))
        _attach_initializers(created, variables)
        _restore_collections(graph, created, document["collections"])
    _mark_name_scopes(graph)
    return graph


def _check_header(document: Any) -> None:
    if not isinstance(document, dict):
        raise GraphFileError(f"expected a JSON object with keys {sorted(_DOCUMENT_KEYS)}")
    if document.get("format") != FORMAT:
        raise GraphFileError(f"not a graphnn graph file: format is "
                             f"{document.get('format')!r}, expected {FORMAT!r}")
    version = document.get("version")
    if not _is_int(version) or version < 1:
        raise GraphFileError(f"invalid format version {version!r}")
    if version > VERSION:
        raise GraphFileError(f"format version {version} was written by a newer graphnn; this "
                             f"one reads versions up to {VERSION}")
    _check_keys(document, _DOCUMENT_KEYS, _DOCUMENT_KEYS, "the document")
    seed = document["seed"]
    if seed is not None and not _is_int(seed):
        raise GraphFileError(f"the graph seed must be an int or null, got {seed!r}")
    for key, kind in (("ops", list), ("variables", list), ("collections", dict)):
        if not isinstance(document[key], kind):
            raise GraphFileError(f"{key!r} must be a JSON {'array' if kind is list else 'object'}")


def _parse_op(raw: Any, position: int, depth: int = 0) -> _OpRecord:
    where = f"op #{position}"
    if not isinstance(raw, dict):
        raise GraphFileError(f"{where} must be a JSON object, got {type(raw).__name__}")
    _check_keys(raw, _OP_KEYS, {"name", "type", "inputs"}, where)
    name, op_type = raw["name"], raw["type"]
    if not isinstance(name, str) or not name:
        raise GraphFileError(f"{where}: the name must be a non-empty string, got {name!r}")
    try:
        # Full names: their first part may be a scope, so it may start with "_".
        check_name(name, in_scope=True)
    except ValueError as error:
        raise GraphFileError(f"{where}: {error}") from None
    where = f"op '{name}'"
    if not isinstance(op_type, str) or op_type not in OP_TABLE:
        raise GraphFileError(f"{where} has unknown op type {op_type!r} (not registered in this "
                             f"graphnn)")
    where = f"op '{name}' ({op_type})"
    inputs = [_parse_tensor_name(ref, where) for ref in _string_list(raw, "inputs", where)]
    control_inputs = _string_list(raw, "control_inputs", where)
    attrs = raw.get("attrs", {})
    if not isinstance(attrs, dict):
        raise GraphFileError(f"{where}: 'attrs' must be a JSON object")
    attrs = {key: _parse_body(value, f"{where} attribute {key!r}", depth)
             if isinstance(value, dict) and set(value) == {BODY_TAG}
             else decode_attr(value, f"{where} attribute {key!r}") for key, value in attrs.items()}
    _check_attrs(op_type, {k: v for k, v in attrs.items() if not isinstance(v, _BodyRecord)},
                 where)
    gradient_of = raw.get("gradient_of")
    if gradient_of is not None and not isinstance(gradient_of, str):
        raise GraphFileError(f"{where}: 'gradient_of' must be an op name or null")
    device = raw.get("device", "")
    if not isinstance(device, str):
        raise GraphFileError(f"{where}: 'device' must be a device string, got {device!r}")
    return _OpRecord(name, op_type, inputs, control_inputs, attrs,
                     _parse_outputs(raw.get("outputs"), where),
                     _parse_location(raw.get("location"), where), gradient_of, device)


def _parse_body(raw: Any, where: str, depth: int) -> _BodyRecord:
    body = raw[BODY_TAG]
    if depth >= MAX_BODY_DEPTH:
        raise GraphFileError(f"{where}: bodies nested deeper than {MAX_BODY_DEPTH} levels")
    if not isinstance(body, dict) or set(body) != _BODY_KEYS:
        raise GraphFileError(f"{where}: a body is an object with keys {sorted(_BODY_KEYS)}")
    if not isinstance(body["name"], str) or not isinstance(body["ops"], list):
        raise GraphFileError(f"{where}: a body's 'name' is a string and 'ops' an array")
    records = [_parse_op(op, position, depth + 1) for position, op in enumerate(body["ops"])]
    _check_references(records)
    names = {key: _string_list(body, key, where) for key in sorted(_BODY_KEYS - {"name", "ops"})}
    return _BodyRecord(body["name"], records, names)


def _build_body(outer: Graph, record: _BodyRecord, where: str) -> FuncGraph:
    """Re-creates a body's ops in a FuncGraph nested in ``outer``."""
    body = FuncGraph(record.name, outer)
    with body.as_default(), body.name_scope(None):
        for op in record.records:
            _create_op(body, op, None)
    try:
        tensors = {key: [(outer if key == "captured" else body).get_tensor_by_name(name)
                         for name in names] for key, names in record.names.items()}
    except (ValueError, NotFoundError) as error:
        raise GraphFileError(f"{where}: {error}") from None
    body.inputs, body.captured, body.captures = (tensors["inputs"], tensors["captured"],
                                                 tensors["captures"])
    body.outputs, body.written = tensors["outputs"], tensors["written"]
    return body


def _check_attrs(op_type: str, attrs: dict, where: str) -> None:
    check_attr_kinds(attrs, where)
    if op_type == CONST_OP and attrs.get("value") is not None and "dtype" in attrs:
        if attrs["value"].dtype != attrs["dtype"].as_numpy_dtype:
            raise GraphFileError(f"{where}: the value's dtype {attrs['value'].dtype} differs from "
                                 f"the dtype attribute {attrs['dtype']}")
    if "of" in attrs:  # VJP: the op type it differentiates and that op's attributes
        if attrs["of"] not in OP_TABLE:
            raise GraphFileError(f"{where}: attribute 'of' names unknown op type {attrs['of']!r}")
        _check_attrs(attrs["of"], attrs.get("of_attrs", {}), f"{where} (of_attrs)")


def _parse_tensor_name(ref: str, where: str) -> tuple[str, int]:
    op_name, _, index = ref.rpartition(":")
    if not op_name or not index.isdigit() or len(index) > 6:
        raise GraphFileError(f"{where}: input {ref!r} is not a tensor name '<op>:<index>'")
    return op_name, int(index)


def _parse_outputs(raw: Any, where: str) -> Optional[list]:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise GraphFileError(f"{where}: 'outputs' must be a JSON array")
    outputs = []
    for index, spec in enumerate(raw):
        if not isinstance(spec, dict) or set(spec) != {"shape", "dtype"}:
            raise GraphFileError(f"{where}: output {index} must be an object with keys 'shape' "
                                 f"and 'dtype'")
        outputs.append((decode_shape(spec["shape"], f"{where} output {index}"),
                        decode_dtype(spec["dtype"], f"{where} output {index}")))
    return outputs


def _parse_location(raw: Any, where: str) -> tuple:
    if raw is None:
        return ("<graph file>", 0)
    if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], str)
            and _is_int(raw[1])):
        raise GraphFileError(f"{where}: 'location' must be [file, line], got {raw!r}")
    return (raw[0], raw[1])


def _check_references(records: list[_OpRecord]) -> None:
    """Duplicate names, dangling references, cycles and creation order, in that order."""
    position: dict[str, int] = {}
    folded: dict[str, str] = {}
    for index, record in enumerate(records):
        if record.name in position:
            raise GraphFileError(f"two ops are named '{record.name}'")
        other = folded.setdefault(record.name.lower(), record.name)
        if other != record.name:
            raise GraphFileError(f"ops '{other}' and '{record.name}' have names that are equal "
                                 f"ignoring case (op names are unique ignoring case)")
        position[record.name] = index
    dependencies = nx.DiGraph()
    dependencies.add_nodes_from(position)
    for record in records:
        for name in record.references():
            if name not in position:
                raise GraphFileError(f"op '{record.name}' refers to op '{name}', which is not "
                                     f"in the file (dangling input)")
            dependencies.add_edge(name, record.name)
    if not nx.is_directed_acyclic_graph(dependencies):
        cycle = [edge[0] for edge in nx.find_cycle(dependencies)]
        path = " -> ".join(f"'{name}'" for name in cycle + cycle[:1])
        raise GraphFileError(f"the ops form a cycle: {path}")
    for record in records:
        for name in record.references():
            if position[name] > position[record.name]:
                raise GraphFileError(f"op '{record.name}' refers to op '{name}', which comes "
                                     f"later in the file; ops must be in creation order")


def _parse_variables(raw: list, records: dict[str, _OpRecord]) -> dict[str, dict]:
    variables = {}
    for index, entry in enumerate(raw):
        where = f"variable #{index}"
        if not isinstance(entry, dict):
            raise GraphFileError(f"{where} must be a JSON object")
        _check_keys(entry, _VARIABLE_KEYS, _VARIABLE_KEYS, where)
        name = entry["name"]
        record = records.get(name) if isinstance(name, str) else None
        if record is None or record.type != VARIABLE_OP:
            raise GraphFileError(f"{where} names {name!r}, which is not a {VARIABLE_OP} op of "
                                 f"the file")
        if name in variables:
            raise GraphFileError(f"variable '{name}' is listed twice")
        initializer = entry["initializer"]
        initializer = records.get(initializer) if isinstance(initializer, str) else None
        expected_inputs = [(name, 0), _parse_tensor_name(str(entry["initial_value"]), where)]
        if initializer is None or initializer.type != "Assign" or \
                initializer.inputs != expected_inputs:
            raise GraphFileError(f"variable '{name}': the initializer must be an Assign op of "
                                 f"the variable and its initial value, got initializer "
                                 f"{entry['initializer']!r} and initial value "
                                 f"{entry['initial_value']!r}")
        if not isinstance(entry["trainable"], bool):
            raise GraphFileError(f"variable '{name}': 'trainable' must be true or false")
        variables[name] = entry
    return variables


def _create_op(graph: Graph, record: _OpRecord, variable: Optional[dict]) -> Operation:
    where = f"op '{record.name}' ({record.type})"
    inputs = [_output_of(graph.get_operation_by_name(name), index, where)
              for name, index in record.inputs]
    controls = [graph.get_operation_by_name(name) for name in record.control_inputs]
    provenance = (graph.gradient_provenance(graph.get_operation_by_name(record.gradient_of))
                  if record.gradient_of is not None else contextlib.nullcontext())
    try:
        with provenance:
            # A name ending in "/" is taken exactly (it was checked and is unique).
            attrs = {key: _build_body(graph, value, f"{where} attribute {key!r}")
                     if isinstance(value, _BodyRecord) else value
                     for key, value in record.attrs.items()}
            op = graph.create_op(record.type, inputs, attrs, name=record.name + "/",
                                 control_inputs=controls)
    except Exception as error:  # noqa: BLE001 -- whatever inference rejects is a bad file
        raise GraphFileError(f"{where} cannot be re-created: {error}") from error
    op.location = record.location
    op.device = record.device
    _check_outputs(op, record.outputs, where)
    if variable is not None:
        Variable._from_graph(op, variable["trainable"])
    return op


def _output_of(op: Operation, index: int, where: str) -> Tensor:
    if index >= len(op.outputs):
        raise GraphFileError(f"{where}: input '{op.name}:{index}' does not exist; op "
                             f"'{op.name}' has {len(op.outputs)} outputs")
    return op.outputs[index]


def _check_outputs(op: Operation, declared: Optional[list], where: str) -> None:
    """Declared outputs must agree with inference; they may refine it (``set_shape``)."""
    if declared is not None:
        if len(declared) != len(op.outputs):
            raise GraphFileError(f"{where} declares {len(declared)} outputs, but its inputs "
                                 f"and attributes give {len(op.outputs)}")
        for index, (tensor, (shape, dtype)) in enumerate(zip(op.outputs, declared)):
            if tensor.dtype != dtype or not tensor.shape.is_compatible_with(shape):
                raise GraphFileError(f"{where} declares output {index} as {dtype.name}{shape}, "
                                     f"but its inputs and attributes give "
                                     f"{tensor.dtype.name}{tensor.shape}")
            tensor.set_shape(shape)
    for index, tensor in enumerate(op.outputs):
        check_shape_size(tensor.shape, f"{where} output {index}")


def _attach_initializers(created: dict[str, Operation], variables: dict[str, dict]) -> None:
    for name, entry in variables.items():
        variable = created[name].outputs[0]
        variable.initializer = created[entry["initializer"]]
        variable.initial_value = variable.initializer.inputs[1]


def _restore_collections(graph: Graph, created: dict[str, Operation], raw: dict) -> None:
    for key, items in raw.items():
        if not isinstance(items, list):
            raise GraphFileError(f"collection {key!r} must be a JSON array")
        for item in items:
            graph.add_to_collection(key, _collection_value(graph, created, key, item))


def _collection_value(graph: Graph, created: dict[str, Operation], key: str, item: Any) -> Any:
    where = f"collection {key!r}"
    if not isinstance(item, dict) or len(item) != 1 or next(iter(item)) not in _COLLECTION_KINDS:
        raise GraphFileError(f"{where}: an item is an object with one key among "
                             f"{sorted(_COLLECTION_KINDS)}, got {item!r}")
    (kind, value), = item.items()
    if kind == "value":
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise GraphFileError(f"{where}: a value item must be a JSON scalar")
        return value
    if not isinstance(value, str):
        raise GraphFileError(f"{where}: a {kind} item must be a name, got {value!r}")
    if kind == "tensor":
        op_name, index = _parse_tensor_name(value, where)
        if op_name not in created:
            raise GraphFileError(f"{where} refers to missing tensor {value!r}")
        return _output_of(created[op_name], index, where)
    if value not in created:
        raise GraphFileError(f"{where} refers to missing op {value!r}")
    op = created[value]
    if kind == "variable":
        if not op.outputs or not isinstance(op.outputs[0], Variable):
            raise GraphFileError(f"{where} lists '{value}' as a variable, but the file's "
                                 f"variables do not include it")
        return op.outputs[0]
    return op


def _mark_name_scopes(graph: Graph) -> None:
    """Marks the scopes of imported names as used, as building the original did, so that
    ``name_scope("dense")`` in the imported graph gives "dense_1" just as it would there."""
    for op in graph.get_operations():
        parts = op.name.split("/")
        for end in range(1, len(parts)):
            scope = "/".join(parts[:end])
            if graph.unique_name(scope, mark_as_used=False) == scope:
                graph.unique_name(scope)


def _check_keys(raw: dict, allowed: set, required: set, where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    missing = sorted(required - set(raw))
    if unknown or missing:
        problems = ([f"unknown keys {unknown}"] if unknown else []) + (
            [f"missing keys {missing}"] if missing else [])
        raise GraphFileError(f"{where} has {' and '.join(problems)}")


def _string_list(raw: dict, key: str, where: str) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise GraphFileError(f"{where}: {key!r} must be a JSON array of names")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
