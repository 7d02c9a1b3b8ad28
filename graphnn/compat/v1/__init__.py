"""TensorFlow 1's graph-mode API over graphnn: change one line, ``import graphnn.compat.v1 as tf``.

TF 1's names, argument names, positional orders and defaults (``reduction_indices=``,
``arg_max(input, dimension)``, ``nn.dropout(x, keep_prob)``, ``Session(config=...)``,
``get_variable``/``variable_scope`` with ``reuse``, ``summary.merge_all``...) as a thin
naming layer: every function here renames arguments and calls graphnn's own ops, which
are declared once in ``graphnn.ops``. These deprecated spellings live here only, never
in ``graphnn``'s main namespace.

Every supported name is a real attribute (``dir()``, ``__all__``). A TF 1 public name
graphnn does not support raises ``UnsupportedTF1Error``, both a ``NotImplementedError``
and an ``AttributeError`` (``hasattr(tf, "contrib")`` is False), naming the symbol.

Example:
    >>> import graphnn.compat.v1 as tf
    >>> tf.disable_v2_behavior()
    >>> x = tf.placeholder("float", [None, 784])
    >>> W = tf.Variable(tf.zeros([784, 10]))
    >>> y = tf.nn.softmax(tf.matmul(x, W))
    >>> with tf.Session() as sess:
    ...     sess.run(tf.global_variables_initializer())
"""
from __future__ import annotations

import builtins
import contextlib
import re
from typing import Any, Iterator, Optional, Sequence

import graphnn as gn
from graphnn import (DType, Graph, Operation, Tensor, TensorShape, abs, add, add_n, as_dtype,
                     bfloat16, broadcast_to, cast, clip_by_value, concat, constant,
                     control_dependencies, convert_to_tensor, cos, divide, einsum, equal, exp,
                     fill, float16, float32, float64, floordiv, floormod, get_default_graph,
                     get_default_session, greater, greater_equal, group, identity, int8, int16,
                     int32, int64, less, less_equal, log, log1p, logical_and, logical_not,
                     logical_or, maximum, minimum, mod, negative, no_op, not_equal, one_hot, ones,
                     placeholder, pow, random_normal, random_uniform, range, reset_default_graph,
                     reshape, rsqrt, set_random_seed, sigmoid, sign, sin, sqrt, square, stack,
                     stop_gradient, string, subtract, tanh, tensordot, tile, truediv,
                     truncated_normal, uint8, unstack, where, zeros)
from graphnn import bool  # noqa: A004 (TF's name tf.bool)
from graphnn.compat.v1 import errors, layers, logging, nn, summary, train
from graphnn.compat.v1._ops import (arg_max, arg_min, argmax, argmin, div, expand_dims, gather,
                                   matmul, multiply, ones_like, rank, reciprocal, reduce_all,
                                   reduce_any, reduce_logsumexp, reduce_max, reduce_mean,
                                   reduce_min, reduce_prod, reduce_sum, scalar_mul, shape, size,
                                   squared_difference, squeeze, to_double, to_float, to_int32,
                                   to_int64, transpose, zeros_like)
from graphnn.compat.v1._control_flow import Print, cond, map_fn, scan, while_loop
from graphnn.compat.v1._tf1_names import TF1_NAMES
from graphnn.compat.v1._session import (ConfigProto, GPUOptions, GraphOptions, InteractiveSession,
                                       OptimizerOptions, RunMetadata, RunOptions, Session)
from graphnn.compat.v1._unsupported import UnsupportedTF1Error, missing_names
from graphnn.compat.v1._variables import (AUTO_REUSE, Variable, VariableScope, assign, assign_add,
                                         assign_sub, constant_initializer, get_variable,
                                         get_variable_scope, glorot_normal_initializer,
                                         glorot_uniform_initializer, local_variables,
                                         local_variables_initializer, ones_initializer,
                                         random_normal_initializer, random_uniform_initializer,
                                         truncated_normal_initializer, variable_scope,
                                         variance_scaling_initializer, zeros_initializer)
from graphnn.framework.graph import GraphKeys as _GraphKeys

__version__ = gn.__version__
VERSION = __version__
double, half = float64, float16


class GraphKeys(_GraphKeys):
    """TF 1's collection names."""

    LOCAL_VARIABLES = "local_variables"
    GLOBAL_STEP = "global_step"
    LOSSES = "losses"


class UnconnectedGradients:
    """``tf.gradients(unconnected_gradients=...)``: None or zeros for an unconnected x."""

    NONE = "none"
    ZERO = "zero"


def disable_v2_behavior() -> None:
    """Does nothing: graphnn is always TF 1's graph mode."""


def disable_eager_execution() -> None:
    """Does nothing: graphnn is always TF 1's graph mode."""


def executing_eagerly() -> builtins.bool:
    """False: graphnn builds graphs."""
    return False


