"""Graphviz DOT text for a graph, for the part of it that some fetches need, or for a model.

Name scopes become nested clusters (or, collapsed, one node each), and so do the
bodies of control-flow ops (``gn.cond`` branches, loop bodies); every kind
of node has its own shape and colour (``NODE_STYLES``); an edge is labelled with
the static dtype and shape of the tensor it carries; control dependencies are
dashed. Node ids are the quoted op names (a collapsed scope's id is its name with a
trailing ``/``), so the text stays readable and diffable; the drawing is the same for
any ``gn.Graph``, including the optimized copy a compiler report holds. A model
(``gn.models.Sequential`` or ``gn.models.Model``) is drawn as its forward pass with
each layer's name scope collapsed into one box; ``expand=`` opens layers or scopes.
"""
from __future__ import annotations

import copy
import os
import re
from typing import Any, Iterable, Optional, Sequence, Union

import networkx as nx

from graphnn.framework.graph import Graph, Operation
from graphnn.framework.tensor import Tensor
from graphnn.layers.base import Layer

GraphOrFetches = Union[Graph, Tensor, Operation, Sequence[Any]]
"""A graph, fetches (nested lists/tuples/dicts of Tensors and Operations) or a model."""
Scopes = Union[None, bool, str, Iterable[str]]

NODE_STYLES: dict[str, dict[str, str]] = {
    "placeholder": {"shape": "invhouse", "style": "filled", "fillcolor": "#cfe2ff",
                    "color": "#1f5fbf"},
    "variable": {"shape": "cylinder", "style": "filled", "fillcolor": "#ffe08a",
                 "color": "#a67300"},
    "constant": {"shape": "box", "style": "rounded,filled", "fillcolor": "#eeeeee",
                 "color": "#9a9a9a", "fontsize": "8"},
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#ffffff", "color": "#333333"},
    "gradient": {"shape": "ellipse", "style": "filled", "fillcolor": "#fbd3d0",
                 "color": "#c0392b"},
    "scope": {"shape": "box3d", "style": "filled", "fillcolor": "#e6dcf5", "color": "#6c3fa0"},
    "gradient_scope": {"shape": "box3d", "style": "filled", "fillcolor": "#fbd3d0",
                       "color": "#c0392b"},
    "layer": {"shape": "box", "style": "rounded,filled", "fillcolor": "#d9f2e3",
              "color": "#2e7d4f", "penwidth": "1.4"},
}
"""Graphviz attributes of each kind of node; ``node_kind`` says which kind an op is."""

_CLUSTER_STYLE = 'style="rounded,filled"; color="#b0b0b0"; fillcolor="#f6f6f6"'
_GRADIENT_CLUSTER_STYLE = 'style="rounded,filled"; color="#e0a09a"; fillcolor="#fff3f2"'
_LAYER_CLUSTER_STYLE = 'style="rounded,filled"; color="#2e7d4f"; fillcolor="#f3fbf6"'
_CONTROL_EDGE = 'style=dashed, color="#888888", arrowhead=odot'
_GRADIENT_SCOPE = re.compile(r"(^|/)gradients(_\d+)?(/|$)")
_KIND_OF_TYPE = {"Placeholder": "placeholder", "PlaceholderWithDefault": "placeholder",
                 "VariableV2": "variable", "Const": "constant"}


def node_kind(op: Operation) -> str:
    """``"placeholder"``, ``"variable"``, ``"constant"``, ``"gradient"`` or ``"op"``.

    An op is a gradient node when ``gn.gradients`` recorded which forward op it
    differentiates, or when it lives under a ``gradients`` name scope.
    """
    if op.type in _KIND_OF_TYPE:
        return _KIND_OF_TYPE[op.type]
    if op.gradient_of is not None or _GRADIENT_SCOPE.search(_scope_of(op.name)):
        return "gradient"
    return "op"


