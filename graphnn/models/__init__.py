"""``gn.models``: ``Sequential`` with Keras's compile / fit / evaluate / predict."""
from graphnn.models import losses, metrics
from graphnn.models.sequential import Sequential

__all__ = ["Sequential", "losses", "metrics"]
