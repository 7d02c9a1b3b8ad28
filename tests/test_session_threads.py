"""One Session shared by threads (DESIGN.md section 2): trainers lose no update, readers
see consistent values, a Saver saves while others train, a program compiles once."""
import threading

import numpy as np
import pytest

import graphnn as gn

THREADS = 4
STEPS = 150
SIZE = 1000  # big enough that XLA updates the variable in place (its buffer is donated)


@pytest.fixture
def counter(sess):
    """A vector and a count, both advanced by one in every run of ``step``."""
    v = gn.Variable(np.zeros(SIZE, np.float32), name="v")
    count = gn.Variable(0, name="count", trainable=False)
    step = gn.group(v.assign_add(gn.ones([SIZE])), count.assign_add(1))
    sess.run(gn.global_variables_initializer())
    return v, count, step


def run_threads(*targets):
    """Runs each target in its own thread, started together; re-raises the first failure."""
    errors = []
    barrier = threading.Barrier(len(targets))

    def guarded(target):
        barrier.wait()
        try:
            target()
        except BaseException as error:  # noqa: BLE001 -- reported to the test below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_concurrent_trainers_lose_no_update(sess, counter):
    v, count, step = counter

    def train():
        for _ in range(STEPS):
            sess.run(step)

    run_threads(*[train] * THREADS)
    assert sess.run(count) == THREADS * STEPS
    np.testing.assert_array_equal(sess.run(v), np.full(SIZE, THREADS * STEPS, np.float32))


def test_readers_during_training_see_one_whole_state(sess, counter):
    v, count, step = counter
    seen = []

    def train():
        for _ in range(STEPS):
            sess.run(step)

    def read():
        for _ in range(STEPS):
            values, n = sess.run([v, count])
            assert np.all(values == n), "a read mixed two states"
            seen.append(int(n))

    run_threads(train, train, read, read)
    assert sess.run(count) == 2 * STEPS
    assert all(0 <= n <= 2 * STEPS for n in seen)


def test_a_fetched_value_survives_later_in_place_updates(sess, counter):
    v, _, step = counter
    before = sess.run(v)
    for _ in range(3):
        sess.run(step)
    np.testing.assert_array_equal(before, np.zeros(SIZE, np.float32))


def test_saving_while_another_thread_trains(sess, counter, tmp_path):
    v, count, step = counter
    saver = gn.train.Saver(max_to_keep=None)
    paths = []
    done = threading.Event()

    def train():
        for _ in range(STEPS):
            sess.run(step)
        done.set()

    def save():
        while not done.is_set() or not paths:
            paths.append(saver.save(sess, str(tmp_path / "model"), global_step=count))

    run_threads(train, save)
    assert sess.run(count) == STEPS
    with gn.Session() as other:
        for path in paths:
            saver.restore(other, path)
            values, n = other.run([v, count])
            assert path.endswith(f"-{n}")  # the name's step and the values: one snapshot
            np.testing.assert_array_equal(values, np.full(SIZE, n, np.float32))


def test_make_callable_from_several_threads(sess, counter):
    v, count, step = counter
    x = gn.placeholder(gn.float32, [SIZE], name="x")
    scaled = sess.make_callable(2.0 * x, [x])
    train = sess.make_callable(step)

    def use_callables(seed):
        data = np.full(SIZE, seed, np.float32)
        for _ in range(STEPS):
            np.testing.assert_array_equal(scaled(data), 2.0 * data)
            train()

    run_threads(*[lambda s=s: use_callables(s) for s in range(THREADS)])
    assert sess.run(count) == THREADS * STEPS


def test_threads_running_a_new_fetch_compile_it_once(sess, counter):
    v, _, _ = counter
    total = gn.reduce_sum(v * 3.0)
    before = sess.compilation_count
    results = []
    run_threads(*[lambda: results.append(sess.run(total))] * THREADS)
    assert results == [0.0] * THREADS
    assert sess.compilation_count == before + 1


def test_runs_failing_an_index_check_among_trainers_change_nothing(sess, counter):
    v, count, step = counter
    index = gn.placeholder(gn.float32, [], name="index")
    # A computed index, checked inside the program, in a run that also trains.
    bad_step = gn.group(step, gn.gather(v, gn.cast(index, gn.int32)))

    def train():
        for _ in range(STEPS):
            sess.run(step)

    def fail():
        for _ in range(STEPS // 10):
            with pytest.raises(gn.errors.InvalidArgumentError, match="is not in"):
                sess.run(bad_step, {index: float(SIZE)})

    run_threads(train, train, fail)
    assert sess.run(count) == 2 * STEPS
    np.testing.assert_array_equal(sess.run(v), np.full(SIZE, 2 * STEPS, np.float32))
