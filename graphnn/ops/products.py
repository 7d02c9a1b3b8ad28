"""Products of tensors: MatMul (batched over leading axes), Einsum and tensordot."""
from __future__ import annotations

import re
import string
from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np

from graphnn.errors import DTypeError, ShapeError
from graphnn.framework.shapes import TensorShape, broadcast_shapes
from graphnn.framework.tensor import Tensor
from graphnn.ops.array import broadcast_to, expand_dims
from graphnn.ops.creation import shape
from graphnn.ops.declare import (OpDef, Sample, apply, check_dtype, pair, rand, register,
                                 require, to_tensor)
from graphnn.ops.vjp import vjp_gradient


# ----- MatMul ---------------------------------------------------------------------
def _matmul_infer(inputs, transpose_a: bool = False, transpose_b: bool = False):
    a, b = inputs
    dtype = a.dtype
    if b.dtype is not dtype:  # (DTypes are singletons)
        raise DTypeError(f"MatMul operands must have one dtype; got {a.dtype} ('{a.name}') "
                         f"and {b.dtype} ('{b.name}')")
    check_dtype(a, "numeric")
    dims_a, dims_b = a.shape.dims, b.shape.dims
    if dims_a is None or dims_b is None:
        return [(TensorShape(None), dtype)]
    if len(dims_a) < 2 or len(dims_b) < 2:  # (no message formatted on the hot path)
        raise ShapeError(f"MatMul needs tensors of rank >= 2; got shapes {a.shape} and "
                         f"{b.shape}")
    rows, inner_a = dims_a[-2:] if not transpose_a else reversed(dims_a[-2:])
    inner_b, cols = dims_b[-2:] if not transpose_b else reversed(dims_b[-2:])
    if inner_a is not None and inner_b is not None and inner_a != inner_b:
        raise ShapeError(f"Dimensions must be equal, but are {inner_a} and {inner_b}")
    if len(dims_a) == 2 and len(dims_b) == 2:
        return [(TensorShape((rows, cols)), dtype)]
    batch = broadcast_shapes(TensorShape(dims_a[:-2]), TensorShape(dims_b[:-2]))
    return [(TensorShape(batch.as_list() + [rows, cols]), dtype)]


def _swap_last(x):
    return jnp.swapaxes(x, -1, -2)


def _matmul_lower(a, b, transpose_a: bool = False, transpose_b: bool = False):
    if a.ndim == 2 and b.ndim == 2:
        # Contract the right axes directly: an explicit transpose would cost XLA a copy.
        contract = ((0 if transpose_a else 1,), (1 if transpose_b else 0,))
        return jax.lax.dot_general(a, b, (contract, ((), ())))
    if transpose_a:
        a = _swap_last(a)
    if transpose_b:
        b = _swap_last(b)
    return jnp.matmul(a, b)


def _matmul_reference(a, b, transpose_a: bool = False, transpose_b: bool = False):
    a = np.swapaxes(a, -1, -2) if transpose_a else a
    b = np.swapaxes(b, -1, -2) if transpose_b else b
    return np.matmul(a, b)


def _matmul_samples(rng, dtype):
    return [Sample((rand(rng, (3, 4), dtype), rand(rng, (4, 2), dtype))),
            Sample((rand(rng, (4, 3), dtype), rand(rng, (4, 2), dtype)), {"transpose_a": True}),
            Sample((rand(rng, (3, 4), dtype), rand(rng, (2, 4), dtype)), {"transpose_b": True}),
            Sample((rand(rng, (2, 3, 4), dtype), rand(rng, (2, 4, 5), dtype)))]


def _matmul_grad(op, g, needed=(True, True)):
    a, b = op.inputs
    ta, tb = op.attrs.get("transpose_a", False), op.attrs.get("transpose_b", False)
    if not ta and not tb:
        grads = (lambda: matmul(g, b, transpose_b=True), lambda: matmul(a, g, transpose_a=True))
    elif not ta and tb:
        grads = (lambda: matmul(g, b), lambda: matmul(g, a, transpose_a=True))
    elif ta and not tb:
        grads = (lambda: matmul(b, g, transpose_b=True), lambda: matmul(a, g))
    else:
        grads = (lambda: matmul(b, g, transpose_a=True, transpose_b=True),
                 lambda: matmul(g, a, transpose_a=True, transpose_b=True))
    return [grad() if need else None for grad, need in zip(grads, needed)]


register(OpDef("MatMul", infer=_matmul_infer, lower=_matmul_lower, reference=_matmul_reference,
               samples=_matmul_samples, grad=_matmul_grad, grad_skips_inputs=True,
               broadcasts=True))  # batch axes


# ----- Einsum ---------------------------------------------------------------------
def _parse_einsum(equation: str, n_inputs: int) -> tuple[list[str], str]:
    equation = equation.replace(" ", "")
    if "->" in equation:
        lhs, out = equation.split("->")
    else:
        lhs = equation
        letters = lhs.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    terms = lhs.split(",")
    require(len(terms) == n_inputs,
            f"einsum equation {equation!r} names {len(terms)} operands but {n_inputs} were given",
            ValueError)
    return terms, out


