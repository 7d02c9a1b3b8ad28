"""Session semantics: fetch structures, feeds, variables, read order, caching, randomness,
dtypes, devices and default sessions (DESIGN.md section 2)."""
import collections

import numpy as np
import pytest

import graphnn as gn




Pair = collections.namedtuple("Pair", ["first", "second"])


def _assert_array(value, expected, dtype=np.float32):
    assert isinstance(value, np.ndarray)
    assert value.dtype == dtype
    np.testing.assert_allclose(value, expected)


# ----- fetch structures -------------------------------------------------------------
def test_single_tensor_fetch_returns_numpy_array(sess):
    result = sess.run(gn.constant([1.0, 2.0]) * 2.0)
    _assert_array(result, [2.0, 4.0])


def test_list_tuple_and_dict_fetches_are_mirrored(sess):
    a = gn.constant(1.0)
    b = gn.constant([2, 3])
    as_list = sess.run([a, b])
    as_tuple = sess.run((a, b))
    as_dict = sess.run({"a": a, "b": b})
    assert type(as_list) is list and len(as_list) == 2
    assert type(as_tuple) is tuple and len(as_tuple) == 2
    assert type(as_dict) is dict and set(as_dict) == {"a", "b"}
    for first, second in (as_list, as_tuple, (as_dict["a"], as_dict["b"])):
        _assert_array(first, 1.0)
        _assert_array(second, [2, 3], np.int32)


def test_namedtuple_fetch_is_rebuilt_as_namedtuple(sess):
    result = sess.run(Pair(first=gn.constant(1.0), second=gn.constant(2.0)))
    assert isinstance(result, Pair)
    _assert_array(result.first, 1.0)
    _assert_array(result.second, 2.0)


def test_nested_fetch_structure(sess):
    a, b, c = gn.constant(1.0), gn.constant(2.0), gn.constant(3.0)
    fetches = {"outer": [a, (b, {"deep": c})], "pair": Pair(a, [b, c]), "op": gn.no_op()}
    result = sess.run(fetches)
    assert set(result) == {"outer", "pair", "op"}
    assert type(result["outer"]) is list
    assert type(result["outer"][1]) is tuple
    _assert_array(result["outer"][0], 1.0)
    _assert_array(result["outer"][1][0], 2.0)
    _assert_array(result["outer"][1][1]["deep"], 3.0)
    assert isinstance(result["pair"], Pair)
    _assert_array(result["pair"].first, 1.0)
    assert [float(v) for v in result["pair"].second] == [2.0, 3.0]
    assert result["op"] is None


def test_same_tensor_fetched_twice(sess):
    a = gn.constant([1.0, 2.0])
    first, second = sess.run([a, a])
    _assert_array(first, [1.0, 2.0])
    _assert_array(second, [1.0, 2.0])


def test_fetching_an_operation_returns_none(sess):
    v = gn.Variable(1.0)
    assert sess.run(v.initializer) is None
    assert sess.run(gn.no_op()) is None
    op_result, value = sess.run([gn.no_op(), v])
    assert op_result is None
    _assert_array(value, 1.0)


def test_fetch_by_tensor_name_and_operation_name(sess):
    x = gn.constant([1.0, 2.0], name="x")
    gn.multiply(x, 3.0, name="y")
    v = gn.Variable(4.0, name="v")
    gn.global_variables_initializer()  # named "init"
    assert sess.run("init") is None
    _assert_array(sess.run("y:0"), [3.0, 6.0])
    _assert_array(sess.run(v), 4.0)
    results = sess.run({"y": "y:0", "v": "v:0"})
    _assert_array(results["y"], [3.0, 6.0])
    _assert_array(results["v"], 4.0)


def test_fetching_a_variable_returns_its_value(sess):
    v = gn.Variable([[1.0, 2.0]], name="v")
    sess.run(v.initializer)
    _assert_array(sess.run(v), [[1.0, 2.0]])
    _assert_array(sess.run(v.value()), [[1.0, 2.0]])


# ----- feeds -----------------------------------------------------------------------
def test_feed_by_tensor_and_by_name(sess):
    x = gn.placeholder(gn.float32, [None], name="x")
    y = x * 2.0
    _assert_array(sess.run(y, feed_dict={x: [1.0, 2.0]}), [2.0, 4.0])
    _assert_array(sess.run(y, feed_dict={"x:0": [3.0]}), [6.0])
    _assert_array(sess.run(y, feed_dict={"x": np.array([4.0])}), [8.0])


