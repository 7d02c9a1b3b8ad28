"""Graph and Operation: the define-then-run IR.

A Graph owns Operations in creation order. Ops are only ever added to a user's
graph (``create_op``), so there creation order is a valid topological order: an
op's inputs and control inputs exist before it. The compiler edits its private
copies (``replace_uses``, ``remove_ops``): there a consumer may read an op created
after it, so code that needs a dependency order over a copy sorts the ops itself
(``Graph.in_creation_order`` says whether creation order still is one).

Each op gets an id (``Operation._id``) from a counter that only grows, never
reused after ``remove_ops``: sorting by id is creation order and deterministic,
and an unseeded random op uses its id as its op-level seed (TensorFlow 1's rule,
``Graph._last_id``). ``Graph.version`` likewise only grows: it counts every change
(op added, uses replaced, ops removed), while ``num_ops`` is the current size.

An op's type, name, attributes and outputs never change; its ``attrs`` may hold
any value, including another Graph, so control-flow ops can carry sub-graphs (as
TF's FuncGraph). Such a body graph has an ``outer_graph``; an op built in it that
reads a tensor of an outer graph ``capture``s it (``graphnn.ops.func_graph``), and
ops created while it is the default graph go into it, whatever graph their inputs
belong to. Its inputs change only through ``replace_uses`` on a compiler's
copy; importers and copiers set ``location`` and ``gradient_of`` right after
creating an op.

Names follow TensorFlow's rule (``names.check_name``). ``Operation`` is defined in
``framework/operation.py`` and the contexts of ``name_scope`` and ``gradient_provenance``
in ``framework/scopes.py``; both are importable from here.

Running graph-building code again adds new ops beside the old ones (``x`` then
``x_1``), as in TensorFlow 1. When code that builds ops (the innermost frame outside
graphnn) is a new code object equal to one that already built ops in the same graph,
the same source was compiled and run again (a notebook cell re-run, a reloaded
module), so the graph now holds two copies of what it built: ``create_op`` warns,
once per graph and file, and says how to start afresh. A loop, or a function called
twice, reuses its code object and never warns.
"""
from __future__ import annotations

import contextlib
import threading
import warnings
from types import CodeType
from typing import Any, Iterable, Iterator, Optional, Sequence

import numpy as np

from graphnn.errors import DTypeError, NotFoundError, ShapeError
from graphnn.framework import nx_export, registry, values
from graphnn.framework.dtypes import DType, as_dtype
from graphnn.framework.location import user_code_location
from graphnn.framework.names import check_name, check_seed
from graphnn.framework.operation import Operation
from graphnn.framework.scopes import GradientProvenance, KnownUserCode, NameScope
from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor

CONST_OP = "Const"  # the one op type the framework itself creates (``Graph.constant``)

class GraphKeys:
    """Standard collection names (TF 1)."""

    GLOBAL_VARIABLES = "variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    TRAIN_OP = "train_op"
    SUMMARIES = "summaries"
    UPDATE_OPS = "update_ops"
    REGULARIZATION_LOSSES = "regularization_losses"


