"""Element-wise arithmetic, comparisons, logic and AddN (products: ``ops.products``)."""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np

from graphnn.errors import DTypeError
from graphnn.framework import dtypes
from graphnn.framework.registry import ValueCheck
from graphnn.framework.tensor import Tensor
from graphnn.ops.creation import ones_like, shape, where, zeros_like
from graphnn.ops.declare import (OpDef, Sample, apply, broadcast_infer, broadcast_pairs,
                                 float_sample_shapes, pair, positive, rand, register, require,
                                 same_as_input, to_tensor)


def _sigmoid_np(x):
    return 1.0 / (1.0 + np.exp(-x))


# ----- unary element-wise ops -------------------------------------------------
def _unary_samples(domain: str, kind: str) -> Callable:
    def samples(rng, dtype):
        if kind == "bool":
            return [Sample((rand(rng, s, dtypes.bool_),)) for s in float_sample_shapes]
        draw = {"any": rand, "positive": positive,
                "log1p": lambda r, s, d: rand(r, s, d, -0.5, 2.0)}[domain]
        cases = [Sample((draw(rng, s, dtype),)) for s in float_sample_shapes]
        if kind == "numeric":
            cases.append(Sample((rand(rng, (5,), dtypes.int32, -5, 5),)))
        return cases
    return samples


def _declare_unary(op_type: str, jax_fn: Callable, numpy_fn: Callable, grad: Optional[Callable],
                   kind: str = "float", domain: str = "any", exact: bool = False) -> None:
    def reference(x):
        return np.asarray(numpy_fn(x)).astype(x.dtype)

    register(OpDef(op_type, infer=same_as_input(kind), lower=jax_fn, reference=reference,
                   samples=_unary_samples(domain, kind), grad=grad,
                   differentiable=grad is not None, numpy_exact=exact))


# Gradient rules: ``rule(op, grad) -> [input gradients]``; x is the input, y the output.
def _x(op):
    return op.inputs[0]


def _y(op):
    return op.outputs[0]


# Lowered to the lax primitive itself where jax.numpy's function would only promote (never
# needed: an op's inputs have its dtype) before binding it: the same program, traced about
# three times faster, since each jax.numpy call is a jit of its own (deep graphs, issue 20).
# Exact in numpy (``numpy_exact``): sign flips, IEEE-rounded arithmetic, comparisons and
# logic; not the transcendental functions, whose last bits differ between libraries.
_declare_unary("Neg", jax.lax.neg, np.negative, lambda op, g: [-g], "numeric", exact=True)
_declare_unary("Abs", jnp.abs, np.abs, lambda op, g: [g * sign(_x(op))], "numeric", exact=True)
_declare_unary("Sign", jnp.sign, np.sign, lambda op, g: [zeros_like(_x(op))], "numeric")
_declare_unary("Square", jnp.square, np.square, lambda op, g: [g * (2.0 * _x(op))], "numeric")
_declare_unary("Exp", jax.lax.exp, np.exp, lambda op, g: [g * _y(op)])
_declare_unary("Log", jax.lax.log, np.log, lambda op, g: [g / _x(op)], domain="positive")
_declare_unary("Log1p", jax.lax.log1p, np.log1p, lambda op, g: [g / (1.0 + _x(op))], domain="log1p")
# As TF: 0.5 * g / sqrt(x), which is inf (or nan for g = 0) at x = 0.
_declare_unary("Sqrt", jax.lax.sqrt, np.sqrt, lambda op, g: [(g * 0.5) / _y(op)], domain="positive")
_declare_unary("Rsqrt", jax.lax.rsqrt, lambda x: 1.0 / np.sqrt(x),
               lambda op, g: [g * (-0.5 * _y(op) * _y(op) * _y(op))], domain="positive")
_declare_unary("Sin", jax.lax.sin, np.sin, lambda op, g: [g * cos(_x(op))])
_declare_unary("Cos", jax.lax.cos, np.cos, lambda op, g: [-(g * sin(_x(op)))])
_declare_unary("Tanh", jax.lax.tanh, np.tanh,
               lambda op, g: [apply("TanhGrad", [_y(op), g])])
_declare_unary("Sigmoid", jax.lax.logistic, _sigmoid_np,
               lambda op, g: [apply("SigmoidGrad", [_y(op), g])])
_declare_unary("LogicalNot", jnp.logical_not, np.logical_not, None, "bool", exact=True)


