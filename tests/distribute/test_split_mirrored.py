"""Split programs (compiler/split_executable.py) under a MirroredStrategy on 4 forced CPU
devices, against whole programs on one device and on four (one subprocess for all).

The checks run in ``programs/split.py``; each test here asserts one of its results. Each
graph is split into separately compiled segments (``roll_loops=False``) and, as a
``*_rolled`` case, rolled into ``lax.scan`` loops compiled as one program.
"""
import pytest

TOLERANCE = 1e-5
CASES = ["chain", "rnn", "chain_rolled", "rnn_rolled"]


@pytest.fixture(scope="module")
def results(program):
    return program("split.py")


@pytest.mark.parametrize("case", CASES)
def test_training_split_over_4_devices_matches_whole_programs(results, case):
    # runs then run_loop (one dispatch per segment per step): losses and weights
    split = results[f"{case}_split"]
    assert split["segments"] >= 5 and split["devices"] == 4
    assert (split["loops"] > 0) == case.endswith("_rolled")
    assert results[f"{case}_against_one_device"] < TOLERANCE
    assert results[f"{case}_against_whole"] < TOLERANCE


def test_identical_segments_still_compile_once(results):
    assert results["rnn_split"]["cache_hits"] > 0


@pytest.mark.parametrize("case", CASES)
def test_batch_feeds_are_split_and_variables_replicated(results, case):
    shardings = results[f"{case}_shardings"]
    variables = {"w"} if case.startswith("chain") else {
        "w_x", "w_h", "b", "w_x/Momentum", "w_h/Momentum", "b/Momentum"}
    assert {name for name, spec in shardings.items() if spec == []} == variables
    assert all(spec == ["batch"] for name, spec in shardings.items() if name not in variables)
    assert results[f"{case}_stored"] == [[4, "[]"]]  # stored whole on every device
    assert results[f"{case}_loop_feed_specs"] == ["['batch']"]  # each step's batch axis


@pytest.mark.parametrize("case", CASES)
def test_compile_report_shows_the_split_and_its_all_reduces(results, case):
    report = results[f"{case}_report"]
    assert results[f"{case}_collectives"].get("all-reduce", 0) >= 1
    assert "runs on 4 devices; collectives: all-reduce" in report
    assert "program split into" in report
    assert ("partitioned over 4 devices, collectives: all-reduce" if case.endswith("_rolled")
            else "each segment partitioned over 4 devices") in report


@pytest.mark.parametrize("case", CASES)
def test_a_batch_the_replicas_do_not_divide_is_refused(results, case):
    message = results[f"{case}_indivisible"]
    assert "batch of 6" in message and "over 4 replicas" in message
    assert "'x:0'" in message or "'x0:0'" in message
    assert "split.py" in message  # where the placeholder was created


def test_segments_take_model_sharded_matrices_as_stored(results):
    # w_h (6 x 6, at least min_shard_elements=30) and its momentum slot
    assert results["model_sharded_stored"].count([None, "model"]) == 2
    assert results["model_sharded_difference"] < TOLERANCE


def test_a_failed_check_in_a_partitioned_segment_changes_no_variable(results):
    assert results["failed_check_split"]
    assert "indices[3] = 4 is not in [0, 4)" in results["failed_check"]
    assert results["after_failed_check"] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]


def test_back_to_back_segments_on_cpu_devices_do_not_deadlock(results):
    assert results["pipelined_split"].get("all-reduce", 0) >= 1
    assert results["pipelined_loss"] < 2.3  # 50 Adam steps from ln(10)
