"""``gn.cond``: one of two sub-graphs, chosen at run time (TF's ``tf.cond``, ``If``).

A ``Cond`` op reads the predicate and every tensor its branches capture; each branch
is a ``FuncGraph`` attribute. It lowers to ``jax.lax.cond``, so only the chosen branch
runs. Its gradient is a ``Cond`` of the branches' gradients (each recomputes its
branch's forward pass), itself differentiable again. A captured variable that a
branch assigns becomes an extra output (its value after the branch: unchanged when the
other branch runs), written back by an ``Assign`` that the returned tensors depend on.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import jax
import numpy as np

from graphnn.errors import DTypeError, ShapeError
from graphnn.framework import dtypes
from graphnn.framework.graph import Graph, Operation, convert_to_tensor, get_default_graph
from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.ops.array import reshape
from graphnn.ops.creation import shape as shape_of
from graphnn.ops.declare import OpDef, Sample, check_dtype, rand, register, require
from graphnn.ops.func_graph import (bodies_draw_random, FuncGraph, build_body, call_body, copy_body,
                                    describe_function, evaluate_numpy)
from graphnn.ops.math import multiply, sin
from graphnn.ops.state import group

COND_OP = "Cond"


def most_specific_shape(a: TensorShape, b: TensorShape) -> TensorShape:
    """The most specific shape both ``a`` and ``b`` have: dims that differ become None."""
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.dims, b.dims)])


def check_captured(inputs: list, body: FuncGraph) -> None:
    """The op's captured inputs must match the body's stand-ins for them."""
    require(len(inputs) == len(body.captures),
            f"{body.name} reads {len(body.captures)} captured tensors, the op gives "
            f"{len(inputs)}")
    for tensor, stand_in in zip(inputs, body.captures):
        require(tensor.dtype == stand_in.dtype and tensor.shape.is_compatible_with(
            stand_in.shape), f"{body.name} was built for {stand_in.dtype.name}"
            f"{stand_in.shape} in place of '{tensor.name}', which is "
            f"{tensor.dtype.name}{tensor.shape}")


def _cond_infer(inputs, then_branch, else_branch):
    pred, *captured = inputs
    check_dtype(pred, "bool")
    require(pred.shape.ndims in (None, 0), f"the predicate must be a scalar, got shape "
                                           f"{pred.shape}")
    for body in (then_branch, else_branch):
        check_captured(captured, body)
    outputs = [(most_specific_shape(a.shape, b.shape), a.dtype)
               for a, b in zip(then_branch.outputs, else_branch.outputs)]
    return outputs + [(t.shape, t.dtype) for t in then_branch.written]


def _cond_lower(pred, *captured, then_branch, else_branch, key=None):
    def branch(body: FuncGraph) -> Callable:
        return lambda operands: tuple(call_body(body, operands, key))

    return tuple(jax.lax.cond(pred, branch(then_branch), branch(else_branch), tuple(captured)))


def _cond_reference(pred, *captured, then_branch, else_branch):
    return tuple(evaluate_numpy(then_branch if pred else else_branch, captured))


def refuse_random_bodies(op: Operation) -> None:
    """A gradient recomputes a body's forward pass, which would draw new random numbers."""
    for body in op.attrs.values():
        if isinstance(body, FuncGraph) and body.draws_random():
            raise ValueError(
                f"Cannot differentiate {op.describe()}: its body '{body.name}' draws random "
                f"numbers, and its gradient recomputes the body, which would draw different "
                f"ones. Draw them outside (for a loop, with a leading axis for the steps) and "
                f"pass them in.")


def shaped_like(grad: Optional[Tensor], x: Tensor) -> Optional[Tensor]:
    """``grad`` with ``x``'s shape stated: a body's gradient has the static shape the body was
    built with, so where that is not fully known, a Reshape to ``shape(x)`` lets a run whose
    shapes are known see them (and drop the driver's sums to ``x``'s shape)."""
    if grad is None or (grad.shape == x.shape and x.shape.is_fully_defined()):
        return grad
    return reshape(grad, shape_of(x))


