"""Loops: ``gn.scan`` and ``gn.map_fn`` (a ``Scan`` op) and ``gn.while_loop`` (a ``While`` op,
or with ``maximum_iterations`` a bounded ``Scan``), TensorFlow 1's functions.

A ``Scan`` op's body maps (carry, element, captured tensors) to (new carry, per-step
outputs); it lowers to ``jax.lax.scan`` and returns the final carry and the stacked
per-step outputs. Its gradient is a reverse scan: one scan recomputes the carry that
entered each step, a second one runs backwards through the steps, each step the
gradient of a copy of the body, so gradients of gradients work too. A ``While`` op lowers
to ``jax.lax.while_loop``; its number of steps is unbounded, so it has no gradient,
and ``gn.while_loop(..., maximum_iterations=N)`` builds a Scan of N steps instead whose
body is a ``gn.cond`` (steps after the condition turns false change nothing).

Random ops in a body draw new values on each step (the step number is folded into the
op's key). A variable assigned in a body is carried from step to step and written back
after the loop, as in ``gn.cond``.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from graphnn.errors import DTypeError, ShapeError
from graphnn.framework import dtypes
from graphnn.framework.graph import Graph, Operation, convert_to_tensor, get_default_graph
from graphnn.framework.shapes import TensorShape
from graphnn.framework.tensor import Tensor
from graphnn.ops.array import concat, expand_dims
from graphnn.ops.cond import (check_captured, cond, refuse_random_bodies, results_with_writes,
                              shaped_like)
from graphnn.ops.creation import zeros_like
from graphnn.ops.declare import (OpDef, Sample, build_time_ints, check_dtype, rand, register,
                                 require)
from graphnn.ops.func_graph import (bodies_draw_random, FuncGraph, InputSpec, build_body, call_body, copy_body,
                                    describe_function, evaluate_numpy, flatten)
from graphnn.ops.math import multiply, tanh

SCAN_OP = "Scan"
WHILE_OP = "While"


def _step_key(key: Any, body: FuncGraph, step: Any) -> Any:
    if not body.draws_random():
        return None
    return jax.random.fold_in(key if key is not None else jax.random.PRNGKey(0), step)


def _with_written(captured: Sequence, body: FuncGraph, written: Sequence) -> list:
    """The captured values, with the carried values of the variables the body writes."""
    values = list(captured)
    for stand_in, value in zip(body.written, written):
        values[body.captures.index(stand_in)] = value
    return values


def _initial_written(captured: Sequence, body: FuncGraph) -> tuple:
    return tuple(captured[body.captures.index(t)] for t in body.written)


# ----- Scan ---------------------------------------------------------------------------
def _scan_parts(values: Sequence, body: FuncGraph, n_carry: int) -> tuple:
    n_xs = len(body.inputs) - n_carry
    return values[:n_carry], values[n_carry:n_carry + n_xs], values[n_carry + n_xs:]


def _scan_infer(inputs, body, n_carry, reverse, length):
    init, xs, captured = _scan_parts(inputs, body, n_carry)
    require(len(captured) == len(body.captures), f"{body.name} reads {len(body.captures)} "
                                                 f"captured tensors, got {len(captured)}")
    check_captured(list(captured), body)
    steps = length
    for x, stand_in in zip(xs, body.inputs[n_carry:]):
        require(x.shape.ndims is None or x.shape.ndims >= 1,
                f"scanned tensor '{x.name}' must have a leading (step) axis, got shape {x.shape}")
        if x.shape.ndims:
            require(x.shape[1:].is_compatible_with(stand_in.shape),
                    f"the elements of '{x.name}' have shape {x.shape[1:]}, the body was built "
                    f"for {stand_in.shape}")
            first = x.shape[0]
            require(steps is None or first is None or first == steps,
                    f"scanned tensors differ in length: {steps} and {first} ('{x.name}')")
            steps = first if first is not None else steps
    for value, stand_in, out in zip(init, body.inputs[:n_carry], body.outputs[:n_carry]):
        require(value.dtype == stand_in.dtype and value.shape.is_compatible_with(stand_in.shape),
                f"initial value '{value.name}' ({value.dtype.name}{value.shape}) does not match "
                f"the body's carry ({stand_in.dtype.name}{stand_in.shape})")
    carries = [(s.shape, s.dtype) for s in body.inputs[:n_carry]]
    stacked = [(TensorShape(None) if y.shape.ndims is None else TensorShape([steps, *y.shape]),
                y.dtype) for y in body.outputs[n_carry:]]
    return carries + stacked + [(t.shape, t.dtype) for t in body.written]


def _scan_lower(*values, body, n_carry, reverse, length, key=None):
    init, xs, captured = _scan_parts(values, body, n_carry)
    steps = np.shape(xs[0])[0] if xs else length
    n_out = len(body.outputs)

    def step(carry, inputs):
        state, written = carry
        x_t, t = inputs
        out = call_body(body, [*state, *x_t, *_with_written(captured, body, written)],
                        _step_key(key, body, t))
        return (tuple(out[:n_carry]), tuple(out[n_out:])), tuple(out[n_carry:n_out])

    (final, written), stacked = jax.lax.scan(
        step, (tuple(init), _initial_written(captured, body)),
        (tuple(xs), jnp.arange(steps, dtype=jnp.uint32)), length=steps, reverse=reverse)
    return (*final, *stacked, *written)


def _scan_reference(*values, body, n_carry, reverse, length):
    init, xs, captured = _scan_parts(values, body, n_carry)
    steps = np.shape(xs[0])[0] if xs else length
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    carry, outputs = list(init), []
    for t in order:
        out = evaluate_numpy(body, [*carry, *[x[t] for x in xs], *captured])
        carry = out[:n_carry]
        outputs.append(out[n_carry:len(body.outputs)])
    if reverse:
        outputs.reverse()
    stacked = [np.stack([o[j] for o in outputs]) for j in range(len(body.outputs) - n_carry)]
    return (*[np.asarray(c) for c in carry], *stacked)


def _scan_grad(op: Operation, *out_grads, gradients: Callable) -> list:
    """A reverse scan through the steps, each step the gradient of a copy of the body."""
    refuse_random_bodies(op)
    body, n_carry = op.attrs["body"], op.attrs["n_carry"]
    reverse, length = op.attrs["reverse"], op.attrs["length"]
    if body.written:
        raise ValueError(f"Cannot differentiate {op.describe()}: its body assigns variables; "
                         f"compute the new values in the loop and assign them after it")
    init, xs, captured = _scan_parts(list(op.inputs), body, n_carry)
    n_ys = len(body.outputs) - n_carry
    float_c = [i for i in range(n_carry) if init[i].dtype.is_floating]
    float_x = [i for i, x in enumerate(xs) if x.dtype.is_floating]
    float_k = [i for i, k in enumerate(captured) if k.dtype.is_floating]
    float_y = [j for j in range(n_ys) if op.outputs[n_carry + j].dtype.is_floating]

    def body_copy(carry: Sequence[Tensor], x: Sequence[Tensor]) -> tuple[list, list]:
        graph = get_default_graph()
        stand_ins = [graph.capture(k, SCAN_OP) for k in captured]
        return copy_body(body, [*carry, *x, *stand_ins]), stand_ins

    def residual_step(carry, x):
        outputs, _ = body_copy(carry, x)
        return outputs[:n_carry], list(carry)

    _, carries_in = scan_op(residual_step, list(init), list(xs), reverse, length,
                            name="carries", what="the gradient of a scan")

    def backward_step(carry, x):
        grad_c, grad_k = carry[:len(float_c)], carry[len(float_c):]
        c_t, x_t, grad_y = x[:n_carry], x[n_carry:n_carry + len(xs)], x[n_carry + len(xs):]
        outputs, stand_ins = body_copy(c_t, x_t)
        wrt = [c_t[i] for i in float_c] + [x_t[i] for i in float_x] + \
            [stand_ins[i] for i in float_k]
        grads = gradients([outputs[i] for i in float_c] + [outputs[n_carry + j] for j in float_y],
                          wrt, grad_ys=list(grad_c) + list(grad_y), unconnected_gradients="zero")
        new_c = grads[:len(float_c)]
        grad_x = grads[len(float_c):len(float_c) + len(float_x)]
        new_k = [a + b for a, b in zip(grad_k, grads[len(float_c) + len(float_x):])]
        return new_c + new_k, grad_x

    initial = [out_grads[i] for i in float_c] + [zeros_like(captured[i]) for i in float_k]
    final, stacked = scan_op(backward_step, initial,
                             [*carries_in, *xs, *[out_grads[n_carry + j] for j in float_y]],
                             not reverse, length, name="scan_grad",
                             what="the gradient of a scan")
    grads: list = [None] * len(op.inputs)
    for position, i in enumerate(float_c):
        grads[i] = final[position]
    for position, i in enumerate(float_x):
        grads[n_carry + i] = stacked[position]
    for position, i in enumerate(float_k):
        grads[n_carry + len(xs) + i] = final[len(float_c) + position]
    return [shaped_like(g, x) for g, x in zip(grads, op.inputs)]


def _scan_samples(rng, dtype):
    """An RNN-like body: h' = tanh(h * w + x), emitting h' * 2, over 4 steps, both ways."""
    outer = Graph()
    with outer.as_default():
        w = outer.create_op("Placeholder", [], {"dtype": dtypes.as_dtype(dtype),
                                                "shape": TensorShape([3])}).outputs[0]
        spec = InputSpec("h", dtypes.as_dtype(dtype), TensorShape([3]))
        body, _, _ = build_body(lambda h, x: (tanh(h * w + x), multiply(tanh(h * w + x), 2.0)),
                                "scan_body", [spec, InputSpec("x", spec.dtype, spec.shape)])
    values = (rand(rng, (3,), dtype), rand(rng, (4, 3), dtype), rand(rng, (3,), dtype))
    return [Sample(values, {"body": body, "n_carry": 1, "reverse": reverse, "length": None})
            for reverse in (False, True)]


# Stateful and random, as Cond: a body may assign or draw random numbers.
register(OpDef(SCAN_OP, infer=_scan_infer, lower=_scan_lower, reference=_scan_reference,
               grad=_scan_grad, differentiates_bodies=True, samples=_scan_samples,
               stateful=True, random_if=bodies_draw_random))


def _element_spec(name: str, x: Tensor) -> InputSpec:
    shape = TensorShape(None) if x.shape.ndims is None else x.shape[1:]
    return InputSpec(name, x.dtype, shape)


def scan_op(fn: Callable, init: list, xs: list, reverse: bool = False,
            length: Optional[int] = None, name: str = SCAN_OP, what: str = "gn.scan",
            described: Optional[str] = None) -> tuple[list, list]:
    """Builds a Scan op named ``name``: ``fn(carry, x) -> (new_carry, ys)`` over lists of
    tensors; errors name ``what`` (the user's function) and ``described`` (its function).

    Returns the final carry and the per-step outputs stacked, as lists.
    """
    graph = get_default_graph()
    init = [convert_to_tensor(t, graph=graph) for t in init]
    xs = [convert_to_tensor(t, graph=graph) for t in xs]
    specs = ([InputSpec(f"carry_{i}", t.dtype, t.shape) for i, t in enumerate(init)],
             [_element_spec(f"x_{i}", x) for i, x in enumerate(xs)])
    body, tree, leaves = build_body(lambda carry, x: tuple(fn(carry, x)), "scan_body", specs)
    described = described or describe_function(fn)
    for index, (value, out) in enumerate(zip(init, leaves)):
        if not isinstance(out, Tensor) or out.dtype != value.dtype:
            kind = out.dtype.name if isinstance(out, Tensor) else type(out).__name__
            raise DTypeError(f"{what}: {described} returns a {kind} for loop value {index}, "
                             f"which is {value.dtype.name} ('{value.name}')")
        if not out.shape.is_compatible_with(value.shape):
            raise ShapeError(f"{what}: {described} returns shape {out.shape} for loop value "
                             f"{index}, which has shape {value.shape} ('{value.name}'); the "
                             f"shape must stay the same from step to step")
    written = body.assigned_variables()
    body.align_captures(body.captured)
    body.set_written(written)
    if not xs and length is None:
        raise ValueError(f"{what}: nothing to scan over and no length")
    op = graph.create_op(SCAN_OP, [*init, *xs, *body.captured],
                         {"body": body, "n_carry": len(init), "reverse": bool(reverse),
                          "length": length}, name=name)
    body.name = f"{op.name}/body"
    outputs = results_with_writes(graph, op, tree, leaves, written)
    return list(outputs[0]), list(outputs[1])


def _check_structure(name: str, fn: Callable, tree: Any, expected: Any, what: str) -> None:
    if tree != expected:
        raise ValueError(f"{name}: {describe_function(fn)} returns a structure {tree}, but "
                         f"{what} has the structure {expected}; they must be the same")


def scan(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None,
         reverse: bool = False, name: Optional[str] = None) -> Any:
    """TF 1's ``tf.scan``: ``fn`` applied along axis 0 of ``elems``, carrying a value.

    ``fn(accumulated, element)`` returns the next accumulated value, of the structure
    and dtypes of ``initializer`` (with no initializer, the first element is the start
    and the first output). The result stacks every accumulated value along a new axis 0.
    Lowered to ``jax.lax.scan``; differentiable (a reverse scan). ``fn`` may read any
    tensor or variable of the enclosing graph; random ops in it draw anew on each step.

    Example:
        >>> cumulative = gn.scan(lambda acc, x: acc + x, xs)
        >>> hidden = gn.scan(lambda h, x: gn.tanh(gn.matmul(h, W) + x), xs_by_time, h0)
    """
    graph = get_default_graph()
    elem_leaves, elem_tree = flatten(elems)
    elem_leaves = [convert_to_tensor(e, graph=graph) for e in elem_leaves]
    if not elem_leaves:
        raise ValueError("gn.scan: elems must hold at least one tensor")
    with graph.name_scope(name or "scan"):
        if initializer is None:
            first = [e[-1] if reverse else e[0] for e in elem_leaves]
            rest = [e[:-1] if reverse else e[1:] for e in elem_leaves]
            init_leaves, init_tree = first, elem_tree
        else:
            init_leaves, init_tree = flatten(initializer)
            rest = elem_leaves

        def step(carry, x):
            out_leaves, out_tree = flatten(fn(jax.tree_util.tree_unflatten(init_tree, carry),
                                              jax.tree_util.tree_unflatten(elem_tree, x)))
            _check_structure("gn.scan", fn, out_tree, init_tree, "the initializer")
            return out_leaves, out_leaves

        _, stacked = scan_op(step, list(init_leaves), rest, reverse,
                             described=describe_function(fn))
        if initializer is None:
            stacked = [concat([s, expand_dims(f, 0)] if reverse else [expand_dims(f, 0), s], 0)
                       for f, s in zip(first, stacked)]
    return jax.tree_util.tree_unflatten(init_tree, stacked)


def map_fn(fn: Callable[[Any], Any], elems: Any, dtype: Any = None,
           name: Optional[str] = None) -> Any:
    """TF 1's ``tf.map_fn``: ``fn`` applied to each slice of ``elems`` along axis 0, stacked.

    ``dtype`` is accepted for TF 1 compatibility; the output structure and dtypes are
    those ``fn`` returns. Lowered to ``jax.lax.scan``, differentiable.

    Example:
        >>> norms = gn.map_fn(lambda row: gn.sqrt(gn.reduce_sum(row * row)), matrix)
    """
    graph = get_default_graph()
    elem_leaves, elem_tree = flatten(elems)
    elem_leaves = [convert_to_tensor(e, graph=graph) for e in elem_leaves]
    trees = []

    def step(carry, x):
        out_leaves, out_tree = flatten(fn(jax.tree_util.tree_unflatten(elem_tree, x)))
        trees.append(out_tree)
        return [], out_leaves

    with graph.name_scope(name or "map"):
        _, stacked = scan_op(step, [], elem_leaves, what="gn.map_fn",
                             described=describe_function(fn))
    return jax.tree_util.tree_unflatten(trees[0], stacked)


# ----- While ----------------------------------------------------------------------------
def _while_infer(inputs, cond_body, body):
    n = len(body.inputs)
    check_captured(list(inputs[n:]), body)
    check_captured(list(inputs[n:]), cond_body)
    for value, stand_in in zip(inputs[:n], body.inputs):
        require(value.dtype == stand_in.dtype and value.shape.is_compatible_with(stand_in.shape),
                f"loop value '{value.name}' ({value.dtype.name}{value.shape}) does not match "
                f"the body's ({stand_in.dtype.name}{stand_in.shape})")
    return [(s.shape, s.dtype) for s in body.inputs] + [(t.shape, t.dtype) for t in body.written]


def _while_lower(*values, cond_body, body, key=None):
    n = len(body.inputs)
    state, captured = values[:n], values[n:]

    def keep_going(carry):
        current, written, _ = carry
        return call_body(cond_body, [*current, *_with_written(captured, body, written)])[0]

    def step(carry):
        current, written, t = carry
        out = call_body(body, [*current, *_with_written(captured, body, written)],
                        _step_key(key, body, t))
        return tuple(out[:n]), tuple(out[n:]), t + np.uint32(1)

    final, written, _ = jax.lax.while_loop(
        keep_going, step, (tuple(state), _initial_written(captured, body), np.uint32(0)))
    return (*final, *written)


def _while_reference(*values, cond_body, body):
    n = len(body.inputs)
    state, captured = list(values[:n]), list(values[n:])
    while evaluate_numpy(cond_body, [*state, *captured])[0]:
        state = evaluate_numpy(body, [*state, *captured])[:n]
    return tuple(np.asarray(v) for v in state)


def _while_samples(rng, dtype):
    """``while i < 3: i, s = i + 1, s * x + 1`` with a captured x."""
    outer = Graph()
    float_dtype = dtypes.as_dtype(dtype)
    with outer.as_default():
        x = outer.create_op("Placeholder", [], {"dtype": float_dtype,
                                                "shape": TensorShape([3])}).outputs[0]
        specs = [InputSpec("i", dtypes.int32, TensorShape([])),
                 InputSpec("s", float_dtype, TensorShape([3]))]
        cond_body, _, _ = build_body(lambda values: values[0] < 3, "cond", [specs])
        body, _, _ = build_body(lambda values: [values[0] + 1, values[1] * x + 1.0], "body",
                                [specs])
    for sub in (cond_body, body):
        sub.align_captures([x])
    values = (np.int32(0), rand(rng, (3,), dtype), rand(rng, (3,), dtype))
    return [Sample(values, {"cond_body": cond_body, "body": body})]


# Not differentiable: the number of steps is unbounded, so there is nothing to go back
# through; gn.gradients says so and how to bound the loop, instead of returning None.
register(OpDef(WHILE_OP, infer=_while_infer, lower=_while_lower, reference=_while_reference,
               samples=_while_samples, differentiable=False, stateful=True,
               random_if=bodies_draw_random,
               no_gradient_reason=(
                   "a gn.while_loop without maximum_iterations runs an unbounded number of "
                   "steps, which reverse-mode gradients cannot go back through. Pass "
                   "maximum_iterations=N (an upper bound on the steps) to gn.while_loop: it "
                   "then becomes a bounded loop that gradients flow through")))


def while_loop(cond_fn: Callable[..., Any], body: Callable[..., Any], loop_vars: Any,
               maximum_iterations: Any = None, name: Optional[str] = None) -> Any:
    """TF 1's ``tf.while_loop``: repeats ``loop_vars = body(*loop_vars)`` while
    ``cond_fn(*loop_vars)`` is true.

    ``loop_vars`` is a list or tuple (of tensors or nested structures); ``cond_fn``
    returns a scalar bool tensor; ``body`` returns the new values, of the same
    structure, dtypes and shapes. Returns the final values in the structure of
    ``loop_vars``, except that a list or tuple of one loop variable gives that variable
    (TF 1's default). Both functions may read tensors and variables of the enclosing
    graph; random ops in ``body`` draw anew on each step.

    Without ``maximum_iterations`` the loop lowers to ``jax.lax.while_loop`` and has no
    gradient (asking for one raises an error that says to pass ``maximum_iterations``).
    With ``maximum_iterations=N`` (a Python int, or a tensor known when the graph is
    built) the loop stops after at most N steps and is differentiable: it lowers to a
    ``lax.scan`` of N steps, each a ``gn.cond`` that leaves the values alone once
    ``cond_fn`` is false, so it always costs N (cheap) steps.

    Example:
        >>> i, total = gn.while_loop(lambda i, s: i < 10, lambda i, s: (i + 1, s + x),
        ...                          [0, gn.zeros_like(x)], maximum_iterations=10)
    """
    if not isinstance(loop_vars, (list, tuple)) or not loop_vars:
        raise TypeError(f"gn.while_loop: loop_vars must be a non-empty list or tuple, got "
                        f"{loop_vars!r}")
    graph = get_default_graph()
    leaves, tree = flatten(loop_vars)
    leaves = [convert_to_tensor(v, graph=graph) for v in leaves]

    def as_args(values: Sequence[Tensor]) -> list:
        return list(jax.tree_util.tree_unflatten(tree, list(values)))

    def next_values(values: Sequence[Tensor]) -> list:
        returned = body(*as_args(values))
        if len(loop_vars) == 1 and not isinstance(returned, (list, tuple)):
            returned = [returned]  # TF 1 lets a one-variable body return the bare value
        out_leaves, out_tree = flatten(type(loop_vars)(returned)
                                       if isinstance(returned, (list, tuple)) else returned)
        _check_structure("gn.while_loop", body, out_tree, tree, "loop_vars")
        return out_leaves

    def check_predicate(predicate: Any) -> Tensor:
        predicate = convert_to_tensor(predicate)
        if not predicate.dtype.is_bool or predicate.shape.ndims not in (None, 0):
            raise ValueError(f"gn.while_loop: {describe_function(cond_fn)} must return a "
                             f"scalar bool tensor, got '{predicate.name}' of dtype "
                             f"{predicate.dtype.name} and shape {predicate.shape}")
        return predicate

    with graph.name_scope(name or "while"):
        if maximum_iterations is None:
            final = _unbounded(graph, leaves, cond_fn, body,
                               lambda values: check_predicate(cond_fn(*as_args(values))),
                               next_values)
        else:
            steps, = build_time_ints(maximum_iterations, "gn.while_loop's maximum_iterations")

            def step(carry, _):
                running = check_predicate(cond_fn(*as_args(carry)))
                return cond(running, lambda: next_values(carry), lambda: list(carry),
                            name="step"), []

            final, _ = scan_op(step, leaves, [], length=steps, what="gn.while_loop",
                               described=describe_function(body))
    result = jax.tree_util.tree_unflatten(tree, final)
    return result[0] if len(loop_vars) == 1 else result


def _unbounded(graph: Graph, leaves: list, cond_fn: Callable, body: Callable,
               predicate: Callable, next_values: Callable) -> list:
    specs = [InputSpec(f"loop_var_{i}", t.dtype, t.shape) for i, t in enumerate(leaves)]
    cond_body, _, _ = build_body(lambda values: predicate(values), "while_cond", [specs])
    loop_body, tree, out = build_body(lambda values: next_values(values), "while_body", [specs])
    for index, (value, new) in enumerate(zip(leaves, out)):
        if new.dtype != value.dtype or not new.shape.is_compatible_with(value.shape):
            raise DTypeError(f"gn.while_loop: {describe_function(body)} returns "
                             f"{new.dtype.name}{new.shape} for loop variable {index}, which is "
                             f"{value.dtype.name}{value.shape} ('{value.name}')")
    if cond_body.assigned_variables():
        raise ValueError(f"gn.while_loop: {describe_function(cond_fn)} assigns a variable; "
                         f"the condition must only compute")
    written = loop_body.assigned_variables()
    captured = list(dict.fromkeys(cond_body.captured + loop_body.captured))
    for sub in (cond_body, loop_body):
        sub.align_captures(captured)
    loop_body.set_written(written)
    op = graph.create_op(WHILE_OP, [*leaves, *captured],
                         {"cond_body": cond_body, "body": loop_body}, name=WHILE_OP)
    cond_body.name, loop_body.name = f"{op.name}/cond", f"{op.name}/body"
    return list(results_with_writes(graph, op, tree, out, written))
