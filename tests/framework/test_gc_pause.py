"""gc_paused: the cyclic collector is off inside, and back as it was after, also when
pauses nest and when gn.gradients and a Session compile use it."""
import gc

import numpy as np

import graphnn as gn
from graphnn.framework.gc_pause import gc_paused


def test_the_collector_is_off_inside_and_on_again_after():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # only the outermost pause switches it back on
    assert gc.isenabled()


def test_a_collector_the_user_switched_off_stays_off():
    gc.disable()
    try:
        with gc_paused():
            pass
        x = gn.placeholder(gn.float32, [3], name="x")
        dx, = gn.gradients(gn.reduce_sum(x * x), x)
        with gn.Session() as sess:
            sess.run(dx, {x: np.ones(3, np.float32)})
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_is_back_after_a_failing_gradient_and_run():
    x = gn.placeholder(gn.float32, [3], name="x")
    dx, = gn.gradients(gn.reduce_sum(x * x), x)
    try:
        gn.gradients(gn.reduce_sum(x), [x, 1.0])  # refused inside the pause
    except TypeError:
        pass
    with gn.Session() as sess:
        try:
            sess.run(dx)  # x is not fed
        except gn.errors.InvalidArgumentError:
            pass
    assert gc.isenabled()
