"""Weight regularizers (Keras): a penalty Tensor added to the training loss.

Example:
    >>> gn.layers.Dense(64, kernel_regularizer="l2")            # 0.01 * sum(W ** 2)
    >>> gn.layers.Dense(64, kernel_regularizer=gn.layers.regularizers.L1(1e-4))
"""
from __future__ import annotations

import abc
from typing import Any, Optional

from graphnn.framework.tensor import Tensor
from graphnn.ops.math import abs as abs_, square
from graphnn.ops.reduction import reduce_sum


class Regularizer(abc.ABC):
    """Base class: ``regularizer(weight)`` returns a scalar penalty Tensor."""

    @abc.abstractmethod
    def __call__(self, weight: Tensor) -> Tensor:
        """The scalar penalty of ``weight``."""

    def get_config(self) -> dict:
        return {}


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w ** 2)`` (Keras: no factor 1/2 on the L2 term)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        if l1 < 0 or l2 < 0:
            raise ValueError(f"Regularization factors must be >= 0, got l1={l1}, l2={l2}")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, weight: Tensor) -> Tensor:
        terms = []
        if self.l1:
            terms.append(self.l1 * reduce_sum(abs_(weight)))
        if self.l2:
            terms.append(self.l2 * reduce_sum(square(weight)))
        if not terms:
            return reduce_sum(weight * 0.0)
        return terms[0] + terms[1] if len(terms) == 2 else terms[0]

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|w|)``; Keras's default factor 0.01."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w ** 2)``; Keras's default factor 0.01."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier: Any) -> Optional[Regularizer]:
    """A regularizer from None, a name ("l1", "l2", "l1_l2"), a Regularizer or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown regularizer {identifier!r}; known: {', '.join(_BY_NAME)}")
        return _BY_NAME[identifier]()
    if callable(identifier):
        return identifier
    raise TypeError(f"A regularizer must be None, a name or a callable weight -> Tensor, "
                    f"got {identifier!r}")
