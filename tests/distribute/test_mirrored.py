"""MirroredStrategy on 4 forced CPU devices, against one device (one subprocess for all).

The checks run in ``programs/mirrored.py`` (JAX must start with the forced devices);
each test here asserts one of its results.
"""
import pytest

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def results(program):
    return program("mirrored.py")


def test_strategy_spans_every_device(results):
    assert results["replicas"] == 4
    assert results["session_devices"] == 4


def test_run_run_loop_and_make_callable_match_one_device(results):
    assert results["low_level_difference"] < TOLERANCE


def test_fit_evaluate_predict_under_scope_match_one_device(results):
    # batch_size 12 over 64 samples: a padded last batch, and 12 % 4 == 0; evaluate's
    # batch of 10 and predict's of 3 are padded up to multiples of 4.
    assert results["model_difference"] < TOLERANCE


def test_variables_are_stored_replicated_on_every_device(results):
    assert results["stored"] and all(entry == [4, True, []] for entry in results["stored"])


def test_batch_feeds_are_split_and_others_replicated(results):
    specs = results["feed_specs"]
    assert specs["x:0"] == ["batch"] and specs["y:0"] == ["batch"]
    assert specs["rate:0"] == []
    assert specs["dense/kernel"] == []


def test_run_loop_splits_each_steps_batch_axis_not_the_step_axis(results):
    assert results["loop_feed_specs"] == [[None, "batch"], [None, "batch"]]  # x, y


def test_compile_report_shows_the_gradient_all_reduce(results):
    assert results["collectives"].get("all-reduce", 0) >= 1
    assert "runs on 4 devices; collectives: all-reduce" in results["report_text"]


def test_a_batch_the_replicas_do_not_divide_is_refused_naming_both(results):
    message = results["indivisible"]
    assert "batch of 6" in message and "over 4 replicas" in message and "'x:0'" in message
    assert "mlp.py" in message  # where the placeholder was created


def test_model_axis_shards_large_matrices_and_keeps_results(results):
    assert results["model_sharded_replicas"] == 2
    # the 8x32 kernel (256 elements, at least min_shard_elements=200) and its momentum slot
    assert results["model_sharded_stored"].count([None, "model"]) == 2
    assert results["model_sharded_difference"] < TOLERANCE


def test_random_draws_do_not_depend_on_the_split(results):
    assert results["dropout_difference"] == 0.0


def test_a_failed_value_check_in_a_partitioned_program_changes_no_variable(results):
    assert "indices[3] = 4 is not in [0, 4)" in results["failed_check"]  # global positions
    assert results["after_failed_check"] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]


def test_back_to_back_runs_on_cpu_devices_do_not_deadlock(results):
    assert results["pipelined_loss"] < 2.3  # 50 Adam steps from ln(10)
