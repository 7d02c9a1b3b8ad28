"""From a graph and a run request to a compiled XLA program: pruning, analysis, lowering."""
