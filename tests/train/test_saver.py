"""gn.train.Saver and latest_checkpoint: round trips, max_to_keep, all-or-nothing restores,
and checkpoints that survive a process killed in the middle of saving."""
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile

import ml_dtypes
import numpy as np
import pytest

import graphnn as gn
from graphnn.train import saver as saver_module


@pytest.fixture
def model():
    w = gn.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="dense/W")
    b = gn.Variable(np.zeros(3, np.int32), name="dense/b")
    step = gn.Variable(0, trainable=False, name="global_step")
    return w, b, step


@pytest.fixture
def sess(model):
    session = gn.Session()
    session.run(gn.global_variables_initializer())
    yield session
    session.close()


def values(sess, variables):
    return [sess.run(v) for v in variables]


def test_save_and_restore_round_trip(model, sess, tmp_path):
    w, b, step = model
    saver = gn.train.Saver()
    path = saver.save(sess, str(tmp_path / "model"))
    assert path == str(tmp_path / "model") and os.path.isfile(path + ".npz")
    saved = values(sess, model)
    sess.run([w.assign(w * 0.0), b.assign_add(np.ones(3, np.int32)), step.assign(9)])
    saver.restore(sess, path)
    for got, expected in zip(values(sess, model), saved):
        np.testing.assert_array_equal(got, expected)
    with np.load(path + ".npz", allow_pickle=False) as archive:  # plain numpy, op names
        assert sorted(archive.files) == ["dense/W", "dense/b", "global_step"]


def test_restore_into_a_fresh_session_without_initializing(model, sess, tmp_path):
    path = gn.train.Saver().save(sess, str(tmp_path / "model"))
    with gn.Session() as other:
        gn.train.Saver().restore(other, path)
        np.testing.assert_array_equal(other.run(model[0]), sess.run(model[0]))


def test_global_step_names_and_max_to_keep(model, sess, tmp_path):
    w, b, step = model
    saver = gn.train.Saver(max_to_keep=2)
    prefix = str(tmp_path / "ckpt" / "model")
    paths = [saver.save(sess, prefix, global_step=i) for i in (1, 2)]
    sess.run(step.assign(30))
    paths.append(saver.save(sess, prefix, global_step=step))
    assert paths == [f"{prefix}-1", f"{prefix}-2", f"{prefix}-30"]
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["checkpoint", "model-2.npz", "model-30.npz"]
    assert saver.last_checkpoints == paths[1:]
    assert gn.train.latest_checkpoint(str(tmp_path / "ckpt")) == paths[-1]
    with open(tmp_path / "ckpt" / "checkpoint") as file:
        index = json.load(file)
    assert (index["latest"], index["all"]) == ("model-30", ["model-2", "model-30"])


def test_max_to_keep_continues_across_savers(model, sess, tmp_path):
    prefix = str(tmp_path / "model")
    gn.train.Saver(max_to_keep=2).save(sess, prefix, global_step=1)
    gn.train.Saver(max_to_keep=2).save(sess, prefix, global_step=2)
    gn.train.Saver(max_to_keep=2).save(sess, prefix, global_step=3)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model-2.npz", "model-3.npz"]


def test_max_to_keep_none_keeps_all(model, sess, tmp_path):
    saver = gn.train.Saver(max_to_keep=None)
    for i in range(7):
        saver.save(sess, str(tmp_path / "m"), global_step=i)
    assert len([f for f in os.listdir(tmp_path) if f.endswith(".npz")]) == 7


def test_latest_checkpoint_without_checkpoints(tmp_path):
    assert gn.train.latest_checkpoint(str(tmp_path)) is None
    assert gn.train.latest_checkpoint(str(tmp_path / "missing")) is None