def test_feed_is_converted_to_placeholder_dtype(sess):
    x = gn.placeholder(gn.float32, [2], name="x")
    i = gn.placeholder(gn.int32, [2], name="i")
    fx, fi = sess.run([x, i], feed_dict={x: [1, 2], i: np.array([3.0, 4.0])})
    _assert_array(fx, [1.0, 2.0], np.float32)
    _assert_array(fi, [3, 4], np.int32)


def test_feeding_an_intermediate_tensor_overrides_it(sess):
    x = gn.placeholder(gn.float32, [None], name="x")
    hidden = x * 10.0
    out = hidden + 1.0
    # x is not needed once hidden is fed: no missing-feed error.
    _assert_array(sess.run(out, feed_dict={hidden: [1.0, 2.0]}), [2.0, 3.0])
    _assert_array(sess.run(out, feed_dict={x: [1.0]}), [11.0])


def test_feeding_a_constant_overrides_it(sess):
    c = gn.constant(2.0)
    y = c * 3.0
    _assert_array(sess.run(y), 6.0)
    _assert_array(sess.run(y, feed_dict={c: 5.0}), 15.0)
    _assert_array(sess.run(y), 6.0)


def test_fetching_a_fed_tensor_returns_the_fed_value(sess):
    x = gn.placeholder(gn.float32, [3])
    _assert_array(sess.run(x, feed_dict={x: [1, 2, 3]}), [1.0, 2.0, 3.0])


def test_placeholder_with_default(sess):
    p = gn.placeholder_with_default(gn.constant([1.0, 2.0]), shape=[None])
    y = p * 2.0
    _assert_array(sess.run(y), [2.0, 4.0])
    _assert_array(sess.run(y, feed_dict={p: [5.0, 6.0, 7.0]}), [10.0, 12.0, 14.0])
    flag = gn.placeholder_with_default(False, shape=[])
    assert sess.run(flag) == np.False_
    assert sess.run(flag, feed_dict={flag: True}) == np.True_


# ----- variables ------------------------------------------------------------------
def test_variable_initializer_and_global_initializer(sess):
    a = gn.Variable([1.0, 2.0], name="a")
    b = gn.Variable(gn.ones([2, 2]), name="b")
    c = gn.Variable(3, name="c")
    sess.run(a.initializer)
    _assert_array(sess.run(a), [1.0, 2.0])
    sess.run(gn.global_variables_initializer())
    _assert_array(sess.run(b), np.ones([2, 2]))
    _assert_array(sess.run(c), 3, np.int32)


def test_variables_initializer_of_a_subset(sess):
    a = gn.Variable(1.0, name="a")
    b = gn.Variable(2.0, name="b")
    sess.run(gn.variables_initializer([b]))
    _assert_array(sess.run(b), 2.0)
    with pytest.raises(gn.errors.FailedPreconditionError):
        sess.run(a)


def test_initializer_depending_on_another_variable(sess):
    a = gn.Variable(2.0, name="a")
    b = gn.Variable(a.initial_value * 3.0, name="b")
    sess.run(gn.global_variables_initializer())
    _assert_array(sess.run(b), 6.0)


def test_assign_ops_return_the_new_value_and_persist(sess):
    v = gn.Variable(10.0, name="v")
    sess.run(v.initializer)
    _assert_array(sess.run(v.assign(3.0)), 3.0)
    _assert_array(sess.run(v), 3.0)
    _assert_array(sess.run(v.assign_add(2.0)), 5.0)
    _assert_array(sess.run(v), 5.0)
    _assert_array(sess.run(v.assign_sub(1.5)), 3.5)
    _assert_array(sess.run(v), 3.5)


def test_values_persist_across_runs(sess):
    counter = gn.Variable(0, name="counter")
    step = counter.assign_add(1)
    sess.run(counter.initializer)
    results = [int(sess.run(step)) for _ in range(5)]
    assert results == [1, 2, 3, 4, 5]
    assert int(sess.run(counter)) == 5


def test_assign_from_a_fed_value(sess):
    v = gn.Variable(gn.zeros([2]), name="v")
    x = gn.placeholder(gn.float32, [2])
    update = v.assign(x * 2.0)
    sess.run(v.initializer)
    _assert_array(sess.run(update, feed_dict={x: [1.0, 2.0]}), [2.0, 4.0])
    _assert_array(sess.run(v), [2.0, 4.0])