def to_dot(graph_or_fetches: GraphOrFetches, collapse: Scopes = None, expand: Scopes = None,
           edge_labels: bool = True, rankdir: str = "TB", legend: bool = False,
           title: Optional[str] = None) -> str:
    """Graphviz DOT text of a whole graph, of the subgraph that fetches need, or of a model.

    Args:
        graph_or_fetches: a ``gn.Graph`` (drawn whole); a Tensor, Operation,
            Variable, or a list/tuple/dict of them: then only those and their
            ancestors through inputs and control inputs are drawn, and the
            fetched nodes get a double border; or a built model (anything with
            ``.layers`` of ``gn.layers.Layer``, such as ``gn.models.Sequential``):
            its forward pass, each layer one box labelled with the layer's name,
            class, output shape and parameter count.
        collapse: which name scopes are drawn as one box each. True: every scope
            (the outermost closed scope wins, so top-level scopes show as boxes);
            a scope name or a list of them (``["Adam", "gradients"]``, nested ones
            such as ``"dense/W"`` too): just those; None or False: none, except a
            model's layers, which None keeps closed.
        expand: scopes (or a model's layer names) to open although ``collapse`` or
            the model would close them: True opens everything; ``["dense_1"]``
            shows that layer's ops as a cluster; with ``collapse=True``,
            ``expand=["dense"]`` opens ``dense`` and shows its own sub-scopes closed.
        edge_labels: label data edges with dtype and static shape, ``float32 (?, 784)``.
        rankdir: Graphviz layout direction, ``"TB"`` (top to bottom) or ``"LR"``.
        legend: add a small cluster explaining the node styles.
        title: a caption for the drawing.

    Returns:
        The DOT source; ``gn.viz.render`` turns it into SVG, PNG or PDF.

    Raises:
        ValueError: nothing to draw, fetches from several graphs, a model that is not
            built yet, or an ``expand`` name that is no scope of the drawing.

    Example:
        >>> x = gn.placeholder(gn.float32, [None, 784], name="x")
        >>> with gn.name_scope("dense"):
        ...     y = gn.nn.relu(x @ gn.Variable(gn.zeros([784, 10]), name="W"))
        >>> print(gn.viz.to_dot(y))                      # doctest: +SKIP
        >>> print(gn.viz.to_dot(model, expand=["dense_1"]))  # doctest: +SKIP
    """
    return dot_of(Drawing(graph_or_fetches, collapse, expand, edge_labels), rankdir, legend, title)


def dot_of(drawing: Drawing, rankdir: str = "TB", legend: bool = False,
           title: Optional[str] = None) -> str:
    """The DOT text of a ``Drawing`` (``to_dot`` after choosing what to draw)."""
    lines = _header(rankdir, title)
    lines += drawing.statements(prefix="") + _body_clusters(drawing.ops, drawing.edge_labels, "")
    if legend:
        lines += _legend(prefix="")
    return "\n".join(lines + ["}", ""])


def to_dot_side_by_side(*graphs_or_fetches: GraphOrFetches,
                        titles: Optional[Sequence[str]] = None,
                        collapse: Scopes = None, expand: Scopes = None,
                        edge_labels: bool = True, rankdir: str = "TB",
                        legend: bool = False) -> str:
    """DOT text drawing several graphs next to each other, each in its own framed panel.

    Made to compare a graph before and after the compiler's passes; the options are
    ``to_dot``'s, applied to each graph.

    Example:
        >>> report = sess.compile_report(loss, feed_dict)
        >>> dot = gn.viz.to_dot_side_by_side(loss, report.optimized_graph,
        ...                                  titles=["as written", "optimized"])
    """
    if not graphs_or_fetches:
        raise ValueError("to_dot_side_by_side needs at least one graph or fetch list")
    titles = list(titles) if titles is not None else [f"graph {i + 1}" for i in
                                                      range(len(graphs_or_fetches))]
    if len(titles) != len(graphs_or_fetches):
        raise ValueError(f"Got {len(titles)} titles for {len(graphs_or_fetches)} graphs")
    lines = _header(rankdir, None)
    for index, (item, title) in enumerate(zip(graphs_or_fetches, titles)):
        drawing = Drawing(item, collapse, expand, edge_labels)
        prefix = f"{index}:"
        lines.append(f"subgraph {quote(f'cluster_{prefix}')} {{")
        lines.append(f'label={quote(f"{title} ({len(drawing.ops)} ops)")}; fontsize=14; '
                     f'style=solid; color="#444444"; penwidth=1.5')
        lines += drawing.statements(prefix)
        lines.append("}")
    if legend:
        lines += _legend(prefix="legend:")
    return "\n".join(lines + ["}", ""])


