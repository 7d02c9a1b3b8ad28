"""Random ops. Each draw is reproducible from the graph seed (``gn.set_random_seed``) and
the op seed, and differs on each run of a session: the Session passes every random op
a PRNG key derived from (graph seed, op seed, how often the op has run). Seeds are
integers in [0, 2**32 - 1], checked when they are set."""
from __future__ import annotations

from typing import Any, Optional

import jax

from graphnn.framework import dtypes
from graphnn.framework.graph import check_seed, get_default_graph
from graphnn.framework.tensor import Tensor
from graphnn.ops.declare import (OpDef, apply, check_dtype, output_shape, register, shape_tensor,
                                 static_ints, to_tensor)


def _random_infer(inputs, dtype, seed=None):
    check_seed(seed, "The seed attribute")
    shape = inputs[0]
    check_dtype(shape, "int")
    return [(output_shape(shape), dtype)]


def _int_uniform_infer(inputs, dtype, seed=None):
    return _random_infer(inputs[:1], dtype, seed)



def _shape_of(shape) -> tuple:
    return static_ints(shape, "The shape of a random op")


register(OpDef("RandomStandardNormal", infer=_random_infer,
               lower=lambda shape, key, dtype, seed=None:
                   jax.random.normal(key, _shape_of(shape), dtype.as_numpy_dtype),
               stateful=True, random=True, differentiable=False))
register(OpDef("TruncatedNormal", infer=_random_infer,
               lower=lambda shape, key, dtype, seed=None:
                   jax.random.truncated_normal(key, -2.0, 2.0, _shape_of(shape),
                                               dtype.as_numpy_dtype),
               stateful=True, random=True, differentiable=False))
register(OpDef("RandomUniform", infer=_random_infer,
               lower=lambda shape, key, dtype, seed=None:
                   jax.random.uniform(key, _shape_of(shape), dtype.as_numpy_dtype),
               stateful=True, random=True, differentiable=False))
register(OpDef("RandomUniformInt", infer=_int_uniform_infer,
               lower=lambda shape, minval, maxval, key, dtype, seed=None:
                   jax.random.randint(key, _shape_of(shape), minval, maxval, dtype.as_numpy_dtype),
               stateful=True, random=True, differentiable=False))


def set_random_seed(seed: Optional[int]) -> None:
    """Sets the default graph's seed: random ops then draw the same sequence in every new Session.

    Example:
        >>> gn.set_random_seed(42)

    Raises:
        ValueError: ``seed`` is not None or an integer in [0, 2**32 - 1].
    """
    get_default_graph().seed = seed


def _draw(op_type: str, shape: Any, dtype: Any, seed: Optional[int], name: Optional[str]
          ) -> Tensor:
    seed = check_seed(seed, "The seed of a random op")
    return apply(op_type, [shape_tensor(shape)], {"dtype": dtypes.as_dtype(dtype), "seed": seed},
                 name=name)


def _unit(scale: Any, offset: Any) -> bool:
    return (isinstance(scale, (int, float)) and scale == 1
            and isinstance(offset, (int, float)) and offset == 0)


def _scaled_draw(op_type: str, scope: str, shape: Any, dtype: Any, seed: Optional[int],
                 scale: Any, offset: Any, name: Optional[str]) -> Tensor:
    """One draw op; or, scaled, a draw, a Mul and an Add in a name scope whose Add takes
    the scope's name (TF 1's ``random_normal`` and ``random_normal/mul``)."""
    dtype = dtypes.as_dtype(dtype)
    check_seed(seed, "The seed of a random op")  # before any op is created
    if _unit(scale, offset):
        return _draw(op_type, shape, dtype, seed, name)
    shape = shape_tensor(shape)
    with shape.graph.name_scope(name or scope) as scope_name:
        sample = _draw(op_type, shape, dtype, seed, None)
        scaled = apply("Mul", [sample, to_tensor(scale, dtype)])
        return apply("Add", [scaled, to_tensor(offset, dtype)], name=scope_name)


def random_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = dtypes.float32,
                  seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """Normally distributed values; ``shape`` may be a list or an int tensor (``gn.shape(x)``).

    Example:
        >>> W = gn.Variable(gn.random_normal([784, 10], stddev=0.01))
    """
    return _scaled_draw("RandomStandardNormal", "random_normal", shape, dtype, seed, stddev,
                        mean, name)


def truncated_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = dtypes.float32,
                     seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """Normal values redrawn beyond two standard deviations (TF's weight initializer)."""
    return _scaled_draw("TruncatedNormal", "truncated_normal", shape, dtype, seed, stddev, mean,
                        name)


def random_uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = dtypes.float32,
                   seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """Uniform values in [minval, maxval) (maxval defaults to 1 for floats; required for ints).

    Example:
        >>> noise = gn.random_uniform(gn.shape(x), -0.1, 0.1)
    """
    dtype = dtypes.as_dtype(dtype)
    if dtype.is_integer:
        if maxval is None:
            raise ValueError("random_uniform with an integer dtype needs maxval")
        seed = check_seed(seed, "The seed of random_uniform")
        return apply("RandomUniformInt", [shape_tensor(shape), to_tensor(minval, dtype),
                                          to_tensor(maxval, dtype)],
                     {"dtype": dtype, "seed": seed}, name=name)
    maxval = 1.0 if maxval is None else maxval
    if isinstance(minval, (int, float)) and isinstance(maxval, (int, float)):
        return _scaled_draw("RandomUniform", "random_uniform", shape, dtype, seed,
                            maxval - minval, minval, name)
    check_seed(seed, "The seed of a random op")
    shape = shape_tensor(shape)
    with shape.graph.name_scope(name or "random_uniform") as scope:
        low = to_tensor(minval, dtype)
        return _scaled_draw("RandomUniform", scope, shape, dtype, seed,
                            to_tensor(maxval, dtype) - low, low, scope)
