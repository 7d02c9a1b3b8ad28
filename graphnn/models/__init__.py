"""``gn.models``: ``Model`` (functional) and ``Sequential`` with Keras's compile / fit /
evaluate / predict / summary, ``save`` / ``load_model``."""
from graphnn.models import losses, metrics
from graphnn.models.loading import load_model
from graphnn.models.model import Model
from graphnn.models.sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "losses", "metrics"]