def test_variables_are_per_session(fresh_default_graph):
    v = gn.Variable(1.0)
    inc = v.assign_add(1.0)
    with gn.Session() as first, gn.Session() as second:
        first.run(v.initializer)
        second.run(v.initializer)
        first.run(inc)
        first.run(inc)
        _assert_array(first.run(v), 3.0)
        _assert_array(second.run(v), 1.0)


def test_reinitializing_resets_the_value(sess):
    v = gn.Variable(1.0)
    sess.run(v.initializer)
    sess.run(v.assign(7.0))
    sess.run(gn.global_variables_initializer())
    _assert_array(sess.run(v), 1.0)


def test_group_of_assigns_applies_all(sess):
    a = gn.Variable(1.0, name="a")
    b = gn.Variable(10.0, name="b")
    update = gn.group(a.assign_add(1.0), b.assign_sub(4.0))
    sess.run(gn.global_variables_initializer())
    assert sess.run(update) is None
    _assert_array(sess.run(a), 2.0)
    _assert_array(sess.run(b), 6.0)
    sess.run(update)
    assert [float(x) for x in sess.run([a, b])] == [3.0, 2.0]


def test_variable_load_initializes_the_variable(sess):
    v = gn.Variable(gn.zeros([2]), name="v")
    v.load([3.0, 4.0], sess)
    _assert_array(sess.run(v), [3.0, 4.0])


def test_variable_load(fresh_default_graph, sess):
    v = gn.Variable(gn.zeros([2, 2]), name="v")
    sess.run(v.initializer)
    ops_before = len(fresh_default_graph.get_operations())
    v.load(np.array([[1.0, 2.0], [3.0, 4.0]]), sess)
    assert len(fresh_default_graph.get_operations()) == ops_before
    _assert_array(sess.run(v), [[1.0, 2.0], [3.0, 4.0]])
    _assert_array(sess.run(v * 2.0), [[2.0, 4.0], [6.0, 8.0]])
    v.load([[5, 6], [7, 8]], sess)
    _assert_array(sess.run(v), [[5.0, 6.0], [7.0, 8.0]])


# ----- read semantics ---------------------------------------------------------------
def test_plain_read_sees_value_at_start_of_run(sess):
    v = gn.Variable(1.0, name="v")
    sess.run(v.initializer)
    assigned, read = sess.run([v.assign(5.0), v])
    _assert_array(assigned, 5.0)
    _assert_array(read, 1.0)
    _assert_array(sess.run(v), 5.0)


def test_derived_read_sees_value_at_start_of_run(sess):
    v = gn.Variable(2.0, name="v")
    doubled = v * 2.0
    increment = v.assign_add(10.0)
    sess.run(v.initializer)
    new, old_doubled = sess.run([increment, doubled])
    _assert_array(new, 12.0)
    _assert_array(old_doubled, 4.0)
    _assert_array(sess.run(doubled), 24.0)


def test_read_value_under_control_dependency_sees_assigned_value(sess):
    v = gn.Variable(1.0, name="v")
    assign = v.assign(5.0)
    with gn.control_dependencies([assign]):
        fresh = v.read_value()
    sess.run(v.initializer)
    _assert_array(sess.run(fresh), 5.0)
    sess.run(v.initializer)
    fresh_value, stale_value = sess.run([fresh, v])
    _assert_array(fresh_value, 5.0)
    _assert_array(stale_value, 1.0)


def test_arithmetic_read_under_control_dependency_sees_assigned_value(sess):
    v = gn.Variable(1.0, name="v")
    increment = v.assign_add(2.0)
    with gn.control_dependencies([increment]):
        after = v + 0.0
    sess.run(v.initializer)
    _assert_array(sess.run(after), 3.0)
    _assert_array(sess.run(after), 5.0)
    _assert_array(sess.run(v), 5.0)


def test_read_value_without_control_dependency_sees_start_value(sess):
    v = gn.Variable(1.0, name="v")
    sess.run(v.initializer)
    assigned, read = sess.run([v.assign(5.0), v.read_value()])
    _assert_array(assigned, 5.0)
    _assert_array(read, 1.0)


def test_computation_on_a_fresh_read_sees_assigned_value(sess):
    v = gn.Variable(1.0, name="v")
    with gn.control_dependencies([v.assign(5.0)]):
        fresh = v.read_value()
    doubled = fresh * 2.0
    sess.run(v.initializer)
    _assert_array(sess.run(doubled), 10.0)