# ----- binary element-wise ops ------------------------------------------------
def _binary_samples(kind: str, right: str = "any", with_ints: bool = True) -> Callable:
    def samples(rng, dtype):
        if kind == "bool":
            return [Sample((rand(rng, a, dtypes.bool_), rand(rng, b, dtypes.bool_)))
                    for a, b in broadcast_pairs]
        draw_left = positive if right == "positive_both" else rand
        draw_right = rand if right == "any" else positive
        cases = [Sample((draw_left(rng, a, dtype), draw_right(rng, b, dtype)))
                 for a, b in broadcast_pairs]
        if with_ints:
            low = 1 if right == "positive" else -4
            cases.append(Sample((rand(rng, (2, 3), dtypes.int32, -6, 6),
                                 rand(rng, (3,), dtypes.int32, low, 4))))
        return cases
    return samples


def _declare_binary(op_type: str, jax_fn: Callable, numpy_fn: Callable, grad: Optional[Callable],
                    kind: str = "numeric", right: str = "any", out_bool: bool = False,
                    with_ints: bool = True, check: Optional[Callable] = None,
                    exact: Union[bool, Callable] = False) -> None:
    def reference(x, y):
        result = np.asarray(numpy_fn(x, y))
        return result if out_bool else result.astype(x.dtype)

    register(OpDef(op_type, infer=broadcast_infer(kind, dtypes.bool_ if out_bool else None),
                   lower=jax_fn, reference=reference, grad=grad, differentiable=grad is not None,
                   check=check, numpy_exact=exact, broadcasts=True,
                   samples=_binary_samples(kind, right, with_ints and kind != "bool")))


def _numpy_broadcasting(primitive: Callable) -> Callable:
    """The lax binary ``primitive`` with numpy's broadcasting, as its jax.numpy function
    lowers it (the same jaxpr: tested) when both operands have one dtype.

    A lax primitive broadcasts a scalar and dimensions of size 1 itself; an operand of
    lower rank gets leading axes of size 1 first, as jax.numpy gives it.
    """
    def lower(x, y):
        if x.ndim and y.ndim and x.ndim != y.ndim:
            if x.ndim < y.ndim:
                x = jax.lax.expand_dims(x, tuple(range(y.ndim - x.ndim)))
            else:
                y = jax.lax.expand_dims(y, tuple(range(x.ndim - y.ndim)))
        return primitive(x, y)
    return lower


def _integer_with_nonzero_divisor(op, values) -> bool:
    # numpy and XLA differ on integer division by zero and on the sign of a float zero.
    return op.inputs[0].dtype.is_integer and bool(np.all(values[1]))


def _no_tie_of_zeros(op, values) -> bool:
    # max(-0.0, 0.0): numpy returns the first operand, XLA +0.0.
    return not (np.any(values[0] == 0) and np.any(values[1] == 0)) \
        or not op.inputs[0].dtype.is_floating


def _pow_grad(op, g):
    x, y = op.inputs
    z = op.outputs[0]
    positive = x > 0
    # d(x**y)/dy = x**y * log(x), defined as 0 where x <= 0 (as TF).
    safe_log = log(where(positive, x, ones_like(x)))
    return [g * y * pow(x, y - 1.0), where(positive, g * z * safe_log, zeros_like(z))]


def _select_grad(mask_fn: Callable) -> Callable:
    def rule(op, g):
        mask = mask_fn(*op.inputs)
        zeros = zeros_like(g)
        return [where(mask, g, zeros), where(mask, zeros, g)]
    return rule


_declare_binary("Add", _numpy_broadcasting(jax.lax.add), np.add, lambda op, g: [g, g],
                exact=True)
_declare_binary("Sub", _numpy_broadcasting(jax.lax.sub), np.subtract, lambda op, g: [g, -g],
                exact=True)
_declare_binary("Mul", _numpy_broadcasting(jax.lax.mul), np.multiply,
                lambda op, g: [g * op.inputs[1], g * op.inputs[0]], exact=True)


def _integer_divisor_check(inputs):
    """TF 1 refuses an integer division by zero (XLA would return an arbitrary number)."""
    if not inputs[1].dtype.is_integer:
        return None
    return ValueCheck(input=1, bound=lambda shapes: 0, bad=lambda divisor, bound: divisor == 0,
                      message=lambda position, value, bound: "Integer division by zero")


