"""TF 1 variables: ``tf.Variable``'s signature, ``get_variable`` and ``variable_scope`` with reuse.

``variable_scope`` keeps, per graph, a stack of ``VariableScope`` objects and a store of
the variables ``get_variable`` made, keyed by full name: the store is what ``reuse=True``
finds and what makes a second creation an error, as in TF 1. Variables are graphnn's own
(``gn.Variable``); initializers are ``gn.layers.initializers`` with TF 1's defaults.
"""
from __future__ import annotations

import contextlib
import weakref
from typing import Any, Callable, Iterator, Optional, Sequence

import graphnn as gn
from graphnn.framework.graph import Graph, GraphKeys
from graphnn.layers import initializers as gn_initializers

__all__ = ["AUTO_REUSE", "Variable", "VariableScope", "assign", "assign_add", "assign_sub",
           "constant_initializer", "get_variable", "get_variable_scope",
           "glorot_normal_initializer", "glorot_uniform_initializer", "local_variables",
           "local_variables_initializer", "ones_initializer", "random_normal_initializer",
           "random_uniform_initializer", "truncated_normal_initializer",
           "variable_scope", "variance_scaling_initializer", "zeros_initializer"]

LOCAL_VARIABLES = "local_variables"


class _AutoReuse:
    def __repr__(self) -> str:
        return "tf.AUTO_REUSE"


AUTO_REUSE = _AutoReuse()


class Variable(gn.Variable):
    """``tf.Variable`` with TF 1's signature: a ``gn.Variable``.

    ``collections`` replaces the default ``[GraphKeys.GLOBAL_VARIABLES]`` (trainable
    variables also join ``TRAINABLE_VARIABLES``); ``validate_shape``, ``caching_device``,
    ``use_resource`` and the distribution arguments have no meaning here and are accepted.

    Example:
        >>> W = tf.Variable(tf.zeros([784, 10]), name="W")
    """

    def __init__(self, initial_value: Any = None, trainable: Optional[bool] = None,
                 collections: Optional[Sequence[str]] = None, validate_shape: bool = True,
                 caching_device: Any = None, name: Optional[str] = None,
                 variable_def: Any = None, dtype: Any = None, expected_shape: Any = None,
                 import_scope: Any = None, constraint: Any = None, use_resource: Any = None,
                 synchronization: Any = None, aggregation: Any = None, shape: Any = None):
        if variable_def is not None or constraint is not None:
            raise NotImplementedError("tf.Variable(variable_def=..., constraint=...) is not "
                                      "supported by graphnn.compat.v1")
        if initial_value is None:
            raise ValueError("tf.Variable needs an initial_value")
        trainable = True if trainable is None else bool(trainable)
        super().__init__(initial_value, trainable=trainable, name=name, dtype=dtype)
        if collections is not None:
            _move_to_collections(self, list(collections), trainable)


def _move_to_collections(variable: gn.Variable, collections: list, trainable: bool) -> None:
    if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
        collections.append(GraphKeys.TRAINABLE_VARIABLES)
    graph = variable.graph
    for key in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.TRAINABLE_VARIABLES):
        if key not in collections and variable in graph.get_collection(key):
            graph.get_collection_ref(key).remove(variable)
    for key in collections:
        if variable not in graph.get_collection(key):
            graph.add_to_collection(key, variable)


def assign(ref: gn.Variable, value: Any, validate_shape: Any = None, use_locking: Any = None,
           name: Optional[str] = None) -> gn.Tensor:
    """``tf.assign(ref, value)``: ``ref.assign(value)``."""
    return ref.assign(value, name=name)


def assign_add(ref: gn.Variable, value: Any, use_locking: Any = None,
               name: Optional[str] = None) -> gn.Tensor:
    """``tf.assign_add(ref, value)``: ``ref.assign_add(value)``."""
    return ref.assign_add(value, name=name)


def assign_sub(ref: gn.Variable, value: Any, use_locking: Any = None,
               name: Optional[str] = None) -> gn.Tensor:
    """``tf.assign_sub(ref, value)``: ``ref.assign_sub(value)``."""
    return ref.assign_sub(value, name=name)


def local_variables() -> list:
    """Variables created with ``collections=[tf.GraphKeys.LOCAL_VARIABLES]``."""
    return gn.get_default_graph().get_collection(LOCAL_VARIABLES)


def local_variables_initializer() -> gn.Operation:
    """Initializes the local variables (a no-op when there are none, as TF 1)."""
    return gn.variables_initializer(local_variables(), name="init_1")


# ----- initializers: TF 1's classes and defaults over gn.layers.initializers --------------
def zeros_initializer(dtype: Any = gn.float32) -> gn_initializers.Initializer:
    return gn_initializers.Zeros()


def ones_initializer(dtype: Any = gn.float32) -> gn_initializers.Initializer:
    return gn_initializers.Ones()


def constant_initializer(value: Any = 0, dtype: Any = gn.float32,
                         verify_shape: bool = False) -> gn_initializers.Initializer:
    return gn_initializers.Constant(value)


