"""Tensor: a symbolic value, one output of an Operation.

Operators (``+ - * / // % ** @``, comparisons, ``x[...]``) create ops in the
tensor's own graph through ``Graph.create_op`` (in the control-flow body being built,
when there is one); the op types they use are
declared in ``graphnn.ops`` like every other op.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphnn.errors import DTypeError
from graphnn.framework import session_stack, values
from graphnn.framework.dtypes import DType
from graphnn.framework.location import user_location
from graphnn.framework.shapes import TensorShape
from graphnn.framework.slicing import normalize_index

if TYPE_CHECKING:
    from graphnn.framework.graph import Graph, Operation

_BOOL_HELP = ("Using a symbolic graphnn Tensor as a Python bool is not allowed: its value "
              "only exists when a Session runs the graph. Use `if t is not None:` to test "
              "for existence, gn.where(...) for element-wise choices, or evaluate it with "
              "sess.run(t) first.")


class Tensor:
    """A symbolic handle to one output of an Operation.

    Example:
        >>> x = gn.placeholder(gn.float32, shape=[None, 3], name="x")
        >>> y = 2 * x + 1
        >>> y.shape.as_list(), y.dtype, x.name
        ([None, 3], gn.float32, 'x:0')
    """

    def __init__(self, op: Operation, value_index: int, shape: TensorShape, dtype: DType):
        self.op = op
        self.value_index = value_index
        self._shape = shape
        self._dtype = dtype

    @property
    def graph(self) -> Graph:
        return self.op.graph

    @property
    def name(self) -> str:
        return f"{self.op.name}:{self.value_index}"

    @property
    def dtype(self) -> DType:
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape: Any) -> None:
        """Refines the static shape (as TF 1); raises ShapeError when incompatible."""
        self._shape = self._shape.merge_with(shape)

    @property
    def ndim(self) -> int | None:
        return self._shape.ndims

    def consumers(self) -> list[Operation]:
        return self.graph.consumers_of(self)

    def eval(self, feed_dict: dict | None = None, session: Any = None):
        """Runs the graph to compute this tensor in ``session`` or the default session."""
        return session_stack.resolve(session, f"Tensor '{self.name}'").run(self, feed_dict=feed_dict)

    def __repr__(self) -> str:
        return f"<gn.Tensor '{self.name}' shape={self._shape} dtype={self._dtype.name}>"

    # numpy defers to our reflected operators: np.float32(2) * t and ndarray + t make ops.
    __array_ufunc__ = None
    __array_priority__ = 100

    # Identity semantics (as TF 1) keep tensors usable as feed_dict keys.
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __bool__(self) -> bool:
        raise TypeError(_BOOL_HELP)

    def __iter__(self):
        raise TypeError(f"Tensor '{self.name}' is not iterable: a symbolic tensor has no "
                        f"values to loop over. Index it (t[0]), use gn.split/gn.unstack, or "
                        f"evaluate it with sess.run first.")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(f"Cannot convert symbolic Tensor '{self.name}' to a numpy array; "
                        f"evaluate it with sess.run first.")

    def __add__(self, other): return _binary("Add", self, other)
    def __radd__(self, other): return _binary("Add", other, self)
    def __sub__(self, other): return _binary("Sub", self, other)
    def __rsub__(self, other): return _binary("Sub", other, self)
    def __mul__(self, other): return _binary("Mul", self, other)
    def __rmul__(self, other): return _binary("Mul", other, self)
    def __truediv__(self, other): return _binary("RealDiv", self, other)
    def __rtruediv__(self, other): return _binary("RealDiv", other, self)
    def __floordiv__(self, other): return _binary("FloorDiv", self, other)
    def __rfloordiv__(self, other): return _binary("FloorDiv", other, self)
    def __mod__(self, other): return _binary("FloorMod", self, other)
    def __rmod__(self, other): return _binary("FloorMod", other, self)
    def __pow__(self, other): return _binary("Pow", self, other)
    def __rpow__(self, other): return _binary("Pow", other, self)
    def __matmul__(self, other): return _binary("MatMul", self, other)
    def __rmatmul__(self, other): return _binary("MatMul", other, self)
    def __lt__(self, other): return _binary("Less", self, other)
    def __le__(self, other): return _binary("LessEqual", self, other)
    def __gt__(self, other): return _binary("Greater", self, other)
    def __ge__(self, other): return _binary("GreaterEqual", self, other)
    def __and__(self, other): return _binary("LogicalAnd", self, other)
    def __rand__(self, other): return _binary("LogicalAnd", other, self)
    def __or__(self, other): return _binary("LogicalOr", self, other)
    def __ror__(self, other): return _binary("LogicalOr", other, self)

    def __neg__(self): return self._unary("Neg")
    def __abs__(self): return self._unary("Abs")
    def __invert__(self): return self._unary("LogicalNot")

    def _unary(self, op_type: str, attrs: dict | None = None) -> Tensor:
        return self.graph.graph_for_ops_on().create_op(op_type, [self], attrs).outputs[0]

    def __getitem__(self, index: Any) -> Tensor:
        spec = normalize_index(index, self)
        return self._unary("StridedSlice", {"index": spec})


def binary_operands(x: Any, y: Any, op_type: str = "") -> tuple[Tensor, Tensor]:
    """Converts the non-Tensor operand of a binary op to the other operand's dtype.

    At least one of ``x``, ``y`` must be a Tensor. Two tensors must have the same
    dtype, as in TensorFlow: mixing float32 and float64 is an error naming both.
    """
    if isinstance(x, Tensor) and isinstance(y, Tensor):
        if x.dtype != y.dtype:
            file, line = user_location()
            raise DTypeError(f"Incompatible dtypes for {op_type or 'a binary op'}: Tensor "
                             f"'{x.name}' is {x.dtype} but Tensor '{y.name}' is {y.dtype}; cast "
                             f"one of them with gn.cast (at {file}:{line})")
        if x.graph.graph_for_ops_on(y.graph) is None:
            raise ValueError(f"Tensors '{x.name}' and '{y.name}' belong to different graphs")
        return x, y
    if isinstance(x, Tensor):
        return x, constant_like(y, x)
    return constant_like(x, y), y


def constant_like(value: Any, other: Tensor) -> Tensor:
    """A Const in ``other``'s graph holding ``value`` converted to ``other``'s dtype."""
    try:
        array = values.to_numpy(value, other.dtype)
    except DTypeError as error:
        raise DTypeError(f"{error} (the other operand is Tensor '{other.name}' of dtype "
                         f"{other.dtype})") from None
    return other.graph.graph_for_ops_on().constant(array)


def _binary(op_type: str, x: Any, y: Any) -> Tensor:
    x, y = binary_operands(x, y, op_type)
    return x.graph.graph_for_ops_on(y.graph).create_op(op_type, [x, y]).outputs[0]