def _einsum_infer(inputs, equation: str):
    terms, out = _parse_einsum(equation, len(inputs))
    dtype = inputs[0].dtype
    for t in inputs:
        if t.dtype != dtype:
            raise DTypeError(f"einsum operands must share one dtype; got {dtype} and {t.dtype}")
    if "." in equation or any(t.shape.ndims is None for t in inputs):
        return [(TensorShape(None), dtype)]
    sizes: dict[str, Any] = {}
    for term, t in zip(terms, inputs):
        require(len(term) == t.shape.ndims,
                f"einsum term {term!r} has {len(term)} letters but its operand '{t.name}' has "
                f"rank {t.shape.ndims}")
        for letter, dim in zip(term, t.shape.dims):
            known = sizes.get(letter)
            if known is not None and dim is not None and known != dim and 1 not in (known, dim):
                raise ShapeError(f"einsum dimension {letter!r} is {known} in one operand "
                                 f"and {dim} in another")
            if known is None or known == 1:
                sizes[letter] = dim
    return [(TensorShape([sizes[c] for c in out]), dtype)]


def _einsum_samples(rng, dtype):
    return [Sample((rand(rng, (3, 4), dtype), rand(rng, (4, 5), dtype)), {"equation": "ij,jk->ik"}),
            Sample((rand(rng, (2, 3), dtype),), {"equation": "ij->j"}),
            Sample((rand(rng, (2, 3, 4), dtype), rand(rng, (4,), dtype)), {"equation": "bij,j"})]


def _einsum_grad(op, g):
    """Each operand's gradient is an einsum of g with the other operands; letters summed
    away in that operand alone are broadcast back."""
    terms, out = _parse_einsum(op.attrs["equation"], len(op.inputs))
    if "." in op.attrs["equation"] or any(len(set(t)) != len(t) for t in terms + [out]):
        return vjp_gradient(op, g)
    grads = []
    for i, (term, x) in enumerate(zip(terms, op.inputs)):
        others = [t for j, t in enumerate(terms) if j != i]
        available = set(out).union(*others)
        kept = "".join(c for c in term if c in available)
        equation = ",".join([out] + others) + "->" + kept
        grad = apply("Einsum", [g] + [t for j, t in enumerate(op.inputs) if j != i],
                     {"equation": equation})
        if kept != term:
            for axis, letter in enumerate(term):
                if letter not in available:
                    grad = expand_dims(grad, axis)
            grad = broadcast_to(grad, shape(x))
        grads.append(grad)
    return grads


register(OpDef("Einsum", infer=_einsum_infer,
               lower=lambda *xs, equation: jnp.einsum(equation, *xs),
               reference=lambda *xs, equation: np.einsum(equation, *xs),
               samples=_einsum_samples, grad=_einsum_grad))


# ----- public functions -------------------------------------------------------------
def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False,
           name: Optional[str] = None) -> Tensor:
    """Matrix product of the last two axes (batched over leading axes).

    Example:
        >>> y = gn.matmul(x, W)  # x: (?, 784), W: (784, 10) -> (?, 10)
    """
    a, b = pair(a, b)
    return apply("MatMul", [a, b], {"transpose_a": bool(transpose_a),
                                    "transpose_b": bool(transpose_b)}, name=name)


def einsum(equation: str, *inputs: Any, name: Optional[str] = None) -> Tensor:
    """Einstein summation, as ``numpy.einsum``.

    Example:
        >>> gn.einsum("ij,jk->ik", a, b)  # matmul
    """
    if not re.fullmatch(r"[a-zA-Z.,\->\s]+", equation):
        raise ValueError(f"Invalid einsum equation {equation!r}")
    return apply("Einsum", [to_tensor(t) for t in inputs], {"equation": equation}, name=name)


def tensordot(a: Any, b: Any, axes: Any, name: Optional[str] = None) -> Tensor:
    """Sums products over the given axes of ``a`` and ``b`` (``numpy.tensordot``), as one Einsum.

    Example:
        >>> gn.tensordot(a, b, axes=1)  # same as matmul for matrices
    """
    a, b = pair(a, b)
    rank_a, rank_b = a.shape.ndims, b.shape.ndims
    if rank_a is None or rank_b is None:
        raise ValueError("tensordot needs operands of known rank")
    if isinstance(axes, int):
        axes_a, axes_b = list(range(rank_a - axes, rank_a)), list(range(axes))
    else:
        axes_a, axes_b = ([axes[0]] if isinstance(axes[0], int) else list(axes[0]),
                          [axes[1]] if isinstance(axes[1], int) else list(axes[1]))
    axes_a = [ax % rank_a for ax in axes_a]
    axes_b = [ax % rank_b for ax in axes_b]
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot axes {axes_a} and {axes_b} must have the same length")
    letters = iter(string.ascii_letters)
    term_a = [next(letters) for _ in range(rank_a)]
    term_b = [next(letters) for _ in range(rank_b)]
    for ax_a, ax_b in zip(axes_a, axes_b):
        term_b[ax_b] = term_a[ax_a]
    out = ([c for i, c in enumerate(term_a) if i not in axes_a]
           + [c for i, c in enumerate(term_b) if i not in axes_b])
    equation = f"{''.join(term_a)},{''.join(term_b)}->{''.join(out)}"
    return apply("Einsum", [a, b], {"equation": equation}, name=name or "Tensordot")