def _floor_divide(x, y):
    # A float division by zero gives x / 0 (inf, -inf or nan), as numpy and TF 1 do; jax's
    # floor_divide gives nan for every x before jax 0.10.2, so the result is said here.
    if jnp.issubdtype(x.dtype, jnp.floating):
        return jnp.where(y == 0, x / y, jnp.floor_divide(x, y))
    return jnp.floor_divide(x, y)


_declare_binary("FloorDiv", _floor_divide, np.floor_divide, None, right="positive",
                check=_integer_divisor_check, exact=_integer_with_nonzero_divisor)
_declare_binary("FloorMod", jnp.remainder, np.remainder,
                lambda op, g: [g, -(g * floordiv(*op.inputs))], right="positive",
                check=_integer_divisor_check, exact=_integer_with_nonzero_divisor)
_declare_binary("Pow", jnp.power, np.power, _pow_grad, right="positive_both", with_ints=False)
_declare_binary("Maximum", jnp.maximum, np.maximum, _select_grad(lambda x, y: x >= y),
                exact=_no_tie_of_zeros)
_declare_binary("Minimum", jnp.minimum, np.minimum, _select_grad(lambda x, y: x <= y),
                exact=_no_tie_of_zeros)
_declare_binary("Less", jnp.less, np.less, None, out_bool=True, exact=True)
_declare_binary("LessEqual", jnp.less_equal, np.less_equal, None, out_bool=True, exact=True)
_declare_binary("Greater", jnp.greater, np.greater, None, out_bool=True, exact=True)
_declare_binary("GreaterEqual", jnp.greater_equal, np.greater_equal, None, out_bool=True,
                exact=True)
_declare_binary("Equal", jnp.equal, np.equal, None, kind="any", out_bool=True, exact=True)
_declare_binary("NotEqual", jnp.not_equal, np.not_equal, None, kind="any", out_bool=True,
                exact=True)
_declare_binary("LogicalAnd", jnp.logical_and, np.logical_and, None, kind="bool", out_bool=True,
                exact=True)
_declare_binary("LogicalOr", jnp.logical_or, np.logical_or, None, kind="bool", out_bool=True,
                exact=True)


# ----- TanhGrad, SigmoidGrad: the gradients of tanh and sigmoid from their output y ------
# TF 1's fused gradient ops: one node where the rules would build four (a constant 1, a
# subtraction and two products), so a deep or unrolled graph carries far fewer gradient
# nodes to copy, optimize and compile. The values are those four ops', in the same order.
def _tanh_grad_lower(y, g):
    return _mul(g, jax.lax.sub(np.array(1, y.dtype), jax.lax.mul(y, y)))


def _tanh_grad_reference(y, g):
    return (g * (np.array(1, y.dtype) - y * y)).astype(y.dtype)


def _tanh_grad_grad(op, up):
    # d/dy of g * (1 - y * y) is -2 * g * y; d/dg is (1 - y * y), applied by TanhGrad itself.
    y, g = op.inputs
    return [up * (g * (-2.0 * y)), apply("TanhGrad", [y, up])]


def _sigmoid_grad_lower(y, g):
    return _mul(g, _mul(y, jax.lax.sub(np.array(1, y.dtype), y)))


def _sigmoid_grad_reference(y, g):
    return (g * (y * (np.array(1, y.dtype) - y))).astype(y.dtype)


def _sigmoid_grad_grad(op, up):
    # d/dy of g * y * (1 - y) is g * (1 - 2 * y); d/dg is y * (1 - y).
    y, g = op.inputs
    return [up * (g * (1.0 - 2.0 * y)), apply("SigmoidGrad", [y, up])]


_mul = _numpy_broadcasting(jax.lax.mul)
for _type, _lower, _reference, _grad in (
        ("TanhGrad", _tanh_grad_lower, _tanh_grad_reference, _tanh_grad_grad),
        ("SigmoidGrad", _sigmoid_grad_lower, _sigmoid_grad_reference, _sigmoid_grad_grad)):
    register(OpDef(_type, infer=broadcast_infer("float"), lower=_lower, reference=_reference,
                   samples=_binary_samples("float", with_ints=False), grad=_grad,
                   broadcasts=True, numpy_exact=True))


