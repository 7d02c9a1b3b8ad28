"""compile_report carries XLA's cost and memory estimates of the compiled program."""
import numpy as np

import graphnn as gn


def test_compile_report_has_xla_flops_and_memory():
    x = gn.placeholder(gn.float32, [64, 32])
    w = gn.Variable(np.ones((32, 16), np.float32))
    y = gn.tanh(gn.matmul(x, w))
    feeds = {x: np.ones((64, 32), np.float32)}
    with gn.Session() as sess:
        sess.run(w.initializer)
        cost = sess.compile_report(y, feeds).cost
        small = sess.compile_report(gn.reduce_sum(x), feeds).cost
        text = str(sess.compile_report(y, feeds))
    assert cost.flops >= 2 * 64 * 32 * 16  # the matmul alone
    assert cost.transcendentals >= 64 * 16
    assert small.flops < cost.flops
    assert cost.argument_bytes == (64 * 32 + 32 * 16) * 4
    assert cost.output_bytes == 64 * 16 * 4
    assert "FLOPs" in text and "temporaries" in text


def test_training_step_updates_variables_in_place():
    w = gn.Variable(np.zeros((100,), np.float32))
    step = w.assign_add(gn.ones([100]))
    with gn.Session() as sess:
        sess.run(w.initializer)
        cost = sess.compile_report(step).cost
    assert cost.alias_bytes == 400  # the donated variable is written where it was
