"""The op library: importing it fills the op table (``graphnn.framework.registry.OP_TABLE``)."""
from graphnn.ops import (array, conv, creation, math, nn, products, random, reduction,  # noqa: F401
                         state, summary, vjp)
