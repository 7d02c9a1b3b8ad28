"""Weight initializers (Keras names): each makes the initial-value Tensor of a variable.

An initializer is called with a shape and a dtype and returns a graph Tensor (random
ops with an optional seed), which becomes a ``gn.Variable``'s initial value.

Example:
    >>> init = gn.layers.initializers.get("he_normal")
    >>> W = gn.Variable(init([784, 128], gn.float32))
"""
from __future__ import annotations

import abc
import math
from typing import Any, Optional, Sequence

from graphnn.framework.dtypes import DType, as_dtype
from graphnn.framework.tensor import Tensor
from graphnn.ops.creation import fill
from graphnn.ops.random import random_normal, random_uniform, truncated_normal
from graphnn.ops.state import constant

# The standard deviation of a unit normal truncated to [-2, 2]: Keras divides by it so
# that truncated draws keep the variance the scaling rule asks for.
_TRUNCATED_STDDEV = 0.87962566103423978


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a kernel: Dense (in, out) or Conv (kh, kw, in, out), as Keras."""
    shape = list(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer(abc.ABC):
    """Base class: ``initializer(shape, dtype)`` returns the initial-value Tensor."""

    @abc.abstractmethod
    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> Tensor:
        """The initial-value Tensor of ``shape`` and ``dtype``."""

    def get_config(self) -> dict:
        return {}


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype="float32"):
        return fill(list(shape), constant(0, as_dtype(dtype)))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype="float32"):
        return fill(list(shape), constant(1, as_dtype(dtype)))


class Constant(Initializer):
    """Every element equals ``value``."""

    def __init__(self, value: float = 0.0):
        self.value = value

    def __call__(self, shape, dtype="float32"):
        return fill(list(shape), constant(self.value, as_dtype(dtype)))

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    """Normal draws with ``mean`` and ``stddev``."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Optional[int] = None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype="float32"):
        return random_normal(list(shape), self.mean, self.stddev, as_dtype(dtype), self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal draws redrawn beyond two standard deviations."""

    def __call__(self, shape, dtype="float32"):
        return truncated_normal(list(shape), self.mean, self.stddev, as_dtype(dtype), self.seed)


class RandomUniform(Initializer):
    """Uniform draws in [minval, maxval)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Optional[int] = None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype="float32"):
        return random_uniform(list(shape), self.minval, self.maxval, as_dtype(dtype), self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(Initializer):
    """Keras's family: variance ``scale / n`` with n the fan in, out or their average.

    ``distribution`` is "truncated_normal", "untruncated_normal" or "uniform".
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: Optional[int] = None):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be fan_in, fan_out or fan_avg, got {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"VarianceScaling: distribution must be truncated_normal, "
                             f"untruncated_normal or uniform, got {distribution!r}")
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype="float32"):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        dtype: DType = as_dtype(dtype)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return random_uniform(list(shape), -limit, limit, dtype, self.seed)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(variance) / _TRUNCATED_STDDEV
            return truncated_normal(list(shape), 0.0, stddev, dtype, self.seed)
        return random_normal(list(shape), 0.0, math.sqrt(variance), dtype, self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class GlorotUniform(VarianceScaling):
    """Uniform in +-sqrt(6 / (fan_in + fan_out)) (Keras's default for kernels)."""

    def __init__(self, seed: Optional[int] = None):
        super().__init__(1.0, "fan_avg", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out))."""

    def __init__(self, seed: Optional[int] = None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(2 / fan_in) (for ReLU layers)."""

    def __init__(self, seed: Optional[int] = None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeUniform(VarianceScaling):
    """Uniform in +-sqrt(6 / fan_in)."""

    def __init__(self, seed: Optional[int] = None):
        super().__init__(2.0, "fan_in", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class LecunNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(1 / fan_in)."""

    def __init__(self, seed: Optional[int] = None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class LecunUniform(VarianceScaling):
    """Uniform in +-sqrt(3 / fan_in)."""

    def __init__(self, seed: Optional[int] = None):
        super().__init__(1.0, "fan_in", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "truncated_normal": TruncatedNormal, "random_uniform": RandomUniform,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
}


def get(identifier: Any) -> Initializer:
    """An initializer from its Keras name ("he_normal"), an Initializer, or a callable.

    Raises:
        ValueError: an unknown name, listing the known ones.
    """
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown initializer {identifier!r}; known: {', '.join(sorted(_BY_NAME))}")
        return _BY_NAME[identifier]()
    if callable(identifier):
        return identifier
    raise TypeError(f"An initializer must be a name or a callable (shape, dtype) -> Tensor, "
                    f"got {identifier!r}")


def serialize(initializer: Any) -> Any:
    """The name of a built-in initializer with default settings, else the object itself."""
    for name, cls in _BY_NAME.items():
        if type(initializer) is cls and initializer.get_config() == cls().get_config():
            return name
    return initializer
