"""Debugging ops: ``gn.debugging.check_numerics`` and ``gn.print`` (TF 1's ``tf.Print``).

``CheckNumerics`` passes its input through and declares a value check (``ValueCheck``)
that fails the run when the input holds a NaN or an Inf; the compiler places it like any
index check (on a fed value before the run, on a computed one inside the program), so a
failing run raises ``InvalidArgumentError`` naming the op, its creation site and the
message, and changes no variable. It is kept even with ``Session(check_indices=False)``:
checking is its purpose. ``Print`` passes its first input through and prints while the
run computes it (``jax.debug.print``).
"""
from __future__ import annotations

from typing import Any, Optional

import jax

from graphnn.framework.graph import get_default_graph
from graphnn.framework.registry import ValueCheck
from graphnn.framework.tensor import Tensor
from graphnn.ops.declare import OpDef, Sample, apply, check_dtype, rand, register, to_tensor

_INF = float("inf")


def _not_finite(values: Any, bound: int) -> Any:
    """NaN and +-Inf, with the operators numpy and jax.numpy share (host or program)."""
    return (values != values) | (values == _INF) | (values == -_INF)


def _kind(values: Any) -> Any:
    """What a non-finite value is, as an integer: 0 NaN, 1 +Inf, -1 -Inf."""
    return (values > 0) * 1 - (values < 0) * 1


def numerics_check(message: str) -> ValueCheck:
    """The check of ``CheckNumerics``: NaN or Inf in input 0 fails the run with ``message``."""
    def words(position: str, kind: Any, bound: int) -> str:
        what = "NaN" if kind == 0 else "Inf"
        return f"{message} : Tensor had {what} values (the first at index {position})" \
            if position else f"{message} : Tensor had {what} values"

    return ValueCheck(input=0, bound=lambda shapes: 0, bad=_not_finite, message=words,
                      reported=_kind, always=True)


def _check_numerics_infer(inputs, message):
    check_dtype(inputs[0], "float")
    return [(inputs[0].shape, inputs[0].dtype)]


def _samples(rng, dtype):
    return [Sample((rand(rng, (3, 4), dtype),), {"message": "checked"}),
            Sample((rand(rng, (), dtype),), {"message": "scalar"})]


register(OpDef("CheckNumerics", infer=_check_numerics_infer,
               lower=lambda x, message: x, reference=lambda x, message: x,
               grad=lambda op, g: [g], samples=_samples,
               check=lambda inputs, message: numerics_check(message)))


def _print_lower(x, *data, message):
    # The message is an argument, never part of the format: braces in it print as they are.
    shown = ((message,) if message else ()) + (data if data else (x,))
    jax.debug.print(" ".join(["{}"] * len(shown)), *shown)
    return x


def _print_samples(rng, dtype):
    return [Sample((rand(rng, (2, 3), dtype),), {"message": "x is"}),
            # Data printed beside x carries no gradient: an integer keeps the harness honest.
            Sample((rand(rng, (2,), dtype), rand(rng, (), "int32")), {"message": "{braces}"})]


# Stateful: printing is a side effect, so a Print is never folded away or merged with another.
register(OpDef("Print", infer=lambda inputs, message: [(inputs[0].shape, inputs[0].dtype)],
               lower=_print_lower, reference=lambda x, *data, message: x,
               grad=lambda op, g: [g] + [None] * (len(op.inputs) - 1),
               samples=_print_samples, stateful=True))


def check_numerics(tensor: Any, message: str, name: Optional[str] = None) -> Tensor:
    """``tensor``, checked: a run in which it holds a NaN or an Inf fails.

    The run raises ``gn.errors.InvalidArgumentError`` with ``message``, the op's name and
    the file:line where it was created, and changes no variable. The check is kept with
    ``Session(check_indices=False)``. To check every op of a run at once, use
    ``gn.Session(check_numerics=True)``. Not available inside ``gn.cond`` branches and
    loop bodies: check the control-flow op's result instead.

    Example:
        >>> loss = gn.debugging.check_numerics(loss, "loss diverged")
    """
    if not isinstance(message, str):
        raise TypeError(f"check_numerics: message must be a string, got {message!r}")
    if get_default_graph().outer_graph is not None:
        raise ValueError("gn.debugging.check_numerics inside a gn.cond branch or a loop body "
                         "is not supported (a run's checks sit outside control flow): check "
                         "the control-flow op's result after it instead")
    return apply("CheckNumerics", [to_tensor(tensor)], {"message": message}, name=name)


def print(input_: Any, *data: Any, message: str = "",  # noqa: A001 (TF's tf.print)
          name: Optional[str] = None) -> Tensor:
    """``input_``, printed while a run computes it (TF 1's ``tf.Print``).

    Prints ``message`` and then the values of ``data`` (of ``input_`` when no data is
    given) to standard output, through ``jax.debug.print``, each time a run computes the
    returned tensor; a run that does not need that tensor prints nothing, so use the
    returned tensor in place of ``input_``.

    Example:
        >>> h = gn.print(h, gn.reduce_mean(h), message="mean activation:")
    """
    if not isinstance(message, str):
        raise TypeError(f"gn.print: message must be a string, got {message!r}")
    return apply("Print", [to_tensor(input_), *[to_tensor(d) for d in data]],
                 {"message": message}, name=name)
