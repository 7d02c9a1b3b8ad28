"""The op library: importing it fills the op table (``graphnn.framework.registry.OP_TABLE``)."""
from graphnn.ops import (array, conv, creation, math, nn, random, reduction, state,  # noqa: F401
                         summary, vjp)
