"""``gn.train``: optimizers (and, later, checkpoints)."""
from graphnn.train.optimizer import Optimizer
from graphnn.train.optimizers import (AdagradOptimizer, AdamOptimizer, GradientDescentOptimizer,
                                      MomentumOptimizer, RMSPropOptimizer)

__all__ = ["AdagradOptimizer", "AdamOptimizer", "GradientDescentOptimizer", "MomentumOptimizer",
           "Optimizer", "RMSPropOptimizer"]
