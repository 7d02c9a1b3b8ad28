"""The TensorFlow 1 optimizers, each update written with graphnn ops."""
from __future__ import annotations

from typing import Any

from graphnn.framework.graph import convert_to_tensor
from graphnn.framework.tensor import Tensor
from graphnn.ops.creation import cast
from graphnn.ops.math import rsqrt, sqrt
from graphnn.ops.state import Variable
from graphnn.train.optimizer import Optimizer


class GradientDescentOptimizer(Optimizer):
    """``var -= learning_rate * grad``.

    Example:
        >>> train = gn.train.GradientDescentOptimizer(0.1).minimize(loss)
    """

    def __init__(self, learning_rate: Any, name: str = "GradientDescent"):
        super().__init__(name)
        self._learning_rate = learning_rate

    def get_config(self) -> dict:
        return {"learning_rate": self._learning_rate, "name": self._name}

    def _apply_dense(self, grad: Tensor, var: Variable) -> Tensor:
        return var.assign_sub(self._hyper(self._learning_rate, var.dtype, var.graph) * grad)


class MomentumOptimizer(Optimizer):
    """``accum = momentum * accum + grad; var -= lr * accum``
    (Nesterov: ``var -= lr * (grad + momentum * accum)``), as TF 1.

    Example:
        >>> opt = gn.train.MomentumOptimizer(0.01, momentum=0.9, use_nesterov=True)
    """

    def __init__(self, learning_rate: Any, momentum: Any, use_nesterov: bool = False,
                 name: str = "Momentum"):
        super().__init__(name)
        self._learning_rate, self._momentum = learning_rate, momentum
        self._use_nesterov = use_nesterov

    def get_config(self) -> dict:
        return {"learning_rate": self._learning_rate, "momentum": self._momentum,
                "use_nesterov": self._use_nesterov, "name": self._name}

    def _create_slots(self, var: Variable) -> None:
        self._slot(var, "momentum")

    def _apply_dense(self, grad: Tensor, var: Variable) -> Tensor:
        lr = self._hyper(self._learning_rate, var.dtype, var.graph)
        momentum = self._hyper(self._momentum, var.dtype, var.graph)
        accum = self.get_slot(var, "momentum")
        new_accum = accum.assign(momentum * accum + grad)
        step = grad + momentum * new_accum if self._use_nesterov else new_accum
        return var.assign_sub(lr * step)


class AdamOptimizer(Optimizer):
    """Adam with TensorFlow 1's update: ``lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)``,
    ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g^2``, ``var -= lr_t * m / (sqrt(v) + eps)``.

    Example:
        >>> train = gn.train.AdamOptimizer(1e-3).minimize(loss)
    """

    def __init__(self, learning_rate: Any = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8, name: str = "Adam"):
        super().__init__(name)
        self._learning_rate, self._beta1, self._beta2 = learning_rate, beta1, beta2
        self._epsilon = epsilon
        self._powers: dict[str, Variable] = {}

    def get_config(self) -> dict:
        return {"learning_rate": self._learning_rate, "beta1": self._beta1, "beta2": self._beta2,
                "epsilon": self._epsilon, "name": self._name}

    def _create_slots(self, var: Variable) -> None:
        self._slot(var, "m")
        self._slot(var, "v")
        if not self._powers:
            graph = var.graph
            with graph.name_scope(None), graph.control_dependencies(None):
                self._powers = {
                    "beta1_power": Variable(convert_to_tensor(self._beta1, var.dtype, graph=graph),
                                            trainable=False, name="beta1_power"),
                    "beta2_power": Variable(convert_to_tensor(self._beta2, var.dtype, graph=graph),
                                            trainable=False, name="beta2_power")}

    def _power(self, name: str, var: Variable) -> Tensor:
        power = self._powers[name]
        return power if power.dtype == var.dtype else cast(power, var.dtype)

    def _apply_dense(self, grad: Tensor, var: Variable) -> Tensor:
        graph = var.graph
        lr = self._hyper(self._learning_rate, var.dtype, graph)
        beta1 = self._hyper(self._beta1, var.dtype, graph)
        beta2 = self._hyper(self._beta2, var.dtype, graph)
        epsilon = self._hyper(self._epsilon, var.dtype, graph)
        lr_t = lr * sqrt(1.0 - self._power("beta2_power", var)) / (
            1.0 - self._power("beta1_power", var))
        m = self.get_slot(var, "m").assign(beta1 * self.get_slot(var, "m") + (1.0 - beta1) * grad)
        v = self.get_slot(var, "v").assign(
            beta2 * self.get_slot(var, "v") + (1.0 - beta2) * grad * grad)
        return var.assign_sub(lr_t * m / (sqrt(v) + epsilon))

    def _finish(self) -> list:
        beta1_power, beta2_power = self._powers["beta1_power"], self._powers["beta2_power"]
        return [beta1_power.assign(beta1_power * self._beta1),
                beta2_power.assign(beta2_power * self._beta2)]

    def variables(self) -> list[Variable]:
        return super().variables() + list(self._powers.values())