def random_normal_initializer(mean: float = 0.0, stddev: float = 1.0, seed: Optional[int] = None,
                              dtype: Any = gn.float32) -> gn_initializers.Initializer:
    return gn_initializers.RandomNormal(mean, stddev, seed)


def truncated_normal_initializer(mean: float = 0.0, stddev: float = 1.0,
                                 seed: Optional[int] = None,
                                 dtype: Any = gn.float32) -> gn_initializers.Initializer:
    return gn_initializers.TruncatedNormal(mean, stddev, seed)


def random_uniform_initializer(minval: float = 0.0, maxval: Optional[float] = None,
                               seed: Optional[int] = None,
                               dtype: Any = gn.float32) -> gn_initializers.Initializer:
    return gn_initializers.RandomUniform(minval, 1.0 if maxval is None else maxval, seed)


def glorot_uniform_initializer(seed: Optional[int] = None,
                               dtype: Any = gn.float32) -> gn_initializers.Initializer:
    return gn_initializers.GlorotUniform(seed)


def glorot_normal_initializer(seed: Optional[int] = None,
                              dtype: Any = gn.float32) -> gn_initializers.Initializer:
    return gn_initializers.GlorotNormal(seed)


def variance_scaling_initializer(scale: float = 1.0, mode: str = "fan_in",
                                 distribution: str = "truncated_normal",
                                 seed: Optional[int] = None,
                                 dtype: Any = gn.float32) -> gn_initializers.Initializer:
    # TF 1.x spelled the truncated normal "normal".
    distribution = "truncated_normal" if distribution == "normal" else distribution
    return gn_initializers.VarianceScaling(scale, mode, distribution, seed)


# ----- variable scopes ------------------------------------------------------------------------
class VariableScope:
    """A variable scope: the name prefix and defaults for ``get_variable`` inside it.

    Attributes:
        name: the full scope name (``"layer1/sub"``; ``""`` at the root).
        reuse: True, ``AUTO_REUSE`` or False (get_variable creates and refuses existing).
        original_name_scope: the name scope opened when the scope was first entered.
    """

    def __init__(self, name: str, reuse: Any = False, initializer: Any = None,
                 regularizer: Optional[Callable] = None, dtype: Any = gn.float32,
                 original_name_scope: str = ""):
        self.name = name
        self.reuse = reuse
        self.initializer = initializer
        self.regularizer = regularizer
        self.dtype = dtype
        self.original_name_scope = original_name_scope

    def reuse_variables(self) -> None:
        """From now on, ``get_variable`` in this scope returns existing variables."""
        self.reuse = True

    def set_initializer(self, initializer: Any) -> None:
        self.initializer = initializer

    def set_regularizer(self, regularizer: Optional[Callable]) -> None:
        self.regularizer = regularizer

    def __repr__(self) -> str:
        return f"<tf.VariableScope {self.name!r} reuse={self.reuse}>"


class _GraphScopes:
    """One graph's variable-scope stack, ``get_variable`` store and default-name counts."""

    def __init__(self) -> None:
        self.stack = [VariableScope("")]
        self.variables: dict[str, gn.Variable] = {}
        self.counts: dict[str, int] = {}


_SCOPES: weakref.WeakKeyDictionary[Graph, _GraphScopes] = weakref.WeakKeyDictionary()


def _scopes() -> _GraphScopes:
    graph = gn.get_default_graph()
    if graph not in _SCOPES:
        _SCOPES[graph] = _GraphScopes()
    return _SCOPES[graph]


def get_variable_scope() -> VariableScope:
    """The innermost ``variable_scope`` of the default graph (the root one outside any)."""
    return _scopes().stack[-1]


