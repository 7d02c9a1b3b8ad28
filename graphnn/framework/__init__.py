"""The graph IR: Graph, Operation, Tensor, dtypes, shapes and the op table."""