class RMSPropOptimizer(Optimizer):
    """RMSProp as TF 1: ``ms = decay*ms + (1-decay)*g^2`` (ms starts at 1),
    ``mom = momentum*mom + lr*g/sqrt(ms + eps)``, ``var -= mom``; ``centered`` subtracts
    the squared mean gradient from ms.

    Example:
        >>> opt = gn.train.RMSPropOptimizer(1e-3, decay=0.9)
    """

    def __init__(self, learning_rate: Any, decay: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-10, centered: bool = False, name: str = "RMSProp"):
        super().__init__(name)
        self._learning_rate, self._decay, self._momentum = learning_rate, decay, momentum
        self._epsilon, self._centered = epsilon, centered

    def get_config(self) -> dict:
        return {"learning_rate": self._learning_rate, "decay": self._decay,
                "momentum": self._momentum, "epsilon": self._epsilon,
                "centered": self._centered, "name": self._name}

    def _create_slots(self, var: Variable) -> None:
        self._slot(var, "rms", initial=1.0)
        self._slot(var, "momentum")
        if self._centered:
            self._slot(var, "mg")

    def _apply_dense(self, grad: Tensor, var: Variable) -> Tensor:
        graph = var.graph
        lr = self._hyper(self._learning_rate, var.dtype, graph)
        decay = self._hyper(self._decay, var.dtype, graph)
        momentum = self._hyper(self._momentum, var.dtype, graph)
        epsilon = self._hyper(self._epsilon, var.dtype, graph)
        rms = self.get_slot(var, "rms")
        ms = rms.assign(decay * rms + (1.0 - decay) * grad * grad)
        denominator = ms
        if self._centered:
            mg_slot = self.get_slot(var, "mg")
            mg = mg_slot.assign(decay * mg_slot + (1.0 - decay) * grad)
            denominator = ms - mg * mg
        mom_slot = self.get_slot(var, "momentum")
        mom = mom_slot.assign(momentum * mom_slot + lr * grad * rsqrt(denominator + epsilon))
        return var.assign_sub(mom)


class AdagradOptimizer(Optimizer):
    """Adagrad as TF 1: ``accum += g^2; var -= lr * g / sqrt(accum)``, accum starting at 0.1.

    Example:
        >>> opt = gn.train.AdagradOptimizer(0.1)
    """

    def __init__(self, learning_rate: Any, initial_accumulator_value: float = 0.1,
                 name: str = "Adagrad"):
        super().__init__(name)
        if initial_accumulator_value <= 0:
            raise ValueError(f"initial_accumulator_value must be positive, got "
                             f"{initial_accumulator_value}")
        self._learning_rate = learning_rate
        self._initial = initial_accumulator_value

    def get_config(self) -> dict:
        return {"learning_rate": self._learning_rate,
                "initial_accumulator_value": self._initial, "name": self._name}

    def _create_slots(self, var: Variable) -> None:
        self._slot(var, "accumulator", initial=self._initial)

    def _apply_dense(self, grad: Tensor, var: Variable) -> Tensor:
        lr = self._hyper(self._learning_rate, var.dtype, var.graph)
        accumulator = self.get_slot(var, "accumulator")
        accum = accumulator.assign(accumulator + grad * grad)
        return var.assign_sub(lr * grad * rsqrt(accum))
