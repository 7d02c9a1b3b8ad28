"""``gn.train``: optimizers and checkpoints."""
from graphnn.train.optimizer import Optimizer
from graphnn.train.optimizers import (AdagradOptimizer, AdamOptimizer, GradientDescentOptimizer,
                                      MomentumOptimizer, RMSPropOptimizer)
from graphnn.train.saver import Saver, latest_checkpoint

__all__ = ["AdagradOptimizer", "AdamOptimizer", "GradientDescentOptimizer", "MomentumOptimizer",
           "Optimizer", "RMSPropOptimizer", "Saver", "latest_checkpoint"]