class Graph:
    """A dataflow graph: Operations, name scopes, control dependencies, collections.

    Example:
        >>> g = gn.Graph()
        >>> with g.as_default():
        ...     c = gn.constant(1.0, name="c")
        >>> g.get_tensor_by_name("c:0") is c
        True
    """

    def __init__(self) -> None:
        self._ops: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._name_stack = ""
        self._control_stack: list[list[Operation]] = []
        self._gradient_of_stack: list[Operation] = []
        # Where the user's code is, per thread (see user_code_known): another thread's
        # gn.gradients must not decide where this thread's ops were created.
        self._user_code = threading.local()
        self._collections: dict[str, list] = {}
        self._consumers: dict[Tensor, list[Operation]] = {}
        self._seed: Optional[int] = None
        self.device_scope = ""  # set by gn.device (framework/devices.py)
        self._next_id = 0
        self._version = 0
        self._in_creation_order = True
        # A control-flow body (a branch of gn.cond, a loop body) is a Graph of its own
        # nested in the graph it is built in; its ops may read that graph's tensors.
        self.outer_graph: Optional[Graph] = None
        # Re-run detection (module docstring): code objects compare by value, so _builders
        # ((file, code) -> first op built) finds a recompiled cell; _builder_ids keeps every
        # builder by identity (a fast path, and no id is reused).
        self._builders: dict[tuple[str, CodeType], str] = {}
        self._builder_ids: dict[int, CodeType] = {}
        self._rerun_files_warned: set[str] = set()

    @property
    def seed(self) -> Optional[int]:
        """The graph-level random seed (``gn.set_random_seed``), an int in [0, 2**32 - 1] or None."""
        return self._seed

    @seed.setter
    def seed(self, value: Any) -> None:
        self._seed = check_seed(value, "The graph seed")

    # ----- contexts ---------------------------------------------------------
    @contextlib.contextmanager
    def as_default(self) -> Iterator[Graph]:
        """Makes this graph the default graph inside a ``with`` block."""
        _graph_stack.append(self)
        try:
            yield self
        finally:
            _graph_stack.remove(self)

    def name_scope(self, name: Optional[str]) -> NameScope:
        """Prefixes the names of ops created inside with ``name/`` (made unique, as TF 1).

        A name ending in "/" re-enters that exact scope; None or "" the root scope. The
        ``with`` statement gives the scope's prefix (``"name/"``, "" for the root).

        Raises:
            ValueError: ``name`` breaks the naming rule (see ``check_name``), on entering.
        """
        return NameScope(self, name)

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs: Optional[Iterable]) -> Iterator[None]:
        """Ops created inside run after ``control_inputs`` (None clears outer ones)."""
        if control_inputs is None:
            saved, self._control_stack = self._control_stack, []
            try:
                yield
            finally:
                self._control_stack = saved
            return
        ops = [self._as_control_op(c) for c in control_inputs]
        self._control_stack.append(ops)
        try:
            yield
        finally:
            self._control_stack.pop()

    def gradient_provenance(self, forward_op: Operation) -> GradientProvenance:
        """Ops created inside record ``forward_op`` as the op whose gradient they compute."""
        return GradientProvenance(self._gradient_of_stack, forward_op)

    def user_code_known(self, where: Optional[tuple]) -> KnownUserCode:
        """Ops created inside without a ``location`` take ``where``, an answer of
        ``user_code_location()``, instead of walking the stack for it (None: they walk).

        For graphnn code that creates many ops and knows that every frame between it and
        its user's is graphnn's own, so the walk would give ``where`` again: ``gn.gradients``
        around the rules declared in graphnn (a rule of the user's own is walked from).
        Per thread: ops another thread creates meanwhile walk as usual.
        """
        return KnownUserCode(self, where)

    def _as_control_op(self, value: Any) -> Operation:
        if isinstance(value, Tensor):
            value = value.op
        if not isinstance(value, Operation):
            raise TypeError(f"Control dependencies must be Operations or Tensors, got {value!r}")
        if value.graph is not self:
            raise ValueError(f"Control input '{value.name}' belongs to a different graph")
        return value

    # ----- names ------------------------------------------------------------
    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """``scope/name``, with ``_1``, ``_2`` ... appended when already taken (TF 1 rule)."""
        if self._name_stack:
            name = f"{self._name_stack}/{name}"
        key = name.lower()
        count = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = count + 1
        if count == 0:
            return name
        base_key, base = key, name
        while key in self._names_in_use:
            key = f"{base_key}_{count}"
            count += 1
        if mark_as_used:
            self._names_in_use[key] = 1
        return f"{base}_{count - 1}"

    def get_name_scope(self) -> str:
        return self._name_stack

    # ----- building ---------------------------------------------------------
    def create_op(self, op_type: str, inputs: Sequence[Tensor], attrs: Optional[dict] = None,
                  name: Optional[str] = None, control_inputs: Sequence[Operation] = (),
                  location: Optional[tuple[str, int]] = None,
                  output_specs: Optional[Sequence[tuple]] = None) -> Operation:
        """Adds an op of a registered type; infers its output shapes and dtypes.

        ``name`` is made unique under the current name scope; a name ending in "/"
        (a scope's name, TF 1's convention) is taken exactly. ``output_specs``, the
        (shape, dtype) of each output, skips inference: for a copy of an op whose
        inputs have the shapes and dtypes they had when it was inferred.

        Raises:
            ValueError: an invalid name (see ``check_name``), or an exact name in use.
            ShapeError / DTypeError: incompatible inputs, naming the op, the
                input shapes and the user's file:line.
        """
        opdef = registry.lookup(op_type)
        attrs = dict(attrs) if attrs else {}
        foreign = False
        for tensor in inputs:
            if not isinstance(tensor, Tensor):
                raise TypeError(f"Inputs of {op_type} must be Tensors, got {tensor!r}")
            foreign = foreign or tensor.op.graph is not self
        inputs = tuple([t if t.op.graph is self else self.capture(t, op_type) for t in inputs]
                       if foreign else inputs)
        exact = bool(name) and name.endswith("/")
        if exact:
            # A scope name (TF 1 convention): the op takes exactly that name.
            full_name = name[:-1]
            check_name(full_name, scope=True)
            if full_name in self._ops:
                raise ValueError(f"An operation named '{full_name}' already exists")
        else:
            requested = name or op_type
            check_name(requested, in_scope=bool(self._name_stack))
        code = None
        if location is None:
            known = getattr(self._user_code, "where", None)
            location, code = known if known is not None else user_code_location()
        try:
            specs = opdef.infer(inputs, **attrs) if output_specs is None else output_specs
        except (ValueError, TypeError, IndexError) as error:
            shapes = ", ".join(str(t.shape) for t in inputs)
            kind = DTypeError if isinstance(error, TypeError) else ShapeError
            context = (f", in the gradient of {self._gradient_of_stack[-1].describe()}"
                       if self._gradient_of_stack else "")
            shown = full_name if exact else self.unique_name(requested, mark_as_used=False)
            raise kind(f"{error} for '{shown}' (op: {op_type}) with input shapes: [{shapes}]; "
                       f"created at {location[0]}:{location[1]}{context}") from None
        if exact:
            # Taken from now on, so a later op asking for this name gets a suffix.
            self._names_in_use.setdefault(full_name.lower(), 1)
        else:
            full_name = self.unique_name(requested)
        if self._control_stack or control_inputs:
            controls = [c for group in self._control_stack for c in group] + list(control_inputs)
            controls = tuple(dict.fromkeys(controls))
        else:
            controls = ()
        op = Operation(self, op_type, full_name, inputs, controls, attrs,
                       location, self._next_id,
                       self._gradient_of_stack[-1] if self._gradient_of_stack else None)
        self._next_id += 1
        self._version += 1
        outputs = []
        for shape, dtype in specs:
            # A TensorShape never changes once made, so an inferred one is shared, not copied.
            outputs.append(Tensor(op, len(outputs),
                                  shape if type(shape) is TensorShape else TensorShape(shape),
                                  dtype if type(dtype) is DType else as_dtype(dtype)))
        op.outputs = tuple(outputs)
        self._add(op)
        if code is not None and id(code) not in self._builder_ids:
            self._warn_if_rerun(op, code)
        return op

    def copy_op(self, op: Operation, inputs: tuple, control_inputs: tuple = ()) -> Operation:
        """Adds a copy of ``op``, an op of another graph, reading ``inputs`` (Tensors of this
        graph of the shapes and dtypes ``op``'s inputs had): its type, attributes, location,
        gradient provenance and outputs' shapes and dtypes, under its name made unique as
        ``create_op`` makes it (the same name when free).

        For compilers' copies of a graph: ``op`` passed ``create_op``'s checks when it was
        made, so neither its name nor its inputs are checked or inferred again (the work
        ``create_op`` does per op is most of what copying a large graph costs).
        """
        if self._control_stack:
            controls = [c for group in self._control_stack for c in group] + list(control_inputs)
            control_inputs = tuple(dict.fromkeys(controls))
        copy = Operation(self, op.type, self.unique_name(op.name), inputs, control_inputs,
                         dict(op.attrs), op.location, self._next_id, op.gradient_of)
        self._next_id += 1
        self._version += 1
        copy.outputs = tuple([Tensor(copy, t.value_index, t._shape, t._dtype)
                              for t in op.outputs])
        self._add(copy)
        return copy

    def _add(self, op: Operation) -> None:
        """Records a new op under its name and as a consumer of its inputs."""
        self._ops[op.name] = op
        consumers = self._consumers
        for tensor in op.inputs:
            users = consumers.get(tensor)
            if users is None:
                consumers[tensor] = [op]
            else:
                users.append(op)

    def capture(self, tensor: Tensor, op_type: str) -> Tensor:
        """The tensor of this graph standing for ``tensor`` of another graph, which an op of
        type ``op_type`` reads. Only control-flow bodies capture (``FuncGraph``); here it is
        an error."""
        raise ValueError(f"Tensor '{tensor.name}' belongs to a different graph than the "
                         f"{op_type} op being created from it")

    def is_within(self, other: Graph) -> bool:
        """Whether this graph is ``other`` or a control-flow body nested in it."""
        graph: Optional[Graph] = self
        while graph is not None:
            if graph is other:
                return True
            graph = graph.outer_graph
        return False

    def graph_for_ops_on(self, *others: Graph) -> Optional[Graph]:
        """Where an op reading tensors of this graph and ``others`` goes: the default graph
        when it is a body being built inside all of them (the op then captures the tensors:
        an op created in a branch is part of the branch), else their one graph, else None."""
        default = get_default_graph()
        if default is self and all(g is self for g in others):
            return self  # the usual case, decided without building a set
        graphs = {self, *others}
        if all(default.is_within(g) for g in graphs):
            return default
        return self if len(graphs) == 1 else None

    def _warn_if_rerun(self, op: Operation, code: CodeType) -> None:
        """Warns when a recompiled copy of code that built ops here builds again."""
        if id(code) in self._builder_ids:
            return
        self._builder_ids[id(code)] = code
        file = op.location[0]
        first_name = self._builders.get((file, code))
        if first_name is None:
            self._builders[(file, code)] = op.name
            return
        if file in self._rerun_files_warned:
            return
        self._rerun_files_warned.add(file)
        warnings.warn_explicit(
            f"This code ran again and builds its ops a second time in the same graph: "
            f"'{op.name}' is added beside '{first_name}', which its earlier run built, and "
            f"the graph keeps both (as in TensorFlow 1). To rebuild from scratch, build in a "
            f"fresh graph (`with gn.Graph().as_default():`) or call gn.reset_default_graph() "
            f"first.", UserWarning, file, op.location[1])

    def constant(self, array: np.ndarray, name: Optional[str] = None,
                 location: Optional[tuple[str, int]] = None) -> Tensor:
        """A Const op holding a numpy array (already of a graphnn dtype), created at
        ``location`` (the user's code calling this when None)."""
        return self.create_op(CONST_OP, [], {"value": array, "dtype": as_dtype(array.dtype)},
                              name=name, location=location).outputs[0]

    # ----- lookup -----------------------------------------------------------
    def get_operations(self) -> list[Operation]:
        return list(self._ops.values())

    def get_operation_by_name(self, name: str) -> Operation:
        if name in self._ops:
            return self._ops[name]
        raise NotFoundError(f"The name '{name}' refers to an Operation not in the graph.")

    def get_tensor_by_name(self, name: str) -> Tensor:
        op_name, _, index = name.rpartition(":")
        if not op_name or not index.isdigit():
            raise ValueError(f"The name '{name}' looks like an Operation name, not a Tensor "
                             f"name; Tensor names look like '<op_name>:<output_index>'.")
        if op_name not in self._ops:
            raise NotFoundError(f"The name '{name}' refers to a Tensor which does not exist: "
                                f"the operation '{op_name}' is not in the graph.")
        op = self._ops[op_name]
        if int(index) >= len(op.outputs):
            raise NotFoundError(f"The name '{name}' refers to a Tensor which does not exist: "
                                f"Operation '{op_name}' has {len(op.outputs)} outputs.")
        return op.outputs[int(index)]

    def as_graph_element(self, obj: Any) -> Tensor | Operation:
        """A Tensor or Operation of this graph from itself or its name ("x:0" or "x")."""
        if isinstance(obj, str):
            return self.get_tensor_by_name(obj) if ":" in obj else self.get_operation_by_name(obj)
        if isinstance(obj, (Tensor, Operation)):
            if obj.graph is not self:
                where = (obj.op if isinstance(obj, Tensor) else obj).where
                raise ValueError(f"{type(obj).__name__} '{obj.name}' is not an element of this "
                                 f"graph: it was created in another gn.Graph, at {where}")
            return obj
        raise TypeError(f"Cannot interpret {obj!r} as a Tensor or Operation of the graph")

    def consumers_of(self, tensor: Tensor) -> list[Operation]:
        return list(self._consumers.get(tensor, ()))

    @property
    def version(self) -> int:
        """A counter of changes (ops added, uses replaced, ops removed) that only grows.

        Equal versions of one graph mean nothing changed in between; use ``num_ops``
        for the graph's size.
        """
        return self._version

    @property
    def in_creation_order(self) -> bool:
        """Whether creation order (sorting by op id) is a dependency order of the ops.

        Always true of a graph that is only built; false once ``replace_uses`` made an op
        read a tensor created after it (a compiler's copy, where a folded constant replaces
        what an earlier op read).
        """
        return self._in_creation_order

    @property
    def num_ops(self) -> int:
        """The number of ops in the graph now."""
        return len(self._ops)

    # ----- collections ------------------------------------------------------
    def add_to_collection(self, name: str, value: Any) -> None:
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names: Iterable[str], value: Any) -> None:
        for name in names:
            self.add_to_collection(name, value)

    def get_collection(self, name: str) -> list:
        return list(self._collections.get(name, ()))

    def get_collection_ref(self, name: str) -> list:
        return self._collections.setdefault(name, [])

    def get_all_collection_keys(self) -> list[str]:
        return list(self._collections)

    def clear_collection(self, name: str) -> None:
        self._collections.pop(name, None)

    # ----- editing (for the compiler's private copies; user graphs are never edited) ----
    def replace_uses(self, old: Tensor, new: Tensor, keep: Optional[Operation] = None) -> int:
        """Makes every consumer of ``old`` (but ``keep``) read ``new`` instead; returns how many
        inputs changed. ``keep`` is the op computing ``new`` from ``old``, when it is one."""
        changed = 0
        kept = [keep] if keep is not None and keep in self._consumers.get(old, ()) else []
        for op in self._consumers.pop(old, []):
            if op is keep:
                continue
            op.inputs = tuple(new if t is old else t for t in op.inputs)
            if new.op._id > op._id:
                self._in_creation_order = False
            self._consumers.setdefault(new, []).append(op)
            changed += 1
        if kept:
            self._consumers[old] = kept
        if changed:
            self._version += 1
        return changed

    def remove_ops(self, ops: Iterable[Operation]) -> None:
        """Deletes ops that nothing uses any more (their names and ids stay taken)."""
        doomed = set(ops)
        if doomed:
            self._version += 1
        read: dict = {}
        for op in doomed:
            del self._ops[op.name]
            read.update(dict.fromkeys(op.inputs))
            for tensor in op.outputs:
                self._consumers.pop(tensor, None)
        # Each consumer list is filtered once, however many of its users go (a variable
        # read by every step of an unrolled loop).
        for tensor in read:
            users = self._consumers.get(tensor)
            if users is not None:
                users[:] = [u for u in users if u not in doomed]

    def as_text(self) -> str:
        """One line per op: ``name = Type(inputs) -> shapes`` for terminals and tests."""
        lines = []
        for op in self._ops.values():
            outs = ", ".join(f"{t.dtype.name}{t.shape}" for t in op.outputs) or "()"
            args = ", ".join(t.name for t in op.inputs)
            deps = f" ^[{', '.join(c.name for c in op.control_inputs)}]" if op.control_inputs else ""
            lines.append(f"{op.name} = {op.type}({args}){deps} -> {outs}")
        return "\n".join(lines)

    def to_networkx(self) -> nx_export.nx.MultiDiGraph:
        """The graph as a ``networkx.MultiDiGraph``: a node per op, an edge per input slot.

        Nodes are op names with attributes ``type``, ``name``, ``scope``,
        ``location`` ("file:line"), ``output_shapes``, ``output_dtypes``,
        ``num_outputs``, ``is_gradient`` and ``gradient_of``; data edges carry
        ``input_index``, ``output_index``, ``shape``, ``dtype`` and ``control=False``,
        control dependencies are edges with ``control=True``.

        Example:
            >>> nxg = gn.get_default_graph().to_networkx()
            >>> nx.ancestors(nxg, "loss")
        """
        return nx_export.graph_to_networkx(self)

    def __repr__(self) -> str:
        return f"<gn.Graph with {len(self._ops)} ops>"