@contextlib.contextmanager
def variable_scope(name_or_scope: Any, default_name: Optional[str] = None, values: Any = None,
                   initializer: Any = None, regularizer: Optional[Callable] = None,
                   caching_device: Any = None, partitioner: Any = None,
                   custom_getter: Any = None, reuse: Any = None, dtype: Any = None,
                   use_resource: Any = None, constraint: Any = None,
                   auxiliary_name_scope: bool = True) -> Iterator[VariableScope]:
    """Prefixes ``get_variable`` names with the scope and opens a name scope of that name.

    ``reuse=True`` (inherited by nested scopes) makes ``get_variable`` return existing
    variables and refuse missing ones; ``AUTO_REUSE`` creates what is missing; otherwise
    creating an existing variable is a ``ValueError``. Entering a scope object re-enters
    its name scope.

    Example:
        >>> with tf.variable_scope("layer1"):
        ...     W = tf.get_variable("W", [784, 256])
        >>> with tf.variable_scope("layer1", reuse=True):
        ...     assert tf.get_variable("W") is W
    """
    if partitioner is not None or custom_getter is not None:
        raise NotImplementedError("variable_scope(partitioner=..., custom_getter=...) is not "
                                  "supported by graphnn.compat.v1")
    state = _scopes()
    parent = state.stack[-1]
    graph = gn.get_default_graph()
    if isinstance(name_or_scope, VariableScope):
        full_name, name_scope = name_or_scope.name, name_or_scope.original_name_scope
        inherited = name_or_scope
    else:
        if name_or_scope is None:
            if default_name is None:
                raise ValueError("variable_scope needs name_or_scope or default_name")
            base = f"{parent.name}/{default_name}" if parent.name else default_name
            count = state.counts.get(base, 0)
            state.counts[base] = count + 1
            name_or_scope = default_name if count == 0 else f"{default_name}_{count}"
        full_name = f"{parent.name}/{name_or_scope}" if parent.name else name_or_scope
        name_scope = name_or_scope if auxiliary_name_scope else None
        inherited = parent
    if reuse is True or parent.reuse is True:
        scope_reuse: Any = True
    elif reuse is AUTO_REUSE:
        scope_reuse = AUTO_REUSE
    else:
        scope_reuse = inherited.reuse
    with contextlib.ExitStack() as stack:
        opened = stack.enter_context(graph.name_scope(name_scope)) if name_scope else \
            graph.get_name_scope() + "/"
        scope = VariableScope(full_name, scope_reuse,
                              initializer if initializer is not None else inherited.initializer,
                              regularizer if regularizer is not None else inherited.regularizer,
                              dtype if dtype is not None else inherited.dtype,
                              original_name_scope=opened)
        state.stack.append(scope)
        try:
            yield scope
        finally:
            state.stack.pop()


def get_variable(name: str, shape: Any = None, dtype: Any = None, initializer: Any = None,
                 regularizer: Optional[Callable] = None, trainable: Optional[bool] = None,
                 collections: Optional[Sequence[str]] = None, caching_device: Any = None,
                 partitioner: Any = None, validate_shape: bool = True, use_resource: Any = None,
                 custom_getter: Any = None, constraint: Any = None, synchronization: Any = None,
                 aggregation: Any = None) -> gn.Variable:
    """The variable ``<scope>/name``: created, or returned when the scope reuses variables.

    ``initializer`` is an initializer (``tf.zeros_initializer()``...), a Tensor or a value;
    the default is the scope's, else Glorot uniform for floats and zeros otherwise (TF 1).

    Raises:
        ValueError: the variable exists and the scope does not reuse, or it is missing and
            the scope reuses (``reuse=True``), or a shape is needed and not given.

    Example:
        >>> W = tf.get_variable("W", shape=[784, 10], initializer=tf.zeros_initializer())
    """
    if partitioner is not None or custom_getter is not None:
        raise NotImplementedError("get_variable(partitioner=..., custom_getter=...) is not "
                                  "supported by graphnn.compat.v1")
    state = _scopes()
    scope = state.stack[-1]
    full_name = f"{scope.name}/{name}" if scope.name else name
    existing = state.variables.get(full_name)
    if existing is not None:
        if scope.reuse is False:
            raise ValueError(f"Variable {full_name} already exists, disallowed. Did you mean to "
                             f"set reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
        if shape is not None and not existing.shape.is_compatible_with(shape):
            raise ValueError(f"Trying to share variable {full_name}, but specified shape "
                             f"{list(shape)} and found shape {existing.shape}.")
        return existing
    if scope.reuse is True:
        raise ValueError(f"Variable {full_name} does not exist, or was not created with "
                         f"tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                         f"VarScope?")
    dtype = gn.as_dtype(dtype if dtype is not None else scope.dtype)
    initial_value = _initial_value(full_name, shape, dtype,
                                   initializer if initializer is not None else scope.initializer)
    trainable = True if trainable is None else bool(trainable)
    graph = gn.get_default_graph()
    # The exact name: the variable scope may differ from the current name scope.
    with graph.name_scope(None):
        variable = gn.Variable(initial_value, trainable=trainable, name=full_name + "/")
    if collections is not None:
        _move_to_collections(variable, list(collections), trainable)
    regularizer = regularizer if regularizer is not None else scope.regularizer
    if regularizer is not None:
        with graph.name_scope(full_name + "/Regularizer/"):
            penalty = regularizer(variable)
        if penalty is not None:
            graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, penalty)
    state.variables[full_name] = variable
    return variable


def _initial_value(full_name: str, shape: Any, dtype: gn.DType, initializer: Any) -> Any:
    if initializer is None:
        initializer = gn_initializers.GlorotUniform() if dtype.is_floating else \
            gn_initializers.Zeros()
    if isinstance(initializer, type):
        initializer = initializer()
    if callable(initializer):
        if shape is None:
            raise ValueError(f"Shape of a new variable ({full_name}) must be fully defined, "
                             f"but instead was None.")
        return initializer([int(d) for d in shape], dtype)
    value = initializer if isinstance(initializer, gn.Tensor) else gn.constant(initializer, dtype)
    if shape is not None and not value.shape.is_compatible_with(shape):
        raise ValueError(f"get_variable {full_name}: the initializer's shape {value.shape} does "
                         f"not match shape {list(shape)}")
    return value
