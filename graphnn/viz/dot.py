"""Graphviz DOT text for a graph, or for the part of it that some fetches need.

Name scopes become nested clusters (or, collapsed, one node each); every kind
of node has its own shape and colour (``NODE_STYLES``); an edge is labelled with
the static dtype and shape of the tensor it carries; control dependencies are
dashed. Node ids are the quoted op names, so the text stays readable and
diffable; the drawing is the same for any ``gn.Graph``, including the optimized
copy a compiler report holds.
"""
from __future__ import annotations

import os
import re
from typing import Any, Iterable, Optional, Sequence, Union

import networkx as nx

from graphnn.framework.graph import Graph, Operation
from graphnn.framework.tensor import Tensor

GraphOrFetches = Union[Graph, Tensor, Operation, Sequence[Any]]

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
}
"""Graphviz attributes of each kind of node; ``node_kind`` says which kind an op is."""

_CLUSTER_STYLE = 'style="rounded,filled"; color="#b0b0b0"; fillcolor="#f6f6f6"'
_GRADIENT_CLUSTER_STYLE = 'style="rounded,filled"; color="#e0a09a"; fillcolor="#fff3f2"'
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


def to_dot(graph_or_fetches: GraphOrFetches, collapse_scopes: Union[bool, Iterable[str]] = False,
           edge_labels: bool = True, rankdir: str = "TB", legend: bool = False,
           title: Optional[str] = None) -> str:
    """Graphviz DOT text of a whole graph or of the subgraph that fetches need.

    Args:
        graph_or_fetches: a ``gn.Graph`` (drawn whole), or a Tensor, Operation,
            Variable, or a list/tuple/dict of them: then only those and their
            ancestors through inputs and control inputs are drawn, and the
            fetched nodes get a double border.
        collapse_scopes: True draws each top-level name scope as one node; a list
            of scope names (``["Adam", "gradients"]``, nested ones such as
            ``"dense/W"`` too) collapses just those.
        edge_labels: label data edges with dtype and static shape, ``float32 (?, 784)``.
        rankdir: Graphviz layout direction, ``"TB"`` (top to bottom) or ``"LR"``.
        legend: add a small cluster explaining the node styles.
        title: a caption for the drawing.

    Returns:
        The DOT source; ``gn.viz.render`` turns it into SVG, PNG or PDF.

    Example:
        >>> x = gn.placeholder(gn.float32, [None, 784], name="x")
        >>> with gn.name_scope("dense"):
        ...     y = gn.nn.relu(x @ gn.Variable(gn.zeros([784, 10]), name="W"))
        >>> print(gn.viz.to_dot(y))                      # doctest: +SKIP
    """
    lines = _header(rankdir, title)
    lines += _Drawing(graph_or_fetches, collapse_scopes, edge_labels).statements(prefix="")
    if legend:
        lines += _legend(prefix="")
    return "\n".join(lines + ["}", ""])


def to_dot_side_by_side(*graphs_or_fetches: GraphOrFetches,
                        titles: Optional[Sequence[str]] = None,
                        collapse_scopes: Union[bool, Iterable[str]] = False,
                        edge_labels: bool = True, rankdir: str = "TB",
                        legend: bool = False) -> str:
    """DOT text drawing several graphs next to each other, each in its own framed panel.

    Made to compare a graph before and after the compiler's passes.

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
        drawing = _Drawing(item, collapse_scopes, edge_labels)
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
    """(graph, ops to draw in creation order, fetched ops) for a graph or some fetches."""
    if isinstance(graph_or_fetches, Graph):
        return graph_or_fetches, graph_or_fetches.get_operations(), []
    fetched = list(dict.fromkeys(_flatten_fetches(graph_or_fetches)))
    if not fetched:
        raise ValueError("Nothing to draw: the fetch list is empty")
    graph = fetched[0].graph
    for op in fetched:
        if op.graph is not graph:
            raise ValueError(f"Cannot draw fetches from different graphs together: "
                             f"'{fetched[0].name}' and '{op.name}'")
    dependencies = nx.DiGraph()
    for op in graph.get_operations():
        dependencies.add_node(op)
        dependencies.add_edges_from((t.op, op) for t in op.inputs)
        dependencies.add_edges_from((c, op) for c in op.control_inputs)
    needed = set(fetched)
    for op in fetched:
        needed |= nx.ancestors(dependencies, op)
    return graph, [op for op in graph.get_operations() if op in needed], fetched


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


class _Drawing:
    """The nodes, clusters and edges of one drawn graph, before they become DOT lines."""

    def __init__(self, graph_or_fetches: GraphOrFetches, collapse_scopes: Union[bool, Iterable[str]],
                 edge_labels: bool):
        self.graph, self.ops, fetched = select_ops(graph_or_fetches)
        self.fetched = set(fetched)
        self.edge_labels = edge_labels
        if collapse_scopes is True:
            self.collapsed = {op.name.split("/")[0] for op in self.ops if "/" in op.name}
        elif collapse_scopes is False or collapse_scopes is None:
            self.collapsed = set()
        elif isinstance(collapse_scopes, str):
            self.collapsed = {collapse_scopes.strip("/")}
        else:
            self.collapsed = {scope.strip("/") for scope in collapse_scopes}
        self.node_of = {op: self._collapsed_scope(op.name) or op for op in self.ops}

    def _collapsed_scope(self, name: str) -> Optional[str]:
        """The outermost collapsed scope that ``name`` lies inside, if any."""
        parts = name.split("/")
        for depth in range(1, len(parts)):
            scope = "/".join(parts[:depth])
            if scope in self.collapsed:
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
            lines += [f"subgraph {quote(f'cluster_{prefix}{scope}')} {{",
                      f"label={quote(_leaf(scope))}; tooltip={quote(scope)}; {style};"]
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
            kind = "gradient_scope" if _GRADIENT_SCOPE.search(node) else "scope"
            attrs = {"label": f"{_leaf(node)}\n({count} ops)", "tooltip": f"name scope {node}",
                     **NODE_STYLES[kind]}
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
            for tensor in op.inputs:
                source = self.node_of[tensor.op]
                if source != target:
                    data.setdefault((source, target), []).append(tensor)
            for control_op in op.control_inputs:
                source = self.node_of[control_op]
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
