"""``Session(check_numerics=True)``: a NaN/Inf check after every op of a run.

Each floating-point output of each computing op of the run's private copy (and each
fed value) gets a ``CheckNumerics`` op that its consumers then read, so every check
comes after the checks of the values it was computed from: the first check to fail
in the program is the first op that produced a NaN or an Inf, and the error names
that op and where the user created it. The checks are placed as any value check
(``compiler.checks``), so the failing run changes no variable.
"""
from __future__ import annotations

import collections

from graphnn.compiler.subgraph import RunGraph
from graphnn.framework.graph import Operation
from graphnn.ops.state import PLACEHOLDER_OP

CHECK_OP = "CheckNumerics"


def _checked(op: Operation) -> bool:
    """Whether the outputs of ``op`` get a check: computed values and fed ones; constants and
    variables hold what the user put there (a variable's every assign is checked)."""
    return op.type != CHECK_OP and (not op.op_def.source or op.type == PLACEHOLDER_OP)


def check_every_output(run: RunGraph) -> collections.Counter:
    """Puts a ``CheckNumerics`` after every floating-point output that the run uses."""
    graph = run.graph
    added = 0
    for op in graph.get_operations():
        if not _checked(op):
            continue
        user = run.origin.get(op, op)
        for tensor in op.outputs:
            fetched = tensor in run.fetches
            if not tensor.dtype.is_floating or not (fetched or graph.consumers_of(tensor)):
                continue
            message = (f"output {tensor.value_index} (checked by "
                       f"gn.Session(check_numerics=True))")
            check = graph.create_op(CHECK_OP, [tensor], {"message": message},
                                    name=f"{op.name}/check_numerics", location=op.location)
            check.gradient_of = op.gradient_of
            run.origin[check] = user  # the error names the op that produced the value
            graph.replace_uses(tensor, check.outputs[0], keep=check)
            run.fetches = [check.outputs[0] if f is tensor else f for f in run.fetches]
            added += 1
    return collections.Counter({"NaN/Inf check added": added} if added else {})

