"""The contexts a Graph opens per name scope, per gradient provenance, and while graphnn
code that builds ops knows where its user's code is (``Graph.user_code_known``).

Classes rather than generator-based context managers: ``gn.gradients`` enters two of
them per op it differentiates, and contextlib's generator machinery costs several times
more than ``__enter__``/``__exit__`` of a class.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from graphnn.framework.names import check_name

if TYPE_CHECKING:
    from graphnn.framework.graph import Graph
    from graphnn.framework.operation import Operation


class NameScope:
    """``Graph.name_scope``'s context (a class: ``gn.gradients`` enters two per op it
    differentiates, and a generator-based context manager costs several times more)."""

    __slots__ = ("_graph", "_name", "_previous")

    def __init__(self, graph: Graph, name: Optional[str]):
        self._graph, self._name = graph, name

    def __enter__(self) -> str:
        graph, name = self._graph, self._name
        self._previous = graph._name_stack
        if not name:
            scope = ""
        elif name.endswith("/"):
            scope = name[:-1]
            check_name(scope, scope=True)
        else:
            check_name(name, scope=True)
            scope = graph.unique_name(name)
        graph._name_stack = scope
        return scope + "/" if scope else ""

    def __exit__(self, *exc_info: Any) -> None:
        self._graph._name_stack = self._previous


class GradientProvenance:
    """``Graph.gradient_provenance``'s context (a class, as ``NameScope``)."""

    __slots__ = ("_stack", "_op")

    def __init__(self, stack: list, forward_op: Operation):
        self._stack, self._op = stack, forward_op

    def __enter__(self) -> None:
        self._stack.append(self._op)

    def __exit__(self, *exc_info: Any) -> None:
        self._stack.pop()


class KnownUserCode:
    """``Graph.user_code_known``'s context (a class, as ``NameScope``)."""

    __slots__ = ("_graph", "_where", "_previous")

    def __init__(self, graph: Graph, where: Optional[tuple]):
        self._graph, self._where = graph, where

    def __enter__(self) -> None:
        known = self._graph._user_code  # a threading.local: this thread's own
        self._previous = getattr(known, "where", None)
        known.where = self._where

    def __exit__(self, *exc_info: Any) -> None:
        self._graph._user_code.where = self._previous