def _cond_grad(op: Operation, *out_grads, gradients: Callable) -> list:
    """d/d(captured) of a Cond: the Cond, on the same predicate, of each branch's gradient."""
    refuse_random_bodies(op)
    then_branch, else_branch = op.attrs["then_branch"], op.attrs["else_branch"]
    captured = list(op.inputs[1:])
    floats = [i for i, t in enumerate(op.outputs[:len(then_branch.outputs)])
              if t.dtype.is_floating]

    def gradient_of(body: FuncGraph) -> Callable:
        def branch() -> list:
            graph = get_default_graph()
            stand_ins = [graph.capture(t, COND_OP) for t in captured]
            outputs = copy_body(body, stand_ins)
            grads = gradients([outputs[i] for i in floats], stand_ins,
                              grad_ys=[out_grads[i] for i in floats],
                              unconnected_gradients="zero")
            return [g if t.dtype.is_floating else None for g, t in zip(grads, captured)]
        return branch

    grads = cond(op.inputs[0], gradient_of(then_branch), gradient_of(else_branch),
                 name=f"{op.name.rsplit('/', 1)[-1]}_grad")
    return [None] + [shaped_like(g, x) for g, x in zip(grads, captured)]


def _cond_samples(rng, dtype):
    """Branches over two captured tensors: ``x * y`` and ``sin(x)``, each predicate value."""
    outer = Graph()
    with outer.as_default():
        x, y = (outer.create_op("Placeholder", [], {"dtype": dtypes.as_dtype(dtype),
                                                    "shape": TensorShape([3])}).outputs[0]
                for _ in range(2))
        then_branch, _, _ = build_body(lambda: multiply(x, y), "then")
        else_branch, _, _ = build_body(lambda: sin(x), "else")
    for body in (then_branch, else_branch):
        body.align_captures([x, y])
    values = (rand(rng, (3,), dtype), rand(rng, (3,), dtype))
    attrs = {"then_branch": then_branch, "else_branch": else_branch}
    return [Sample((pred, *values), attrs) for pred in (np.bool_(True), np.bool_(False))]


# Stateful and random: a branch may assign or draw random numbers, so a Cond is never
# folded or merged, and receives a PRNG key for its branches.
register(OpDef(COND_OP, infer=_cond_infer, lower=_cond_lower, reference=_cond_reference,
               grad=_cond_grad, differentiates_bodies=True, samples=_cond_samples,
               stateful=True, random_if=bodies_draw_random))


# ----- gn.cond ------------------------------------------------------------------------
def check_same_outputs(what: str, first: tuple, second: tuple) -> None:
    """Two bodies' returned (description, tree, leaves) must agree in structure, dtype and
    shape; the error names both."""
    (first_name, first_tree, first_leaves), (second_name, second_tree, second_leaves) = \
        first, second
    kinds = [[type(v).__name__ for v in leaves] for leaves in (first_leaves, second_leaves)]
    if first_tree != second_tree or kinds[0] != kinds[1]:
        raise ValueError(f"{what}: {first_name} returns {_shown(first_tree, first_leaves)} but "
                         f"{second_name} returns {_shown(second_tree, second_leaves)}; both "
                         f"must return the same structure")
    for index, (a, b) in enumerate(zip(first_leaves, second_leaves)):
        if not isinstance(a, Tensor):
            continue
        if a.dtype != b.dtype:
            raise DTypeError(f"{what}: output {index} is {a.dtype.name} ('{a.name}') in "
                             f"{first_name} but {b.dtype.name} ('{b.name}') in {second_name}")
        if not a.shape.is_compatible_with(b.shape):
            raise ShapeError(f"{what}: output {index} has shape {a.shape} ('{a.name}') in "
                             f"{first_name} but {b.shape} ('{b.name}') in {second_name}")


def _shown(tree: Any, leaves: list) -> str:
    described = [f"{v.dtype.name}{v.shape}" if isinstance(v, Tensor) else "Operation"
                 for v in leaves]
    return str(jax.tree_util.tree_unflatten(tree, described))


