"""Forward mode: Jacobian-vector products as graph nodes (``gn.jvp``).

We name it ``jvp``, JAX's word, over PyTensor's ``pushforward``/``Rop`` and TensorFlow's
``ForwardAccumulator``: it is the function users compare against ``jax.jvp``. It is
built from two reverse passes (the "double VJP": the reverse gradient ``g(u) = J^T u``
is linear in the cotangent ``u``, so the gradient of ``<g(u), t>`` with respect to ``u``
is ``J t``), so every op with a gradient rule has a forward-mode rule for free, the
result is ordinary graph nodes (drawn, optimized, differentiated again), and ``u``'s
value never matters: the compiler folds it to a constant.
"""
from __future__ import annotations

from typing import Any, Optional

from graphnn.compiler.autodiff import gradients
from graphnn.framework.graph import convert_to_tensor, graph_of
from graphnn.framework.tensor import Tensor
from graphnn.ops.creation import zeros_like


def _as_list(values: Any) -> list:
    return list(values) if isinstance(values, (list, tuple)) else [values]


def jvp(ys: Any, xs: Any, tangents: Any, name: str = "jvp") -> list[Optional[Tensor]]:
    """The directional derivatives of ``ys`` along ``tangents`` of ``xs`` (forward mode).

    For each y, ``sum_i dy/dx_i . t_i``: a tensor of y's shape, or None for a y that is
    not floating-point. An x that y does not depend on contributes nothing.

    Args:
        ys: a Tensor or list of Tensors.
        xs: a Tensor/Variable or list of them.
        tangents: one tensor (or value) per x, of x's shape and dtype.
        name: name scope of the added nodes.

    Example:
        >>> dy, = gn.jvp(y, [x], [gn.ones_like(x)])   # as jax.jvp(f, (x,), (ones,))[1]
    """
    ys, xs, tangents = _as_list(ys), _as_list(xs), _as_list(tangents)
    if len(tangents) != len(xs):
        raise ValueError(f"gn.jvp: {len(tangents)} tangents for {len(xs)} xs; give one per x")
    graph = graph_of(ys + xs)
    tangents = [convert_to_tensor(t, dtype=x.dtype, graph=graph) for t, x in zip(tangents, xs)]
    for x, t in zip(xs, tangents):
        if not t.shape.is_compatible_with(x.shape):
            raise ValueError(f"gn.jvp: the tangent '{t.name}' of shape {t.shape} does not match "
                             f"'{x.name}' of shape {x.shape}")
    floating = [y for y in ys if y.dtype.is_floating]
    with graph.name_scope(name):
        cotangents = [zeros_like(y) for y in floating]
        pulled = gradients(floating, xs, grad_ys=cotangents, unconnected_gradients="zero")
        pairs = [(g, t) for g, t in zip(pulled, tangents) if g is not None]
        pushed = gradients([g for g, _ in pairs], cotangents, grad_ys=[t for _, t in pairs],
                           unconnected_gradients="zero") if pairs else \
            [zeros_like(y) for y in floating]
    found = dict(zip(floating, pushed))
    return [found.get(y) for y in ys]
