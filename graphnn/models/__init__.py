"""``gn.models``: ``Sequential`` with Keras's compile / fit / evaluate / predict, save / load_model."""
from graphnn.models import losses, metrics
from graphnn.models.sequential import Sequential, load_model

__all__ = ["Sequential", "load_model", "losses", "metrics"]