def results_with_writes(graph: Graph, op: Operation, tree: Any, leaves: list,
                        written: list) -> Any:
    """The structure a control-flow function returns for ``op``: its outputs in the user's
    ``tree``, each depending on the ``Assign`` of every written variable (the op's outputs
    after its returned ones), and Operation leaves as one op that runs them all."""
    count = sum(isinstance(v, Tensor) for v in leaves)
    assigns = [graph.create_op("Assign", [variable, value], name="write_back")
               for variable, value in zip(written, op.outputs[count:])]
    outputs = iter(op.outputs[:count])
    results = []
    for leaf in leaves:
        if isinstance(leaf, Tensor):
            out = next(outputs)
            results.append(graph.create_op("Identity", [out], control_inputs=assigns)
                           .outputs[0] if assigns else out)
        else:
            results.append(group(op, *assigns))
    return jax.tree_util.tree_unflatten(tree, results)


def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any],
         name: Optional[str] = None) -> Any:
    """``true_fn()`` if ``pred`` is true when the graph runs, else ``false_fn()``.

    Each function builds its branch as a sub-graph and returns a Tensor or a nested
    structure (list, tuple, dict) of them; both must return the same structure, dtypes
    and compatible shapes. Only the chosen branch runs (``jax.lax.cond``).

    Only the ops created inside a branch function are conditional (the classic TF 1
    surprise): a tensor computed before ``gn.cond`` and merely returned or used by a
    branch is computed whether or not that branch runs. Every op created in a branch
    runs when the branch runs, so an ``assign`` made in a branch happens exactly when
    that branch is taken (even if the branch does not return it). Branches may read any
    tensor or variable of the enclosing graph; gradients flow to them through both
    branches (the gradient of a cond is a cond of the branches' gradients).

    Args:
        pred: a scalar boolean tensor (or Python bool).
        true_fn: builds the branch taken when ``pred`` is true.
        false_fn: builds the branch taken when ``pred`` is false.
        name: the Cond op's name.

    Returns:
        What the branches return, as tensors of the enclosing graph.

    Raises:
        ValueError / DTypeError / ShapeError: the branches return different structures,
            dtypes or incompatible shapes; the message names both functions.

    Example:
        >>> y = gn.cond(x > 0.0, lambda: gn.sqrt(x), lambda: -x)
    """
    for fn, which in ((true_fn, "true_fn"), (false_fn, "false_fn")):
        if not callable(fn):
            raise TypeError(f"gn.cond: {which} must be callable, got {fn!r}")
    graph = get_default_graph()
    pred = convert_to_tensor(pred, graph=graph) if not isinstance(pred, Tensor) else pred
    if not pred.dtype.is_bool or pred.shape.ndims not in (None, 0):
        raise ValueError(f"gn.cond: pred must be a scalar bool tensor, got '{pred.name}' of "
                         f"dtype {pred.dtype.name} and shape {pred.shape}")
    then_branch, then_tree, then_leaves = build_body(true_fn, "then")
    else_branch, else_tree, else_leaves = build_body(false_fn, "else")
    check_same_outputs("gn.cond", (f"true_fn {describe_function(true_fn)}", then_tree,
                                   then_leaves),
                       (f"false_fn {describe_function(false_fn)}", else_tree, else_leaves))
    written = list(dict.fromkeys(then_branch.assigned_variables()
                                 + else_branch.assigned_variables()))
    captured = list(dict.fromkeys(then_branch.captured + else_branch.captured + written))
    for body in (then_branch, else_branch):
        body.align_captures(captured)
        body.set_written(written)
    op = graph.create_op(COND_OP, [pred, *captured], {"then_branch": then_branch,
                                                      "else_branch": else_branch},
                         name=name or "cond")
    then_branch.name, else_branch.name = f"{op.name}/then", f"{op.name}/else"
    return results_with_writes(graph, op, then_tree, then_leaves, written)