def test_assign_under_control_dependency_applies_in_order(sess):
    v = gn.Variable(1.0, name="v")
    first = v.assign_add(1.0)
    with gn.control_dependencies([first]):
        second = v.assign_add(10.0)
    sess.run(v.initializer)
    after_second, start = sess.run([second, v])
    _assert_array(after_second, 12.0)
    _assert_array(start, 1.0)
    _assert_array(sess.run(v), 12.0)


def test_control_dependency_on_group_of_assigns(sess):
    a = gn.Variable(1.0, name="a")
    b = gn.Variable(2.0, name="b")
    update = gn.group(a.assign(10.0), b.assign(20.0))
    with gn.control_dependencies([update]):
        total = a + b
    sess.run(gn.global_variables_initializer())
    _assert_array(sess.run(total), 30.0)


def test_control_dependency_on_another_variable_keeps_start_value(sess):
    a = gn.Variable(1.0, name="a")
    b = gn.Variable(2.0, name="b")
    with gn.control_dependencies([a.assign(10.0)]):
        read_b = b + 0.0
    sess.run(gn.global_variables_initializer())
    _assert_array(sess.run(read_b), 2.0)
    _assert_array(sess.run(a), 10.0)


# ----- executable cache ---------------------------------------------------------------
def test_repeated_run_does_not_retrace(sess):
    x = gn.placeholder(gn.float32, [None, 2])
    y = gn.reduce_sum(x * 2.0, axis=1)
    sess.run(y, feed_dict={x: np.ones([3, 2])})
    compiled = sess.compilation_count
    assert compiled >= 1
    for value in (np.zeros([3, 2]), [[1, 2], [3, 4], [5, 6]], np.full([3, 2], 7.0)):
        result = sess.run(y, feed_dict={x: value})
    _assert_array(result, [28.0, 28.0, 28.0])
    assert sess.compilation_count == compiled


def test_new_feed_shape_compiles_once_more(sess):
    x = gn.placeholder(gn.float32, [None])
    y = x + 1.0
    sess.run(y, feed_dict={x: [1.0, 2.0]})
    compiled = sess.compilation_count
    _assert_array(sess.run(y, feed_dict={x: [1.0, 2.0, 3.0]}), [2.0, 3.0, 4.0])
    assert sess.compilation_count == compiled + 1
    sess.run(y, feed_dict={x: [4.0, 5.0, 6.0]})
    sess.run(y, feed_dict={x: [7.0, 8.0]})
    assert sess.compilation_count == compiled + 1


def test_fetch_by_name_reuses_the_compiled_program(sess):
    gn.multiply(gn.constant(2.0), 3.0, name="y")
    y = gn.get_default_graph().get_tensor_by_name("y:0")
    sess.run(y)
    compiled = sess.compilation_count
    _assert_array(sess.run("y:0"), 6.0)
    assert sess.compilation_count == compiled


def test_variable_updates_do_not_retrace(sess):
    v = gn.Variable(0.0)
    inc = v.assign_add(1.0)
    sess.run(v.initializer)
    sess.run(inc)
    compiled = sess.compilation_count
    for _ in range(4):
        sess.run(inc)
    assert sess.compilation_count == compiled
    _assert_array(sess.run(v), 5.0)


def test_make_callable_matches_run_and_does_not_retrace(sess):
    x = gn.placeholder(gn.float32, [None, 2], name="x")
    scale = gn.placeholder(gn.float32, [], name="scale")
    y = gn.reduce_sum(x, axis=1) * scale
    step = sess.make_callable([y, {"x": x}], [x, scale])
    batch = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    result = step(batch, 2.0)
    expected = sess.run([y, {"x": x}], feed_dict={x: batch, scale: 2.0})
    _assert_array(result[0], expected[0])
    _assert_array(result[0], [6.0, 14.0])
    _assert_array(result[1]["x"], batch)
    compiled = sess.compilation_count
    for k in range(3):
        result = step(batch + k, 1.0)
    _assert_array(result[0], [7.0, 11.0])
    assert sess.compilation_count == compiled


def test_make_callable_with_feed_names(sess):
    x = gn.placeholder(gn.float32, [None], name="x")
    double = sess.make_callable(x * 2.0, ["x:0"])
    _assert_array(double([1.0, 2.0]), [2.0, 4.0])


