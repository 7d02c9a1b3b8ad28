"""``gn.callbacks``: hooks that ``fit`` calls each epoch and batch (Keras's)."""
from graphnn.callbacks.callbacks import Callback, EarlyStopping, History, LambdaCallback
from graphnn.callbacks.checkpoint import ModelCheckpoint

__all__ = ["Callback", "EarlyStopping", "History", "LambdaCallback", "ModelCheckpoint"]