def _true_div_dtype(dtype: dtypes.DType) -> dtypes.DType:
    """TF 1 truediv: small ints divide in float32, int32/int64 in float64."""
    if dtype.is_floating:
        return dtype
    if dtype.is_bool:
        raise DTypeError("division is not defined for bool tensors")
    return dtypes.float64 if dtype.size >= 4 else dtypes.float32


def _real_div_infer(inputs, **attrs):
    (shape, dtype), = broadcast_infer("numeric")(inputs)
    return [(shape, _true_div_dtype(dtype))]


def _real_div_lower(x, y):
    out = _true_div_dtype(dtypes.as_dtype(x.dtype)).as_numpy_dtype
    return jnp.true_divide(x.astype(out), y.astype(out))


def _real_div_reference(x, y):
    out = _true_div_dtype(dtypes.as_dtype(x.dtype)).as_numpy_dtype
    return np.true_divide(x.astype(out), y.astype(out))


def _division_is_exact(op, values) -> bool:
    # XLA divides by the reciprocal of a divisor it broadcasts, numpy divides: the same bits
    # when the divisor is not broadcast, or when it is a power of two.
    divisor = np.asarray(values[1])
    if divisor.shape == tuple(op.outputs[0].shape.as_list()):
        return True
    mantissas, _ = np.frexp(divisor)
    with np.errstate(divide="ignore"):
        inverse = 1 / divisor.astype(op.outputs[0].dtype.as_numpy_dtype)
    return bool(np.all(np.abs(mantissas) == 0.5) and np.all(np.isfinite(inverse))
                and np.all(np.abs(inverse) >= np.finfo(inverse.dtype).tiny))


def _real_div_grad(op, g):
    x, y = op.inputs
    return [g / y, -(g * x) / (y * y)]


register(OpDef("RealDiv", infer=_real_div_infer, lower=_real_div_lower,
               reference=_real_div_reference, samples=_binary_samples("numeric", "positive"),
               grad=_real_div_grad, broadcasts=True, numpy_exact=_division_is_exact))


# ----- AddN ---------------------------------------------------------------------
ADD_N_OP = "AddN"


def _add_n_infer(inputs, **attrs):
    require(len(inputs) >= 1, "AddN needs at least one input", ValueError)
    shape = inputs[0].shape
    for t in inputs[1:]:
        if t.dtype != inputs[0].dtype:
            raise DTypeError(f"all inputs must have one dtype; got {inputs[0].dtype} and {t.dtype}")
        if t.shape.dims == shape.dims:
            continue  # the usual case (a gradient's sum over 1,000 steps): no message to format
        require(t.shape.is_compatible_with(shape),
                f"all inputs must have the same shape; got {inputs[0].shape} and {t.shape}")
        shape = shape.merge_with(t.shape)
    return [(shape, inputs[0].dtype)]


def _add_n_lower(*xs):
    total = xs[0]
    for x in xs[1:]:
        total = jax.lax.add(total, x)  # one shape: jnp.add would bind just this
    return total


def _add_n_samples(rng, dtype):
    return [Sample(tuple(rand(rng, (3, 2), dtype) for _ in range(n))) for n in (1, 3)]


register(OpDef(ADD_N_OP, infer=_add_n_infer, lower=_add_n_lower,
               reference=lambda *xs: np.sum(np.stack(xs), axis=0).astype(xs[0].dtype),
               samples=_add_n_samples, grad=lambda op, g: [g] * len(op.inputs)))


# ----- public functions -------------------------------------------------------------
def _unary_function(op_type: str, public_name: str, summary: str) -> Callable:
    def function(x: Any, name: Optional[str] = None) -> Tensor:
        return apply(op_type, [to_tensor(x)], name=name)
    function.__name__ = function.__qualname__ = public_name
    function.__doc__ = (f"{summary}\n\n    Example:\n        >>> gn.{public_name}"
                        f"(gn.constant([1.0, 2.0]))  # a {op_type} op\n    ")
    return function


def _binary_function(op_type: str, public_name: str, summary: str) -> Callable:
    def function(x: Any, y: Any, name: Optional[str] = None) -> Tensor:
        x, y = pair(x, y, op_type)
        return apply(op_type, [x, y], name=name)
    function.__name__ = function.__qualname__ = public_name
    function.__doc__ = (f"{summary} Numpy broadcasting; a Python scalar takes the other "
                        f"operand's dtype.\n\n    Example:\n        >>> gn.{public_name}"
                        f"(gn.constant([1.0, 2.0]), 3.0)  # a {op_type} op\n    ")
    return function