def test_make_callable_with_variable_update(sess):
    v = gn.Variable(0.0)
    x = gn.placeholder(gn.float32, [])
    step = sess.make_callable(v.assign_add(x), [x])
    sess.run(v.initializer)
    assert [float(step(d)) for d in (1.0, 2.0, 3.0)] == [1.0, 3.0, 6.0]
    _assert_array(sess.run(v), 6.0)


# ----- randomness ---------------------------------------------------------------------
def _draws(graph, fetch, runs=3):
    with gn.Session(graph=graph) as session:
        return [session.run(fetch) for _ in range(runs)]


def test_graph_seed_makes_fresh_sessions_identical(fresh_default_graph):
    gn.set_random_seed(1234)
    r = gn.random_normal([4])
    u = gn.random_uniform([2, 2])
    first = _draws(fresh_default_graph, [r, u])
    second = _draws(fresh_default_graph, [r, u])
    for (r1, u1), (r2, u2) in zip(first, second):
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(u1, u2)


def test_graph_seed_attribute_works_like_set_random_seed(fresh_default_graph):
    fresh_default_graph.seed = 7
    r = gn.random_uniform([5])
    first = _draws(fresh_default_graph, r)
    second = _draws(fresh_default_graph, r)
    np.testing.assert_array_equal(np.stack(first), np.stack(second))


def test_same_program_in_two_graphs_with_same_seed_is_identical():
    results = []
    for _ in range(2):
        graph = gn.Graph()
        with graph.as_default():
            gn.set_random_seed(99)
            r = gn.random_normal([3]) + gn.truncated_normal([3])
        results.append(np.stack(_draws(graph, r)))
    np.testing.assert_array_equal(results[0], results[1])


def test_successive_runs_draw_different_values(fresh_default_graph, sess):
    gn.set_random_seed(5)
    r = gn.random_normal([8])
    a, b = sess.run(r), sess.run(r)
    assert a.shape == (8,) and a.dtype == np.float32
    assert not np.array_equal(a, b)


def test_different_random_ops_differ(fresh_default_graph, sess):
    gn.set_random_seed(5)
    r1 = gn.random_normal([8])
    r2 = gn.random_normal([8])
    a, b = sess.run([r1, r2])
    assert not np.array_equal(a, b)


def test_op_seed_alone_is_reproducible_across_sessions(fresh_default_graph):
    r = gn.random_uniform([6], seed=3)
    first = np.stack(_draws(fresh_default_graph, r))
    second = np.stack(_draws(fresh_default_graph, r))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first[0], first[1])


def test_different_op_seeds_give_different_values(fresh_default_graph, sess):
    gn.set_random_seed(1)
    a = gn.random_normal([8], seed=1)
    b = gn.random_normal([8], seed=2)
    va, vb = sess.run([a, b])
    assert not np.array_equal(va, vb)


def test_unseeded_sessions_differ(fresh_default_graph):
    r = gn.random_normal([16])
    first = _draws(fresh_default_graph, r, runs=1)[0]
    second = _draws(fresh_default_graph, r, runs=1)[0]
    assert not np.array_equal(first, second)


def test_random_statistics(sess):
    normal = gn.random_normal([20000], mean=3.0, stddev=2.0, seed=1)
    uniform = gn.random_uniform([20000], minval=-1.0, maxval=3.0, seed=2)
    n, u = sess.run([normal, uniform])
    assert abs(n.mean() - 3.0) < 0.1 and abs(n.std() - 2.0) < 0.1
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.1


def test_random_normal_with_shape_of_fed_tensor(sess):
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    noise = gn.random_normal(gn.shape(x))
    noisy = x + noise
    for batch in (2, 5):
        values, n = sess.run([noisy, noise], feed_dict={x: np.zeros([batch, 3])})
        assert values.shape == (batch, 3) and n.shape == (batch, 3)
        np.testing.assert_allclose(values, n)
        assert np.all(np.isfinite(n)) and np.std(n) > 0


def test_random_variable_initializer_is_reproducible(fresh_default_graph):
    gn.set_random_seed(11)
    w = gn.Variable(gn.random_normal([3, 3]), name="w")
    values = []
    for _ in range(2):
        with gn.Session() as session:
            session.run(gn.global_variables_initializer())
            values.append(session.run(w))
    np.testing.assert_array_equal(values[0], values[1])