def quote(text: str) -> str:
    """A DOT quoted string: backslashes and double quotes escaped, newlines as ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n") + '"'


def select_ops(graph_or_fetches: GraphOrFetches) -> tuple[Graph, list[Operation], list[Operation]]:
    """(graph, ops to draw in creation order, fetched ops) for a graph, fetches or a model.

    A model's drawing holds its layers' ops, its inputs and the ops on the paths from
    its inputs to its outputs: the ``training`` switch and the loss, metrics and
    optimizer that ``compile`` added are left out.
    """
    if isinstance(graph_or_fetches, Graph):
        return graph_or_fetches, graph_or_fetches.get_operations(), []
    if is_model(graph_or_fetches):
        return _select_model_ops(graph_or_fetches)
    fetched = list(dict.fromkeys(_flatten_fetches(graph_or_fetches)))
    if not fetched:
        raise ValueError("Nothing to draw: the fetch list is empty")
    graph = fetched[0].graph
    for op in fetched:
        if op.graph is not graph:
            raise ValueError(f"Cannot draw fetches from different graphs together: "
                             f"'{fetched[0].name}' and '{op.name}'")
    dependencies = _dependencies(graph)
    needed = set(fetched)
    for op in fetched:
        needed |= nx.ancestors(dependencies, op)
    return graph, [op for op in graph.get_operations() if op in needed], fetched


def _dependencies(graph: Graph) -> nx.DiGraph:
    """op -> op for each data and control input."""
    dependencies = nx.DiGraph()
    for op in graph.get_operations():
        dependencies.add_node(op)
        dependencies.add_edges_from((t.op, op) for t in op.inputs)
        dependencies.add_edges_from((c, op) for c in op.control_inputs)
    return dependencies


def _select_model_ops(model: Any) -> tuple[Graph, list[Operation], list[Operation]]:
    graph, needed, _ = select_ops(_model_tensors(model, "outputs", "output"))
    inputs = [t.op for t in _model_tensors(model, "inputs", "input")]
    dependencies = _dependencies(graph)
    reached = set(inputs).union(*(nx.descendants(dependencies, op) for op in inputs))
    layer_scopes = tuple(f"{layer.name}/" for layer in model.layers if layer.built)
    return graph, [op for op in needed if op in reached or op.name.startswith(layer_scopes)], []


def is_model(obj: Any) -> bool:
    """Whether ``obj`` is drawn as a model: it has ``.layers``, a list of ``gn.layers.Layer``."""
    layers = getattr(obj, "layers", None)
    return (not isinstance(obj, (Graph, Tensor, Operation)) and isinstance(layers, (list, tuple))
            and all(isinstance(layer, Layer) for layer in layers))


def _model_tensors(model: Any, plural: str, singular: str) -> list[Tensor]:
    """A model's ``.outputs`` (functional) or ``[.output]`` (Sequential); inputs alike."""
    tensors = getattr(model, plural, None)
    if tensors is None:
        tensors = getattr(model, singular, None)
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors or ())
    if not tensors:
        raise ValueError(f"Model '{getattr(model, 'name', model)}' has not been built yet, so "
                         f"there is no graph to draw: give the first layer input_shape=..., "
                         f"start with gn.layers.Input(shape), or call build/fit first")
    return tensors


def layer_label(layer: Layer) -> str:
    """A layer's box: name, class, output shape (Keras's ``(None, 16)``), parameter count."""
    shape = layer.output_shape
    if shape is None or shape.ndims is None:
        dims = "?"
    else:
        dims = ", ".join("None" if d is None else str(d) for d in shape.as_list())
        dims += "," if shape.ndims == 1 else ""
    return (f"{layer.name}\n{type(layer).__name__}\noutput ({dims})\n"
            f"{layer.count_params():,} params")