_graph_stack: list[Graph] = []
_global_default_graph = Graph()


def get_default_graph() -> Graph:
    """The graph that new ops go into: the innermost ``as_default()`` one, else the global one."""
    return _graph_stack[-1] if _graph_stack else _global_default_graph


def reset_default_graph() -> None:
    """Replaces the global default graph by an empty one (not allowed inside ``as_default``)."""
    global _global_default_graph
    if _graph_stack:
        raise AssertionError("Do not use reset_default_graph() inside a `with g.as_default()` "
                             "block: the graph there stays the default.")
    _global_default_graph = Graph()


def name_scope(name: Optional[str]):
    """``with gn.name_scope("dense"):`` prefixes op names in the default graph."""
    return get_default_graph().name_scope(name)


def control_dependencies(control_inputs: Optional[Iterable]):
    """``with gn.control_dependencies([a]):`` makes ops created inside run after ``a``."""
    return get_default_graph().control_dependencies(control_inputs)


def graph_of(values: Iterable[Any]) -> Graph:
    """The graph of the Tensors/Operations among ``values``, else the default graph."""
    default = get_default_graph()
    for v in values:
        if isinstance(v, (Tensor, Operation)) and v.graph is not default:
            break
    else:
        return default  # the usual case: every one is the default graph's
    graphs = {id(v.graph): v.graph for v in values if isinstance(v, (Tensor, Operation))}
    if all(default.is_within(g) for g in graphs.values()):
        return default  # also while building a control-flow body inside those graphs
    if len(graphs) > 1:
        raise ValueError("The arguments belong to different graphs: "
                         + ", ".join(v.name for v in values if isinstance(v, (Tensor, Operation))))
    return next(iter(graphs.values())) if graphs else get_default_graph()


def convert_to_tensor(value: Any, dtype: Any = None, name: Optional[str] = None,
                      graph: Optional[Graph] = None) -> Tensor:
    """A Tensor from a Tensor, Variable, numpy array or Python value.

    Python floats become float32 and ints int32 unless ``dtype`` says otherwise;
    numpy arrays keep their dtype; a Tensor of another dtype is an error.
    """
    wanted = None if dtype is None else as_dtype(dtype)
    if isinstance(value, Tensor):
        if wanted is not None and value.dtype != wanted:
            raise DTypeError(f"Tensor conversion requested dtype {wanted} for Tensor "
                             f"'{value.name}' with dtype {value.dtype}")
        return value
    array = values.to_numpy(value, wanted)
    return (graph or get_default_graph()).constant(array, name=name)