def placeholder_with_default(input: Any, shape: Any, name: Optional[str] = None) -> Tensor:  # noqa: A002
    """``tf.placeholder_with_default(input, shape, name=None)``."""
    return gn.placeholder_with_default(input, shape, name=name)


def name_scope(name: Optional[str], default_name: Optional[str] = None,
               values: Any = None) -> Any:
    """``tf.name_scope(name, default_name=None, values=None)``; yields the scope ``"a/b/"``."""
    return gn.name_scope(name if name is not None else default_name)


def split(value: Any, num_or_size_splits: Any, axis: int = 0, num: Optional[int] = None,
          name: str = "split") -> list:
    """``tf.split(value, num_or_size_splits, axis=0, num=None, name='split')``."""
    return gn.split(value, num_or_size_splits, axis=axis, name=name)


def pad(tensor: Any, paddings: Any, mode: str = "CONSTANT", name: Optional[str] = None,
        constant_values: Any = 0) -> Tensor:
    """``tf.pad`` (TF 1 order: ``name`` before ``constant_values``)."""
    return gn.pad(tensor, paddings, mode=mode, constant_values=constant_values, name=name)


def gradients(ys: Any, xs: Any, grad_ys: Any = None, name: str = "gradients",
              colocate_gradients_with_ops: bool = False, gate_gradients: bool = False,
              aggregation_method: Any = None, stop_gradients: Any = None,
              unconnected_gradients: str = UnconnectedGradients.NONE) -> list:
    """``tf.gradients``; the executor options (colocation, gating, aggregation) are ignored."""
    return gn.gradients(ys, xs, grad_ys=grad_ys, name=name, stop_gradients=stop_gradients,
                        unconnected_gradients=unconnected_gradients)


def hessians(ys: Any, xs: Any, name: str = "hessians", colocate_gradients_with_ops: bool = False,
             gate_gradients: bool = False, aggregation_method: Any = None) -> list:
    """``tf.hessians(ys, xs)``."""
    return gn.hessians(ys, xs, name=name)


def _scoped(variables: list, scope: Optional[str]) -> list:
    return variables if scope is None else [v for v in variables if re.match(scope, v.op.name)]


def global_variables(scope: Optional[str] = None) -> list:
    """The default graph's variables, those whose name starts with ``scope`` (a regex) if given."""
    return _scoped(gn.global_variables(), scope)


def trainable_variables(scope: Optional[str] = None) -> list:
    """The default graph's trainable variables, filtered by ``scope`` (a regex) if given."""
    return _scoped(gn.trainable_variables(), scope)


all_variables = global_variables


def global_variables_initializer() -> Operation:
    """One op initializing every global variable."""
    return gn.global_variables_initializer()


initialize_all_variables = global_variables_initializer


def variables_initializer(var_list: Sequence[Any], name: str = "init") -> Operation:
    """One op initializing ``var_list``."""
    return gn.variables_initializer(var_list, name=name)


initialize_variables = variables_initializer


def get_collection(key: str, scope: Optional[str] = None) -> list:
    """The default graph's collection ``key``, filtered by name ``scope`` (a regex) if given."""
    items = get_default_graph().get_collection(key)
    if scope is None:
        return items
    return [item for item in items if re.match(scope, getattr(item, "name", ""))]


def get_collection_ref(key: str) -> list:
    return get_default_graph().get_collection_ref(key)


def add_to_collection(name: str, value: Any) -> None:
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names: Sequence[str], value: Any) -> None:
    get_default_graph().add_to_collections(names, value)


@contextlib.contextmanager
def device(device_name_or_function: Any) -> Iterator[None]:
    """TF 1's placement hint: ``gn.device``, which records the device on the ops created inside.

    graphnn compiles the whole run into one XLA program on the session's device
    (``tf.Session(config=tf.ConfigProto(device_count={"GPU": 0}))`` for the CPU): an
    op's own placement is always soft, as with TF 1's ``allow_soft_placement=True``,
    and ``compile_report`` says where pinned ops went.

    Raises:
        ValueError: not a TF 1 device string (``"/cpu:0"``, ``"/device:GPU:1"``).
        NotImplementedError: a device function.
    """
    if callable(device_name_or_function):
        raise NotImplementedError("tf.device(function) is not supported by graphnn.compat.v1")
    with gn.device(device_name_or_function):
        yield


_HINTS = {
    "contrib": "tf.contrib was removed from TensorFlow and is not provided",
    "enable_eager_execution": "graphnn builds graphs only",
    "enable_v2_behavior": "graphnn provides TF 1's graph mode only",
    "py_func": "graphnn runs whole graphs in XLA, which cannot call Python",
}

__getattr__ = missing_names("", _HINTS)

# The supported TF 1 names (and the error class for except clauses), nothing internal.
__all__ = sorted(name for name in globals()
                 if name in TF1_NAMES[""] or name == "UnsupportedTF1Error")