negative = _unary_function("Neg", "negative", "Element-wise -x.")
abs = _unary_function("Abs", "abs", "Element-wise |x|.")  # noqa: A001 (TF's name)
sign = _unary_function("Sign", "sign", "Element-wise sign: -1, 0 or 1.")
square = _unary_function("Square", "square", "Element-wise x**2.")
exp = _unary_function("Exp", "exp", "Element-wise e**x.")
log = _unary_function("Log", "log", "Element-wise natural logarithm.")
log1p = _unary_function("Log1p", "log1p", "Element-wise log(1 + x), accurate for small x.")
sqrt = _unary_function("Sqrt", "sqrt", "Element-wise square root.")
rsqrt = _unary_function("Rsqrt", "rsqrt", "Element-wise 1 / sqrt(x).")
sin = _unary_function("Sin", "sin", "Element-wise sine.")
cos = _unary_function("Cos", "cos", "Element-wise cosine.")
tanh = _unary_function("Tanh", "tanh", "Element-wise hyperbolic tangent.")
sigmoid = _unary_function("Sigmoid", "sigmoid", "Element-wise logistic function 1 / (1 + e**-x).")
logical_not = _unary_function("LogicalNot", "logical_not", "Element-wise boolean NOT.")

add = _binary_function("Add", "add", "Element-wise x + y.")
subtract = _binary_function("Sub", "subtract", "Element-wise x - y.")
multiply = _binary_function("Mul", "multiply", "Element-wise x * y.")
divide = _binary_function("RealDiv", "divide", "Element-wise true division x / y (ints give floats).")
floordiv = _binary_function("FloorDiv", "floordiv", "Element-wise x // y (rounds toward -inf).")
floormod = _binary_function("FloorMod", "floormod", "Element-wise x % y (sign of y).")
pow = _binary_function("Pow", "pow", "Element-wise x ** y.")  # noqa: A001 (TF's name)
maximum = _binary_function("Maximum", "maximum", "Element-wise max(x, y).")
minimum = _binary_function("Minimum", "minimum", "Element-wise min(x, y).")
equal = _binary_function("Equal", "equal", "Element-wise x == y, as bool.")
not_equal = _binary_function("NotEqual", "not_equal", "Element-wise x != y, as bool.")
less = _binary_function("Less", "less", "Element-wise x < y, as bool.")
less_equal = _binary_function("LessEqual", "less_equal", "Element-wise x <= y, as bool.")
greater = _binary_function("Greater", "greater", "Element-wise x > y, as bool.")
greater_equal = _binary_function("GreaterEqual", "greater_equal", "Element-wise x >= y, as bool.")
logical_and = _binary_function("LogicalAnd", "logical_and", "Element-wise boolean AND.")
logical_or = _binary_function("LogicalOr", "logical_or", "Element-wise boolean OR.")
truediv = divide
mod = floormod


def add_n(inputs: Sequence[Any], name: Optional[str] = None) -> Tensor:
    """Sums a list of tensors of one shape and dtype in a single op.

    Example:
        >>> gn.add_n([gn.constant(1.0), gn.constant(2.0), gn.constant(3.0)])
    """
    tensors = [to_tensor(t) for t in inputs]
    if not tensors:
        raise ValueError("add_n needs a non-empty list of tensors")
    return apply("AddN", tensors, name=name)


def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any,
                  name: Optional[str] = None) -> Tensor:
    """Clamps ``t`` to [clip_value_min, clip_value_max]: a Minimum then a Maximum, as in
    TensorFlow 1 (so at a bound the gradient goes to ``t``, and crossed bounds give the
    minimum), in a ``clip_by_value`` name scope whose last op takes the scope's name, as
    TF 1 draws it. The bounds may not broadcast ``t`` to a larger shape.

    Example:
        >>> gn.clip_by_value(x, 0.0, 1.0)
    """
    t = to_tensor(t)
    with t.graph.name_scope(name or "clip_by_value") as scope:
        clipped = maximum(minimum(t, clip_value_max), clip_value_min, name=scope)
    if not t.shape.is_compatible_with(clipped.shape):
        raise ValueError(f"clip_by_value: the bounds would broadcast Tensor '{t.name}' of shape "
                         f"{t.shape} to shape {clipped.shape}")
    return clipped
