"""gn.device: TF 1 device strings recorded on ops; soft placement in compile_report."""
import numpy as np
import pytest

import graphnn as gn
from graphnn.framework.devices import DeviceSpec


@pytest.mark.parametrize("spec, canonical", [
    ("/cpu:0", "/device:CPU:0"),
    ("/CPU:1", "/device:CPU:1"),
    ("/device:GPU:0", "/device:GPU:0"),
    ("gpu", "/device:GPU:*"),
    ("GPU:2", "/device:GPU:2"),
    ("/device:TPU:*", "/device:TPU:*"),
    ("/job:worker/replica:0/task:1/device:CPU:0", "/job:worker/replica:0/task:1/device:CPU:0"),
    ("/job:ps", "/job:ps"),
])
def test_device_strings_are_read_as_tf1_does(spec, canonical):
    with gn.device(spec):
        op = gn.constant(1.0).op
    assert op.device == canonical


def test_ops_outside_any_scope_record_no_device():
    assert gn.constant(1.0).op.device == ""


def test_nested_scopes_merge_and_none_clears():
    with gn.device("/job:worker/task:0"):
        with gn.device("/gpu:1"):
            inner = gn.constant(1.0)
        with gn.device("gpu"):
            any_gpu = gn.constant(1.0)
        with gn.device(None):
            cleared = gn.constant(1.0)
        outer = gn.constant(1.0)
    after = gn.constant(1.0)
    assert inner.op.device == "/job:worker/task:0/device:GPU:1"
    assert any_gpu.op.device == "/job:worker/task:0/device:GPU:*"
    assert cleared.op.device == ""
    assert outer.op.device == "/job:worker/task:0"
    assert after.op.device == ""


def test_every_op_created_inside_records_the_device_gradients_too():
    x = gn.placeholder(gn.float32, [None, 2])
    with gn.device("/cpu:0"):
        w = gn.Variable(np.ones((2, 1), np.float32), name="w")
        y = gn.reduce_sum(x @ w)
        grad, = gn.gradients(y, [w])
    assert {w.op.device, y.op.device, grad.op.device} == {"/device:CPU:0"}
    assert x.op.device == ""


@pytest.mark.parametrize("bad", ["/cpu:zero", "/device:", "/device:GPU:0:1", "/job"])
def test_a_bad_device_string_is_a_value_error_naming_it(bad):
    with pytest.raises(ValueError, match="gn.device"):
        with gn.device(bad):
            pass


def test_device_spec_parts():
    spec = DeviceSpec.from_string("/job:worker/task:3/device:GPU:1")
    assert (spec.job, spec.task, spec.device_type, spec.device_index) == ("worker", 3, "GPU", 1)


def test_an_op_pinned_to_an_absent_device_follows_the_session_and_the_report_says_so(sess):
    x = gn.placeholder(gn.float32, [None], name="x")
    with gn.device("/device:GPU:7"):
        y = gn.multiply(x, 2.0, name="double")
    np.testing.assert_allclose(sess.run(y, {x: [1.0, 2.0]}), [2.0, 4.0])
    report = sess.compile_report(y, {x: [1.0, 2.0]})
    assert len(report.placement) == 1
    note = report.placement[0]
    assert "/device:GPU:7" in note and "'double'" in note and "soft placement" in note
    assert str(sess.devices[0]) in note
    assert f"placement: {note}" in str(report)


def test_an_op_pinned_to_the_sessions_device_runs_there(sess):
    where = sess.devices[0]
    with gn.device(f"/device:{where.platform.upper()}:{where.id}"):
        y = gn.constant(3.0, name="three") * 2.0
    assert sess.run(y) == 6.0
    note, = sess.compile_report(y).placement
    assert "run there" in note


def test_session_devices_name_where_runs_execute(sess):
    assert len(sess.devices) == 1
    assert gn.Session(device="cpu").devices[0].platform == "cpu"