def test_var_list_dict_names_the_entries(model, sess, tmp_path):
    w, b, _ = model
    path = gn.train.Saver({"weights": w, "file": b}).save(sess, str(tmp_path / "m"))
    with np.load(path + ".npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["file", "weights"]
    other = gn.Variable(np.zeros((2, 3), np.float32), name="other")
    with gn.Session() as fresh:
        gn.train.Saver({"weights": other}).restore(fresh, path)
        np.testing.assert_array_equal(fresh.run(other), sess.run(w))


def test_missing_variable_is_not_found_and_changes_nothing(model, sess, tmp_path):
    w, b, step = model
    path = gn.train.Saver([w, b]).save(sess, str(tmp_path / "m"))
    before = values(sess, model)
    sess.run(w.assign(w + 1.0))
    before[0] = before[0] + 1.0
    with pytest.raises(gn.errors.NotFoundError, match="'global_step' not found in checkpoint"):
        gn.train.Saver().restore(sess, path)
    for got, expected in zip(values(sess, model), before):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("stored, words", [
    (np.zeros((3, 2), np.float32), r"'dense/b' .* expects int32 of shape \(3,\), the checkpoint "
                                   r"holds float32 of shape \(3, 2\)"),
    (np.zeros(3, np.int64), r"'dense/b' .* expects int32 of shape \(3,\), the checkpoint "
                            r"holds int64 of shape \(3,\)"),
])
def test_mismatched_value_is_invalid_and_changes_nothing(model, sess, tmp_path, stored, words):
    w, b, step = model
    good = {"dense/W": np.full((2, 3), 7, np.float32), "global_step": np.array(5, np.int32)}
    path = str(tmp_path / "bad")
    with open(path + ".npz", "wb") as file:
        np.savez(file, **good, **{"dense/b": stored})
    before = values(sess, model)
    with pytest.raises(gn.errors.InvalidArgumentError, match=words):
        gn.train.Saver().restore(sess, path)
    for got, expected in zip(values(sess, model), before):  # W, listed first, is unchanged too
        np.testing.assert_array_equal(got, expected)


def test_missing_and_corrupt_checkpoints(model, sess, tmp_path):
    saver = gn.train.Saver()
    with pytest.raises(gn.errors.NotFoundError, match="not found"):
        saver.restore(sess, str(tmp_path / "nothing"))
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(gn.errors.InvalidArgumentError, match="corrupt"):
        saver.restore(sess, str(tmp_path / "broken"))
    (tmp_path / "checkpoint").write_text("{not json")
    with pytest.raises(gn.errors.InvalidArgumentError, match="index .* is corrupt"):
        gn.train.latest_checkpoint(str(tmp_path))


def test_hostile_index_cannot_make_save_delete_other_files(model, sess, tmp_path):
    outside = tmp_path / "precious.npz"
    outside.write_bytes(b"keep me")
    directory = tmp_path / "ckpt"
    directory.mkdir()
    (directory / "checkpoint").write_text(json.dumps(
        {"format": "graphnn.checkpoint_index", "version": 1, "latest": "x",
         "all": ["../precious", str(tmp_path / "precious")]}))
    gn.train.Saver(max_to_keep=1).save(sess, str(directory / "m"))
    assert outside.read_bytes() == b"keep me"


def test_bfloat16_and_scalar_variables(tmp_path):
    v = gn.Variable(np.array([1.5, -2.0], ml_dtypes.bfloat16), name="v")
    s = gn.Variable(3.25, name="s")
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        path = gn.train.Saver().save(sess, str(tmp_path / "m"))
        sess.run([v.assign(v * np.array(0, ml_dtypes.bfloat16)), s.assign(0.0)])
        gn.train.Saver().restore(sess, path)
        got_v, got_s = sess.run([v, s])
    assert got_v.dtype == ml_dtypes.bfloat16 and got_v.tolist() == [1.5, -2.0]
    assert got_s.shape == () and got_s == 3.25


def test_a_failure_while_writing_keeps_the_previous_checkpoint(model, sess, tmp_path,
                                                               monkeypatch):
    saver = gn.train.Saver()
    first = saver.save(sess, str(tmp_path / "m"), global_step=1)

    def crash(file, arrays):
        file.write(b"PK half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(saver_module, "_write_npz", crash)
    with pytest.raises(KeyboardInterrupt):
        saver.save(sess, str(tmp_path / "m"), global_step=2)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "m-1.npz"]  # temp file removed
    assert gn.train.latest_checkpoint(str(tmp_path)) == first


def test_saver_checks_its_arguments(model, sess):
    w, b, _ = model
    with pytest.raises(TypeError, match="is not a Variable"):
        gn.train.Saver([w, w + 1.0])
    with pytest.raises(ValueError, match="used twice"):
        gn.train.Saver([w, w])
    with gn.Graph().as_default():
        with pytest.raises(ValueError, match="No variables to save"):
            gn.train.Saver()
        other = gn.Session()
    with pytest.raises(ValueError, match="Session's graph is not the graph"):
        gn.train.Saver().save(other, "unused")


KILLED_SAVER = textwrap.dedent("""
    import itertools, sys
    import numpy as np
    import graphnn as gn

    directory, first_step = sys.argv[1], int(sys.argv[2])
    big = [gn.Variable(gn.zeros([1024, 1024]), name=f"big{i}") for i in range(6)]
    small = gn.Variable(gn.zeros([7], dtype=gn.int64), name="small")
    saver = gn.train.Saver(max_to_keep=3)
    with gn.Session() as sess:
        for step in itertools.count(first_step):
            for v in big:
                v.load(np.full((1024, 1024), step, np.float32), sess)
            small.load(np.full(7, step, np.int64), sess)
            saver.save(sess, directory + "/model", global_step=step)
            print(step, flush=True)
""")


def check_checkpoints(directory):
    """The latest and every kept checkpoint restores, with the values of its own step."""
    big = [gn.Variable(gn.zeros([1024, 1024]), name=f"big{i}") for i in range(6)]
    small = gn.Variable(gn.zeros([7], dtype=gn.int64), name="small")
    saver = gn.train.Saver()
    latest = gn.train.latest_checkpoint(directory)
    assert latest is not None
    with open(os.path.join(directory, "checkpoint")) as file:
        kept = json.load(file)["all"]
    assert os.path.basename(latest) == kept[-1]
    with gn.Session() as sess:
        for name in kept:
            saver.restore(sess, os.path.join(directory, name))
            step = int(name.rsplit("-", 1)[1])
            assert (sess.run(small) == step).all()
            assert all((sess.run(v) == step).all() for v in big)
    return int(latest.rsplit("-", 1)[1])


def test_killing_a_saving_process_never_corrupts_the_latest_checkpoint(tmp_path):
    script = tmp_path / "saver.py"
    script.write_text(KILLED_SAVER)
    directory = tmp_path / "ckpt"
    directory.mkdir()
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    rng = random.Random()
    latest = 0
    for round_number in range(3):
        process = subprocess.Popen([sys.executable, str(script), str(directory),
                                    str(latest + 1)], stdout=subprocess.PIPE, env=env,
                                   stderr=subprocess.DEVNULL, text=True)
        try:
            first = process.stdout.readline()  # one checkpoint written: the loop is running
            assert first.strip(), "the saving process died before saving once"
            time.sleep(rng.uniform(0.0, 0.4))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
            process.stdout.close()
        with gn.Graph().as_default():
            newest = check_checkpoints(str(directory))
        assert newest >= int(first)
        latest = newest


def test_two_savers_in_one_directory_delete_only_their_own(model, sess, tmp_path):
    every = gn.train.Saver(max_to_keep=2)
    best = gn.train.Saver(max_to_keep=1)
    prefix, best_prefix = str(tmp_path / "model"), str(tmp_path / "best")
    for step in (1, 2, 3, 4):
        every.save(sess, prefix, global_step=step)
        if step in (1, 3):
            best.save(sess, best_prefix, global_step=step)
    assert sorted(os.listdir(tmp_path)) == ["best-3.npz", "checkpoint", "model-3.npz",
                                            "model-4.npz"]
    assert every.last_checkpoints == [f"{prefix}-3", f"{prefix}-4"]
    assert best.last_checkpoints == [f"{best_prefix}-3"]
    every.save(sess, prefix, global_step=5)
    assert sorted(os.listdir(tmp_path)) == ["best-3.npz", "checkpoint", "model-4.npz",
                                            "model-5.npz"]
    assert gn.train.latest_checkpoint(str(tmp_path)) == f"{prefix}-5"


def write_member(archive, name, header, data):
    with archive.open(name + ".npy", "w") as entry:
        np.lib.format.write_array_header_1_0(entry, header)
        entry.write(data)


def hostile_checkpoint(path, w_header, w_data):
    """A valid checkpoint of the model fixture, except for the member of "dense/W"."""
    with zipfile.ZipFile(path, "w") as archive:
        write_member(archive, "dense/W", w_header, w_data)
        for name, array in {"dense/b": np.zeros(3, np.int32),
                            "global_step": np.array(0, np.int32)}.items():
            with archive.open(name + ".npy", "w") as entry:
                np.lib.format.write_array(entry, array)


def test_restore_reads_headers_before_data(model, sess, tmp_path):
    """A 200-byte file whose header claims 512 MiB is refused without allocating it."""
    path = str(tmp_path / "hostile.npz")
    hostile_checkpoint(path, {"descr": "<f4", "fortran_order": False, "shape": (2 ** 27,)},
                       b"\0" * 24)
    assert os.path.getsize(path) < 1000
    before = values(sess, model)
    tracemalloc.start()
    try:
        with pytest.raises(gn.errors.InvalidArgumentError,
                           match=r"'dense/W' .* expects float32 of shape \(2, 3\), the "
                                 r"checkpoint holds float32 of shape \(134217728,\)"):
            gn.train.Saver().restore(sess, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2 ** 20
    for got, expected in zip(values(sess, model), before):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("header, data", [
    ({"descr": "<f4", "fortran_order": False, "shape": (2, 3)}, b"\0" * 8),   # data too short
    ({"descr": "|O", "fortran_order": False, "shape": (2, 3)}, b"\0" * 24),   # pickled objects
])
def test_restore_refuses_corrupt_members(model, sess, tmp_path, header, data):
    path = str(tmp_path / "bad.npz")
    hostile_checkpoint(path, header, data)
    with pytest.raises(gn.errors.InvalidArgumentError, match="dense/W|corrupt"):
        gn.train.Saver().restore(sess, path)


def test_write_errors_name_the_users_path_not_a_temporary_file(model, sess, tmp_path):
    (tmp_path / "model.npz").mkdir()  # a directory where the checkpoint should go
    with pytest.raises(IsADirectoryError) as caught:
        gn.train.Saver().save(sess, str(tmp_path / "model"))
    assert str(tmp_path / "model.npz") in str(caught.value) and ".tmp" not in str(caught.value)
    missing = str(tmp_path / "no" / "such" / "dir" / "g.json")
    with pytest.raises(FileNotFoundError) as caught:
        gn.io.write_graph(gn.get_default_graph(), missing)
    assert caught.value.filename == missing and ".tmp" not in str(caught.value)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
