"""``gn.debugging``: checks for hunting NaNs (TensorFlow's ``tf.debugging``).

``gn.Session(check_numerics=True)`` checks every op of every run instead.
"""
from graphnn.ops.debugging import check_numerics

__all__ = ["check_numerics"]