def _flatten_fetches(value: Any) -> Iterable[Operation]:
    if isinstance(value, Tensor):
        yield value.op
    elif isinstance(value, Operation):
        yield value
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _flatten_fetches(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _flatten_fetches(item)
    else:
        raise TypeError(f"gn.viz draws a gn.Graph, or Tensors/Operations (or lists of them) "
                        f"and what they need; got {value!r}")


def _scope_of(name: str) -> str:
    return name.rpartition("/")[0]


def _leaf(name: str) -> str:
    return name.rpartition("/")[2]


def _header(rankdir: str, title: Optional[str]) -> list[str]:
    if rankdir not in ("TB", "BT", "LR", "RL"):
        raise ValueError(f"rankdir must be one of TB, BT, LR, RL; got {rankdir!r}")
    graph_attrs = (f'rankdir={rankdir}, newrank=true, fontname="Helvetica", fontsize=11, '
                   f'nodesep=0.25, ranksep=0.35')
    edge_attrs = ('fontname="Helvetica", fontsize=8, color="#555555", fontcolor="#555555", '
                  'arrowsize=0.6')
    lines = ["digraph graphnn {", f"graph [{graph_attrs}];",
             'node [fontname="Helvetica", fontsize=10, height=0.3, margin="0.08,0.03"];',
             f"edge [{edge_attrs}];"]
    if title:
        lines.append(f"label={quote(title)}; labelloc=t; fontsize=14;")
    return lines


def _attributes(attrs: dict[str, str]) -> str:
    return ", ".join(f"{key}={quote(value)}" for key, value in attrs.items())


def _legend(prefix: str) -> list[str]:
    examples = {"placeholder": "placeholder", "variable": "variable", "constant": "constant",
                "op": "op", "gradient": "gradient op", "scope": "collapsed scope"}
    lines = [f"subgraph {quote(f'cluster_{prefix}legend')} {{",
             'label="legend"; style="rounded"; color="#b0b0b0"; fontsize=10;']
    ids = [quote(f"{prefix}legend/{kind}") for kind in examples]
    for node_id, (kind, text) in zip(ids, examples.items()):
        lines.append(f"{node_id} [label={quote(text)}, {_attributes(NODE_STYLES[kind])}];")
    lines.append(f"{{rank=same; {'; '.join(ids)}}}")
    lines.append(" -> ".join(ids) + " [style=invis];")
    lines.append("}")
    return lines


def scopes_of(ops: Iterable[Operation]) -> set[str]:
    """Every name scope that holds one of ``ops`` (``"a"`` and ``"a/b"`` for ``"a/b/op"``)."""
    return {"/".join(parts[:depth]) for parts in (op.name.split("/") for op in ops)
            for depth in range(1, len(parts))}


def _scope_names(scopes: Scopes) -> set[str]:
    if scopes is None or isinstance(scopes, bool):
        return set()
    if isinstance(scopes, str):
        return {scopes.strip("/")}
    return {scope.strip("/") for scope in scopes}


class Drawing:
    """The nodes, clusters and edges of one drawn graph, before they become DOT lines.

    Attributes:
        graph, ops: the graph and the ops drawn (creation order).
        layers: {layer scope: layer} when a model is drawn, else empty.
        scopes: every name scope holding a drawn op.
        closed: the scopes drawn as one box (an op lies in the outermost closed one).
        node_of: {op: the op itself, or the closed scope that it is drawn as}.
    """

    def __init__(self, graph_or_fetches: GraphOrFetches, collapse: Scopes = None,
                 expand: Scopes = None, edge_labels: bool = True):
        self.graph, self.ops, fetched = select_ops(graph_or_fetches)
        self.fetched = set(fetched)
        self.edge_labels = edge_labels
        self.layers: dict[str, Layer] = {layer.name: layer for layer in
                                         getattr(graph_or_fetches, "layers", ()) if layer.built
                                         } if is_model(graph_or_fetches) else {}
        self.scopes = scopes_of(self.ops)
        expanded = self.scopes if expand is True else _scope_names(expand)
        unknown = sorted(expanded - self.scopes)
        if unknown:
            known = list(self.layers) or sorted(s for s in self.scopes if "/" not in s)
            raise ValueError(f"Cannot expand {unknown}: no such name scope among the drawn ops "
                             f"(top-level scopes or layers: {', '.join(known) or 'none'})")
        closing = self.scopes if collapse is True else _scope_names(collapse)
        if collapse is None:
            closing |= set(self.layers)
        self.closed = {scope for scope in closing if scope not in expanded}
        self.node_of = {op: self._collapsed_scope(op.name) or op for op in self.ops}

    def with_closed(self, closed: Iterable[str]) -> Drawing:
        """The same drawing with exactly the ``closed`` scopes drawn as boxes."""
        view = copy.copy(self)
        view.closed = set(closed)
        view.node_of = {op: view._collapsed_scope(op.name) or op for op in view.ops}
        return view

    def _collapsed_scope(self, name: str) -> Optional[str]:
        """The outermost collapsed scope that ``name`` lies inside, if any."""
        parts = name.split("/")
        for depth in range(1, len(parts)):
            scope = "/".join(parts[:depth])
            if scope in self.closed:
                return scope
        return None

    def statements(self, prefix: str) -> list[str]:
        """DOT statements (clusters with their nodes, then edges); ids start with ``prefix``."""
        nodes = {node: node if isinstance(node, str) else node.name
                 for node in self.node_of.values()}
        # An op named like a scope ("dense/W" beside "dense/W/Assign") is drawn inside
        # that scope's cluster, as TensorBoard groups a variable with its initializer.
        scopes = {"/".join(parts[:depth]) for parts in (name.split("/") for name in nodes.values())
                  for depth in range(1, len(parts))}
        tree: dict[str, list[str]] = {"": []}
        children: dict[str, list[str]] = {}
        for node, name in nodes.items():
            cluster = name if isinstance(node, Operation) and name in scopes else _scope_of(name)
            self._add_scope(cluster, tree, children)
            tree[cluster].append(self._node_line(node, prefix))
        lines = self._cluster_lines("", tree, children, prefix)
        return lines + self._edge_lines(prefix)

    @staticmethod
    def _add_scope(scope: str, tree: dict, children: dict) -> None:
        while scope not in tree:
            tree[scope] = []
            parent = _scope_of(scope)
            children.setdefault(parent, []).append(scope)
            scope = parent

    def _cluster_lines(self, scope: str, tree: dict, children: dict, prefix: str) -> list[str]:
        lines = []
        if scope:
            style = _GRADIENT_CLUSTER_STYLE if _GRADIENT_SCOPE.search(scope) else _CLUSTER_STYLE
            label = _leaf(scope)
            if scope in self.layers:
                style = _LAYER_CLUSTER_STYLE
                label = f"{label} ({type(self.layers[scope]).__name__})"
            lines += [f"subgraph {quote(f'cluster_{prefix}{scope}')} {{",
                      f"label={quote(label)}; tooltip={quote(scope)}; {style};"]
        lines += tree[scope]
        for child in children.get(scope, ()):
            lines += self._cluster_lines(child, tree, children, prefix)
        if scope:
            lines.append("}")
        return lines

    def _node_id(self, node: Union[Operation, str], prefix: str) -> str:
        # A collapsed scope's id ends in "/" so it never equals an op's name.
        return quote(prefix + (node + "/" if isinstance(node, str) else node.name))

    def _node_line(self, node: Union[Operation, str], prefix: str) -> str:
        if isinstance(node, str):
            count = sum(1 for drawn in self.node_of.values() if drawn == node)
            if node in self.layers:
                attrs = {"label": layer_label(self.layers[node]),
                         "tooltip": f"layer {node} ({count} ops)",
                         **NODE_STYLES["layer"]}
            else:
                kind = "gradient_scope" if _GRADIENT_SCOPE.search(node) else "scope"
                attrs = {"label": f"{_leaf(node)}\n({count} ops)",
                         "tooltip": f"name scope {node}", **NODE_STYLES[kind]}
            return f"{self._node_id(node, prefix)} [{_attributes(attrs)}];"
        kind = node_kind(node)
        attrs = {"label": _node_label(node, kind), "tooltip": _tooltip(node),
                 **NODE_STYLES[kind]}
        if node in self.fetched:
            attrs.update(peripheries="2", penwidth="1.8")
        return f"{self._node_id(node, prefix)} [{_attributes(attrs)}];"

    def _edge_lines(self, prefix: str) -> list[str]:
        data: dict[tuple, list[Tensor]] = {}
        control: dict[tuple, None] = {}
        for op in self.ops:
            target = self.node_of[op]
            # A model's drawing leaves some inputs out (its training switch): no edge then.
            for tensor in op.inputs:
                source = self.node_of.get(tensor.op, target)
                if source != target:
                    data.setdefault((source, target), []).append(tensor)
            for control_op in op.control_inputs:
                source = self.node_of.get(control_op, target)
                if source != target:
                    control[(source, target)] = None
        lines = []
        for (source, target), tensors in data.items():
            ends = f"{self._node_id(source, prefix)} -> {self._node_id(target, prefix)}"
            if isinstance(source, Operation) and isinstance(target, Operation):
                lines += [f"{ends}{self._edge_attrs(tensor)};" for tensor in tensors]
                continue
            # Edges into or out of a collapsed scope merge: one per pair of drawn nodes.
            distinct = list(dict.fromkeys(tensors))
            if len(distinct) == 1:
                lines.append(f"{ends}{self._edge_attrs(distinct[0])};")
            elif self.edge_labels:
                lines.append(f"{ends} [label={quote(f'{len(distinct)} tensors')}];")
            else:
                lines.append(f"{ends};")
        for source, target in control:
            lines.append(f"{self._node_id(source, prefix)} -> {self._node_id(target, prefix)} "
                         f"[{_CONTROL_EDGE}];")
        return lines

    def _edge_attrs(self, tensor: Tensor) -> str:
        if not self.edge_labels:
            return ""
        return f" [label={quote(tensor_label(tensor))}, tooltip={quote(tensor.name)}]"


def tensor_label(tensor: Tensor) -> str:
    """``"float32 (?, 784)"``; ``":1 float32 (?,)"`` for a second output."""
    index = f":{tensor.value_index} " if len(tensor.op.outputs) > 1 else ""
    return f"{index}{tensor.dtype.name} {tensor.shape}"


def _node_label(op: Operation, kind: str) -> str:
    leaf = _leaf(op.name)
    if kind == "constant":
        value = op.attrs.get("value")
        if value is not None and getattr(value, "size", 0) == 1:
            return f"{leaf}\n{_short(value.reshape(()).item())}"
        return leaf
    if kind in ("placeholder", "variable") or re.sub(r"_\d+$", "", leaf) == op.type:
        return leaf
    return f"{leaf}\n{op.type}"


def _short(value: Any) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else repr(value)
    return text if len(text) <= 12 else text[:11] + "…"


def _tooltip(op: Operation) -> str:
    # The file's base name only: drawings committed to a repository should not carry home paths.
    where = f"{os.path.basename(op.location[0])}:{op.location[1]}"
    text = f"{op.type} '{op.name}' created at {where}"
    if op.gradient_of is not None:
        text += f", in the gradient of '{op.gradient_of.name}'"
    return text


def _body_clusters(ops: Sequence[Operation], edge_labels: bool, prefix: str) -> list[str]:
    """Each control-flow body (a ``gn.cond`` branch, a loop body: a Graph attribute of an op)
    as a cluster beside the drawing, labelled with its op, and its own bodies nested in it."""
    lines = []
    for op in ops:
        for key, body in op.attrs.items():
            if not isinstance(body, Graph):
                continue
            inner = f"{prefix}{op.name}/{key}:"
            drawing = Drawing(body, edge_labels=edge_labels)
            lines.append(f"subgraph {quote(f'cluster_{inner}')} {{")
            lines.append(f'label={quote(f"{op.type} {op.name}: {key}")}; fontsize=10; '
                         f'style="rounded,dashed"; color="#6c3fa0"')
            lines += drawing.statements(inner) + _body_clusters(drawing.ops, edge_labels, inner)
            lines.append("}")
    return lines