# ----- dtypes -------------------------------------------------------------------------
def test_float64_graph_computes_in_float64(sess):
    x = gn.placeholder(gn.float64, [], name="x")
    y = x + 1e-10
    result = sess.run(y, feed_dict={x: 1.0})
    assert result.dtype == np.float64
    assert result != 1.0
    np.testing.assert_allclose(result - 1.0, 1e-10, rtol=1e-5)
    c = gn.constant(1.0, dtype=gn.float64) + gn.constant(1e-10, dtype=gn.float64)
    assert sess.run(c).dtype == np.float64 and sess.run(c) != 1.0


def test_float64_variable_and_reduction(sess):
    v = gn.Variable(np.array([1.0, 1e-12, -1.0], np.float64))
    total = gn.reduce_sum(v * 3.0)
    sess.run(v.initializer)
    result = sess.run(total)
    assert result.dtype == np.float64
    np.testing.assert_allclose(result, 3e-12, rtol=0, atol=1e-15)
    updated = sess.run(v.assign_add(np.array([1e-12, 0.0, 0.0])))
    assert updated.dtype == np.float64
    assert updated[0] != 1.0


def test_float32_graph_stays_float32(sess):
    x64 = gn.placeholder(gn.float64, [])
    sess.run(x64 + 1.0, feed_dict={x64: 1.0})  # a float64 run must not leak into float32 runs
    x = gn.placeholder(gn.float32, [], name="x")
    y = x + 1e-10
    result = sess.run(y, feed_dict={x: 1.0})
    assert result.dtype == np.float32
    assert result == np.float32(1.0)
    assert sess.run(gn.constant(0.1) * 3.0).dtype == np.float32


def test_int64_arithmetic(sess):
    big = gn.constant(2 ** 40, dtype=gn.int64)
    y = big * 4 + 1
    result = sess.run(y)
    assert result.dtype == np.int64
    assert int(result) == 2 ** 42 + 1
    p = gn.placeholder(gn.int64, [None])
    fed = sess.run(p * 3, feed_dict={p: [2 ** 35, -1]})
    assert fed.dtype == np.int64
    assert fed.tolist() == [3 * 2 ** 35, -3]


def test_int32_stays_int32(sess):
    result = sess.run(gn.constant(7) // 2)
    assert result.dtype == np.int32 and int(result) == 3


# ----- devices and default sessions ----------------------------------------------------
def test_session_on_cpu():
    y = gn.constant([1.0, 2.0]) * 2.0
    v = gn.Variable(3.0)
    with gn.Session(device="cpu") as session:
        session.run(v.initializer)
        _assert_array(session.run(y), [2.0, 4.0])
        _assert_array(session.run(v.assign_add(1.0)), 4.0)


def test_session_on_unavailable_tpu_raises_clearly():
    with pytest.raises(gn.errors.InvalidArgumentError) as info:
        gn.Session(device="tpu")
    message = str(info.value)
    assert "tpu" in message
    assert "available" in message


def test_session_on_unknown_device_kind_raises():
    with pytest.raises(gn.errors.InvalidArgumentError, match="quantum"):
        gn.Session(device="quantum")


def test_with_session_enables_eval_and_run():
    v = gn.Variable(2.0, name="v")
    x = gn.placeholder(gn.float32, [], name="x")
    y = v * x
    with gn.Session() as session:
        assert gn.get_default_session() is session
        gn.global_variables_initializer().run()
        _assert_array(y.eval(feed_dict={x: 3.0}), 6.0)
        v.assign(5.0).op.run()
        _assert_array(v.eval(), 5.0)
        _assert_array(y.eval({x: 2.0}), 10.0)
    assert gn.get_default_session() is None


def test_eval_outside_a_session_raises():
    y = gn.constant(1.0) + 1.0
    with pytest.raises(ValueError, match="default session"):
        y.eval()


def test_eval_with_explicit_session(sess):
    y = gn.constant(2.0) * 4.0
    _assert_array(y.eval(session=sess), 8.0)


def test_as_default_session(sess):
    y = gn.constant(2.0) + 1.0
    with sess.as_default():
        _assert_array(y.eval(), 3.0)


def test_closed_session_refuses_to_run():
    y = gn.constant(1.0)
    session = gn.Session()
    session.close()
    with pytest.raises(RuntimeError, match="closed"):
        session.run(y)


def test_session_for_a_non_default_graph():
    other = gn.Graph()
    with other.as_default():
        y = gn.constant(3.0) * 2.0
    with gn.Session(graph=other) as session:
        _assert_array(session.run(y), 6.0)
