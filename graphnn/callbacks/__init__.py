"""``gn.callbacks``: hooks that ``Sequential.fit`` calls each epoch (Keras's)."""
from graphnn.callbacks.callbacks import Callback, EarlyStopping, History, LambdaCallback

__all__ = ["Callback", "EarlyStopping", "History", "LambdaCallback"]
