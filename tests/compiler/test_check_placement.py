"""Where each op's value check runs: on the host for fed values (the run stays
asynchronous), once at compile time for constants, in the program for computed values."""
import numpy as np

import graphnn as gn
from graphnn.compiler.checks import RunChecks
from graphnn.compiler.plan import make_plan


def placement(fetch, feeds, enabled=True):
    checks = RunChecks(make_plan(gn.get_default_graph(), [fetch], feeds), {}, enabled)
    return ([p.op.type for p in checks.host], [p.op.type for p in checks.program],
            checks.constant_failure is not None)


def test_fed_labels_are_checked_on_the_host_through_exact_integer_ops():
    x = gn.placeholder(gn.float32, [4, 3])
    y = gn.placeholder(gn.int64, [4])
    loss = gn.reduce_mean(gn.nn.sparse_softmax_cross_entropy_with_logits(
        labels=gn.identity(gn.cast(y, gn.int32)), logits=x))
    assert placement(loss, [x, y]) == (["SparseSoftmaxCrossEntropyWithLogits"], [], False)
    assert placement(loss, [x, y], enabled=False) == ([], [], False)
    rows = gn.gather(x, gn.reshape(gn.cast(y, gn.int32) - 1, [2, 2]))
    assert placement(rows, [x, y]) == (["GatherV2"], [], False)


def test_computed_values_are_checked_in_the_program():
    x = gn.placeholder(gn.float32, [4])
    rows = gn.constant(np.ones((3, 2), np.float32))
    assert placement(gn.gather(rows, gn.cast(x, gn.int32)), [x]) == ([], ["GatherV2"], False)
    assert placement(gn.gather(rows, gn.argmax(gn.reshape(x, [2, 2]), 1)), [x]) == \
        ([], ["GatherV2"], False)


def test_constants_are_checked_once_when_compiled():
    rows = gn.constant(np.ones((3, 2), np.float32))
    assert placement(gn.gather(rows, [0, 2]), []) == ([], [], False)
    assert placement(gn.gather(rows, [0, 3]), []) == ([], [], True)
    a = gn.placeholder(gn.int32, [2])
    assert placement(a // 2, [a]) == ([], [], False)
    f = gn.placeholder(gn.float32, [2])
    assert placement(f // 0.0, [f]) == ([], [], False)
