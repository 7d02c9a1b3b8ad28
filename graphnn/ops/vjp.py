"""VJP: the gradient of any op through JAX's own differentiation of its lowering.

``VJP(of=T, index=i)(g, *inputs)`` is the vector-Jacobian product of op type T
with respect to its i-th input. It is a graph node like any other (drawn, named,
with provenance), used as the gradient rule of ops whose hand-written rule would
only restate their lowering (convolution, pooling, slicing, gathering). A VJP
node is itself differentiable the same way, so gradients of any order work.
"""
from __future__ import annotations

from typing import Optional

import jax

from graphnn.framework.graph import Operation
from graphnn.framework.registry import ValueCheck, lookup, lowering
from graphnn.framework.tensor import Tensor
from graphnn.ops.declare import OpDef, Sample, apply, rand, register


def _vjp_infer(inputs, of, of_attrs, index):
    target = inputs[1 + index]
    return [(target.shape, target.dtype)]


def _vjp_lower(cotangent, *primals, of, of_attrs, index):
    forward = lowering(lookup(of))  # the forward's lowering in this program

    def along_input(value):
        args = list(primals)
        args[index] = value
        return forward(*args, **of_attrs)

    _, pullback = jax.vjp(along_input, primals[index])
    return pullback(cotangent)[0]


def vjp_gradient(op: Operation, grad: Tensor) -> list[Optional[Tensor]]:
    """Gradient rule for any single-output op: one VJP node per floating-point input."""
    return [apply("VJP", [grad, *op.inputs], {"of": op.type, "of_attrs": dict(op.attrs),
                                              "index": i}, name=f"{op.type}_vjp")
            if tensor.dtype.is_floating else None
            for i, tensor in enumerate(op.inputs)]


def _mul_vjp_reference(cotangent, x, y, of, of_attrs, index):
    """The harness oracle, for the samples below: d(x*y)/dx = y and d(x*y)/dy = x."""
    assert of == "Mul"
    return cotangent * (y if index == 0 else x)


def _samples(rng, dtype):
    return [Sample((rand(rng, (3, 4), dtype), rand(rng, (3, 4), dtype), rand(rng, (3, 4), dtype)),
                   {"of": "Mul", "of_attrs": {}, "index": i}) for i in (0, 1)]


def _vjp_check(inputs, of, of_attrs, index) -> Optional[ValueCheck]:
    """The forward op's check on the same inputs: a gather's gradient scatters to its indices."""
    forward = lookup(of).check
    found = forward(inputs[1:], **of_attrs) if forward is not None else None
    return found.shifted(1) if found is not None else None


register(OpDef("VJP", infer=_vjp_infer, lower=_vjp_lower, grad=vjp_gradient, check=_vjp_check,
               reference=_mul_vjp_reference, samples=_samples))
