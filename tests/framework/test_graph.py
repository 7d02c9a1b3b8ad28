"""Graph IR: default graph stack, names, control dependencies, collections, lookup."""
import inspect
import os

import numpy as np
import pytest

import graphnn as gn
from graphnn.compiler.lowering import op_seed
from graphnn.framework import registry


@pytest.fixture(autouse=True)
def fresh_default_graph():
    """Each test starts with an empty global default graph (outside any as_default block)."""
    gn.reset_default_graph()
    yield gn.get_default_graph()
    gn.reset_default_graph()


def _next_line() -> int:
    """The line number just after the caller's line."""
    return inspect.currentframe().f_back.f_lineno + 1


def _same_file(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


# ----- default graph stack ------------------------------------------------------------
def test_ops_go_into_the_global_default_graph():
    x = gn.placeholder(gn.float32, shape=[2], name="x")
    assert x.graph is gn.get_default_graph()
    assert x.op.graph is gn.get_default_graph()
    assert gn.get_default_graph().get_operations() == [x.op]


def test_as_default_makes_graph_default_inside_block_only():
    outer = gn.get_default_graph()
    g = gn.Graph()
    with g.as_default() as entered:
        assert entered is g
        assert gn.get_default_graph() is g
        c = gn.constant(1.0)
    assert gn.get_default_graph() is outer
    assert c.graph is g
    assert g.get_operations() == [c.op]
    assert outer.get_operations() == []


def test_nested_as_default_restores_previous_graph():
    g1, g2 = gn.Graph(), gn.Graph()
    with g1.as_default():
        a = gn.constant(1.0, name="a")
        with g2.as_default():
            b = gn.constant(2.0, name="b")
            assert gn.get_default_graph() is g2
        assert gn.get_default_graph() is g1
        c = gn.constant(3.0, name="c")
    assert [op.name for op in g1.get_operations()] == ["a", "c"]
    assert [op.name for op in g2.get_operations()] == ["b"]
    assert a.graph is g1 and b.graph is g2 and c.graph is g1


def test_as_default_restores_graph_after_an_exception():
    outer = gn.get_default_graph()
    g = gn.Graph()
    with pytest.raises(RuntimeError):
        with g.as_default():
            raise RuntimeError("boom")
    assert gn.get_default_graph() is outer


def test_reset_default_graph_gives_a_new_empty_graph():
    old = gn.get_default_graph()
    gn.constant(1.0, name="c")
    gn.reset_default_graph()
    new = gn.get_default_graph()
    assert new is not old
    assert new.get_operations() == []
    # Names restart in the new graph.
    assert gn.constant(1.0, name="c").op.name == "c"
    assert len(old.get_operations()) == 1


def test_reset_default_graph_inside_as_default_is_refused():
    g = gn.Graph()
    with g.as_default():
        with pytest.raises(AssertionError):
            gn.reset_default_graph()
        assert gn.get_default_graph() is g


def test_tensors_of_different_graphs_cannot_be_combined():
    g1, g2 = gn.Graph(), gn.Graph()
    with g1.as_default():
        a = gn.constant(1.0, name="a")
    with g2.as_default():
        b = gn.constant(2.0, name="b")
    with pytest.raises(ValueError):
        a + b
    with pytest.raises(ValueError):
        gn.add(a, b)


# ----- unique hierarchical names --------------------------------------------------------
def test_repeated_op_names_get_numeric_suffixes():
    x0 = gn.placeholder(gn.float32, name="x")
    x1 = gn.placeholder(gn.float32, name="x")
    x2 = gn.placeholder(gn.float32, name="x")
    assert [x0.op.name, x1.op.name, x2.op.name] == ["x", "x_1", "x_2"]
    assert [x0.name, x1.name, x2.name] == ["x:0", "x_1:0", "x_2:0"]


def test_default_names_are_the_op_type_made_unique():
    a = gn.constant(1.0)
    b = gn.constant(2.0)
    s1 = a + b
    s2 = a + b
    assert (a.op.name, b.op.name) == ("Const", "Const_1")
    assert (s1.op.name, s2.op.name) == ("Add", "Add_1")
    assert s1.name == "Add:0"


def test_explicit_name_that_looks_like_a_suffix_is_not_reused():
    gn.placeholder(gn.float32, name="x")
    taken = gn.placeholder(gn.float32, name="x_1")
    third = gn.placeholder(gn.float32, name="x")
    assert taken.op.name == "x_1"
    assert third.op.name not in ("x", "x_1")
    names = [op.name for op in gn.get_default_graph().get_operations()]
    assert len(set(names)) == len(names)


def test_nested_name_scopes_prefix_op_names():
    a = gn.constant(1.0, name="c")
    with gn.name_scope("a"):
        with gn.name_scope("b"):
            s = a + a
            c = gn.constant(2.0, name="c")
    assert s.op.name == "a/b/Add"
    assert s.name == "a/b/Add:0"
    assert c.op.name == "a/b/c"
    assert a.op.name == "c"


def test_name_scope_yields_its_prefix():
    with gn.name_scope("dense") as scope:
        assert scope == "dense/"
        with gn.name_scope("inner") as inner:
            assert inner == "dense/inner/"


def test_reused_scope_name_gets_a_suffix():
    with gn.name_scope("layer"):
        first = gn.constant(1.0)
    with gn.name_scope("layer") as scope:
        second = gn.constant(1.0)
    assert scope == "layer_1/"
    assert first.op.name == "layer/Const"
    assert second.op.name == "layer_1/Const"


def test_name_scope_ending_in_slash_reenters_the_scope():
    with gn.name_scope("block"):
        first = gn.constant(1.0)
    with gn.name_scope("block/"):
        second = gn.constant(1.0)
    assert first.op.name == "block/Const"
    assert second.op.name == "block/Const_1"


def test_none_name_scope_goes_back_to_the_root():
    with gn.name_scope("outer"):
        with gn.name_scope(None):
            c = gn.constant(1.0, name="root_const")
    assert c.op.name == "root_const"


def test_names_are_restored_after_leaving_a_scope():
    with gn.name_scope("s"):
        pass
    c = gn.constant(1.0, name="after")
    assert c.op.name == "after"
    assert gn.get_default_graph().get_name_scope() == ""


def test_variable_names_and_initializer_live_under_the_variable():
    with gn.name_scope("dense"):
        w = gn.Variable(np.zeros((3, 2), np.float32), name="W")
    assert w.op.name == "dense/W"
    assert w.name == "dense/W:0"
    assert w.initializer.name.startswith("dense/W/")


# ----- control dependencies -------------------------------------------------------------
def test_ops_created_inside_control_dependencies_get_control_inputs():
    a = gn.no_op(name="a")
    x = gn.placeholder(gn.float32, shape=[2], name="x")
    with gn.control_dependencies([a]):
        y = gn.identity(x, name="y")
    z = gn.identity(x, name="z")
    assert y.op.control_inputs == (a,)
    assert z.op.control_inputs == ()


def test_control_dependency_on_a_tensor_uses_its_op():
    x = gn.placeholder(gn.float32, shape=[2], name="x")
    dep = x * 2.0
    with gn.control_dependencies([dep]):
        y = gn.identity(x)
    assert y.op.control_inputs == (dep.op,)


def test_nested_control_dependencies_accumulate():
    a = gn.no_op(name="a")
    b = gn.no_op(name="b")
    x = gn.placeholder(gn.float32, shape=[], name="x")
    with gn.control_dependencies([a]):
        with gn.control_dependencies([b]):
            y = gn.identity(x)
        z = gn.identity(x)
    assert set(y.op.control_inputs) == {a, b}
    assert z.op.control_inputs == (a,)


def test_control_dependencies_none_clears_outer_dependencies():
    a = gn.no_op(name="a")
    x = gn.placeholder(gn.float32, shape=[], name="x")
    with gn.control_dependencies([a]):
        with gn.control_dependencies(None):
            cleared = gn.identity(x)
        restored = gn.identity(x)
    assert cleared.op.control_inputs == ()
    assert restored.op.control_inputs == (a,)


def test_control_dependencies_rejects_non_ops():
    with pytest.raises(TypeError):
        with gn.control_dependencies([42]):
            pass


def test_group_depends_on_all_its_inputs():
    a = gn.no_op(name="a")
    x = gn.placeholder(gn.float32, shape=[], name="x")
    y = x + 1.0
    g = gn.group(a, y, name="both")
    assert g.type == "NoOp"
    assert g.name == "both"
    assert set(g.control_inputs) == {a, y.op}
    assert g.outputs == ()


def test_control_dependency_makes_the_assign_run():
    v = gn.Variable(0.0, name="v")
    update = v.assign_add(1.0)
    x = gn.placeholder(gn.float32, shape=[], name="x")
    with gn.control_dependencies([update]):
        out = gn.identity(x)
    with gn.Session() as sess:
        sess.run(v.initializer)
        sess.run(out, feed_dict={x: 5.0})
        sess.run(out, feed_dict={x: 5.0})
        assert sess.run(v) == pytest.approx(2.0)


# ----- collections ----------------------------------------------------------------------
def test_variables_are_collected_in_creation_order():
    w = gn.Variable(1.0, name="w")
    step = gn.Variable(0, trainable=False, name="step")
    b = gn.Variable(2.0, name="b")
    assert gn.global_variables() == [w, step, b]
    assert gn.trainable_variables() == [w, b]
    assert step.trainable is False and w.trainable is True
    graph = gn.get_default_graph()
    assert graph.get_collection(gn.GraphKeys.GLOBAL_VARIABLES) == [w, step, b]
    assert graph.get_collection(gn.GraphKeys.TRAINABLE_VARIABLES) == [w, b]


def test_variables_are_collected_in_their_own_graph():
    g = gn.Graph()
    with g.as_default():
        v = gn.Variable(1.0, name="v")
        assert gn.global_variables() == [v]
    assert gn.global_variables() == []
    assert gn.trainable_variables() == []
    assert g.get_collection(gn.GraphKeys.TRAINABLE_VARIABLES) == [v]


def test_get_collection_returns_a_copy():
    v = gn.Variable(1.0, name="v")
    gn.global_variables().clear()
    assert gn.global_variables() == [v]


def test_custom_collections():
    graph = gn.get_default_graph()
    c = gn.constant(1.0)
    graph.add_to_collection("losses", c)
    graph.add_to_collections(["losses", "extra"], "marker")
    assert graph.get_collection("losses") == [c, "marker"]
    assert graph.get_collection("extra") == ["marker"]
    assert graph.get_collection("missing") == []


def test_global_variables_initializer_initializes_every_variable():
    w = gn.Variable(np.array([1.0, 2.0], np.float32), name="w")
    step = gn.Variable(7, trainable=False, name="step")
    init = gn.global_variables_initializer()
    with gn.Session() as sess:
        sess.run(init)
        w_value, step_value = sess.run([w, step])
    np.testing.assert_array_equal(w_value, [1.0, 2.0])
    assert step_value == 7


# ----- lookup by name -------------------------------------------------------------------
def test_get_operation_and_tensor_by_name():
    graph = gn.get_default_graph()
    with gn.name_scope("s"):
        x = gn.placeholder(gn.float32, shape=[3], name="x")
        y = x * 2.0
    assert graph.get_operation_by_name("s/x") is x.op
    assert graph.get_tensor_by_name("s/x:0") is x
    assert graph.get_operation_by_name(y.op.name) is y.op
    assert graph.get_tensor_by_name(y.name) is y


def test_variable_is_found_by_its_tensor_name():
    v = gn.Variable(1.0, name="v")
    assert gn.get_default_graph().get_tensor_by_name("v:0") is v


def test_unknown_operation_name_raises_not_found():
    gn.placeholder(gn.float32, name="x")
    with pytest.raises(gn.errors.NotFoundError, match="nope"):
        gn.get_default_graph().get_operation_by_name("nope")


def test_unknown_tensor_name_raises_not_found():
    gn.placeholder(gn.float32, name="x")
    graph = gn.get_default_graph()
    with pytest.raises(gn.errors.NotFoundError, match="nope:0"):
        graph.get_tensor_by_name("nope:0")
    with pytest.raises(gn.errors.NotFoundError, match="x:1"):
        graph.get_tensor_by_name("x:1")


def test_not_found_error_is_a_graph_error():
    with pytest.raises(gn.errors.GraphError):
        gn.get_default_graph().get_operation_by_name("missing")


def test_operation_name_given_as_tensor_name_is_rejected():
    gn.placeholder(gn.float32, name="x")
    with pytest.raises(ValueError):
        gn.get_default_graph().get_tensor_by_name("x")


def test_operation_properties():
    x = gn.placeholder(gn.float32, shape=[2, 3], name="x")
    w = gn.constant(np.ones((3, 4), np.float32), name="w")
    y = gn.matmul(x, w, name="y")
    op = y.op
    assert op.name == "y"
    assert op.type == "MatMul"
    assert op.inputs == (x, w)
    assert op.outputs == (y,)
    assert op.control_inputs == ()
    assert x.op.type == "Placeholder"
    assert w.op.type == "Const"


# ----- where ops were created -----------------------------------------------------------
def test_operation_location_points_at_the_creating_line():
    line = _next_line()
    x = gn.placeholder(gn.float32, shape=[3], name="x")
    file, lineno = x.op.location
    assert _same_file(file, __file__)
    assert lineno == line
    assert x.op.where.endswith(f"{os.path.basename(__file__)}:{line}")


def test_location_of_ops_from_operators_and_scopes():
    x = gn.placeholder(gn.float32, shape=[3], name="x")
    with gn.name_scope("scope"):
        line = _next_line()
        y = x * 2.0 + 1.0
    assert _same_file(y.op.location[0], __file__)
    assert y.op.location[1] == line
    assert y.op.inputs[0].op.location[1] == line  # the Mul
    assert y.op.where == f"{y.op.location[0]}:{line}"


def test_location_of_variables_and_their_initializers():
    line = _next_line()
    v = gn.Variable(np.zeros(2, np.float32), name="v")
    assert _same_file(v.op.location[0], __file__)
    assert v.op.location[1] == line
    assert v.initializer.location[1] == line


def _make_dense(x):
    return gn.matmul(x, gn.constant(np.ones((3, 2), np.float32)))


def test_location_is_the_innermost_user_frame():
    x = gn.placeholder(gn.float32, shape=[1, 3], name="x")
    y = _make_dense(x)
    expected = inspect.getsourcelines(_make_dense)[1] + 1
    assert _same_file(y.op.location[0], __file__)
    assert y.op.location[1] == expected


# ----- attributes -----------------------------------------------------------------------
def test_ops_keep_their_static_attributes():
    a = gn.placeholder(gn.float32, shape=[2, 3], name="a")
    b = gn.placeholder(gn.float32, shape=[4, 3], name="b")
    y = gn.matmul(a, b, transpose_b=True)
    assert y.op.get_attr("transpose_b") is True
    assert y.op.get_attr("transpose_a") is False
    assert y.shape.as_list() == [2, 4]
    value = np.arange(6, dtype=np.int32).reshape(2, 3)
    c = gn.constant(value)
    np.testing.assert_array_equal(c.op.get_attr("value"), value)
    assert a.op.get_attr("dtype") == gn.float32
    assert a.op.get_attr("shape") == gn.TensorShape([2, 3])


def test_missing_attribute_raises_naming_the_op():
    x = gn.placeholder(gn.float32, name="x")
    with pytest.raises(ValueError, match="'x'"):
        x.op.get_attr("no_such_attr")


@pytest.fixture
def carrier_op_type(monkeypatch):
    """A test-only op type whose attributes may be anything (a sub-graph, for instance)."""
    op_type = "TestAttributeCarrier"
    opdef = registry.OpDef(op_type, infer=lambda inputs, **attrs: [(inputs[0].shape,
                                                                    inputs[0].dtype)],
                           lower=lambda x, **attrs: x)
    monkeypatch.setitem(registry.OP_TABLE, op_type, opdef)
    return op_type


def test_ops_can_carry_arbitrary_attributes(carrier_op_type):
    body = gn.Graph()
    with body.as_default():
        gn.constant(1.0, name="inside")
    config = {"branches": [1, 2], "label": "loop"}
    graph = gn.get_default_graph()
    x = gn.placeholder(gn.float32, shape=[None, 2], name="x")
    attrs = {"body": body, "config": config, "table": np.eye(2), "fn": len}
    op = graph.create_op(carrier_op_type, [x], attrs=attrs, name="carrier")
    attrs["body"] = None  # the op keeps its own attribute dict
    assert op.get_attr("body") is body
    assert op.get_attr("body").get_operation_by_name("inside").type == "Const"
    assert op.get_attr("config") == {"branches": [1, 2], "label": "loop"}
    np.testing.assert_array_equal(op.get_attr("table"), np.eye(2))
    assert op.get_attr("fn") is len
    assert op.outputs[0].shape.as_list() == [None, 2]
    assert graph.get_operation_by_name("carrier") is op


# ----- text dump ------------------------------------------------------------------------
def test_as_text_lists_one_line_per_op_in_creation_order():
    x = gn.placeholder(gn.float32, shape=[None, 3], name="x")
    with gn.name_scope("layer"):
        y = gn.multiply(x, 2.0, name="scaled")
    done = gn.no_op(name="done")
    with gn.control_dependencies([done]):
        z = gn.identity(y, name="z")
    graph = gn.get_default_graph()
    lines = graph.as_text().splitlines()
    ops = graph.get_operations()
    assert len(lines) == len(ops)
    for line, op in zip(lines, ops):
        assert line.startswith(op.name)
        assert op.type in line
    y_line = lines[ops.index(y.op)]
    assert "x:0" in y_line and "(?, 3)" in y_line and "float32" in y_line
    z_line = lines[ops.index(z.op)]
    assert "layer/scaled:0" in z_line and "done" in z_line


def test_as_text_of_an_empty_graph_is_empty():
    assert gn.Graph().as_text() == ""


# ----- the naming rule (DESIGN section 2) -------------------------------------------------
@pytest.mark.parametrize("bad", ["a b", "../up", "x:0", "a//b", ".", "..", "a/./b",
                                 "_hidden", "-x", "x\\y", "naïve"])
def test_invalid_op_names_are_refused_and_take_no_name(bad):
    graph = gn.get_default_graph()
    with pytest.raises(ValueError, match=r"not a valid op name: names match "
                                         r"\[A-Za-z0-9.\]\[A-Za-z0-9_.\\-/>\]\*"):
        gn.constant(1.0, name=bad)
    assert graph.get_operations() == []
    assert gn.constant(1.0, name="ok").op.name == "ok"


@pytest.mark.parametrize("bad", ["a b", "../up", "x:0", "a//b", ".", "a/../b"])
def test_invalid_scope_names_are_refused(bad):
    with pytest.raises(ValueError, match="not a valid scope name"):
        with gn.name_scope(bad):
            pass
    with pytest.raises(ValueError, match="not a valid scope name"):
        with gn.name_scope(bad + "/"):
            pass
    assert gn.get_default_graph().get_name_scope() == ""


def test_invalid_variable_name_creates_nothing():
    with pytest.raises(ValueError, match="'my var' is not a valid scope name"):
        gn.Variable(1.0, name="my var")
    assert gn.get_default_graph().get_operations() == []
    assert gn.global_variables() == []


def test_valid_tensorflow_names_work():
    names = [gn.constant(1.0, name=n).op.name
             for n in ["x", "X9", ".hidden", "a-b", "a_b", "a>b", "a.b", "dense/W", "3d"]]
    assert names == ["x", "X9", ".hidden", "a-b", "a_b", "a>b", "a.b", "dense/W", "3d"]
    with gn.name_scope("_private") as scope:  # a scope may start with "_"
        inner = gn.constant(1.0, name="_x")     # so may a name inside a scope (TF's regex)
    assert (scope, inner.op.name) == ("_private/", "_private/_x")
    with gn.name_scope("_private/"):            # re-entry of the exact scope
        again = gn.constant(1.0, name="_x")
    assert again.op.name == "_private/_x_1"
    v = gn.Variable(1.0, name="_v")
    assert v.op.name == "_v" and v.initializer.name.startswith("_v/")


def test_exact_scope_names_are_taken_so_later_names_get_a_suffix():
    graph = gn.get_default_graph()
    exact = graph.create_op("NoOp", [], name="step/")
    later = gn.no_op(name="step")
    assert (exact.name, later.name) == ("step", "step_1")
    assert graph.get_operation_by_name("step") is exact


def test_a_failed_op_takes_no_name():
    x = gn.placeholder(gn.float32, [2], name="x")
    with pytest.raises(ValueError, match="for 'bad'"):
        gn.matmul(x, x, name="bad")
    assert gn.identity(x, name="bad").op.name == "bad"


# ----- ids and version ------------------------------------------------------------------
def test_op_ids_only_grow_and_never_repeat_after_removal():
    graph = gn.Graph()
    with graph.as_default():
        a = gn.constant(1.0, name="a")
        b = gn.constant(2.0, name="b")
        c = gn.add(a, b, name="c")
        graph.remove_ops([c.op, b.op])
        d = gn.constant(3.0, name="d")
        e = gn.constant(4.0, name="e")
    ids = [op._id for op in (a.op, b.op, c.op, d.op, e.op)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert [op.name for op in sorted(graph.get_operations(), key=lambda op: op._id)] == \
        ["a", "d", "e"]


def test_version_counts_changes_and_num_ops_counts_ops():
    graph = gn.Graph()
    with graph.as_default():
        a = gn.constant(1.0, name="a")
        b = gn.constant(2.0, name="b")
        c = gn.identity(a, name="c")
    seen = [graph.version]
    assert graph.num_ops == 3
    assert graph.replace_uses(a, b) == 1
    seen.append(graph.version)
    assert graph.replace_uses(a, b) == 0      # nothing changed: same version
    assert graph.version == seen[-1]
    graph.remove_ops([a.op])
    seen.append(graph.version)
    with graph.as_default():
        gn.constant(5.0, name="f")            # back to 3 ops: the version still differs
    seen.append(graph.version)
    assert graph.num_ops == 3 and c.op.inputs == (b,)
    assert seen == sorted(seen) and len(set(seen)) == 4


def test_unseeded_random_op_seed_is_the_count_of_ops_before_it():
    """TF 1: with a graph seed and no op seed, the op seed is the graph's last op id."""
    gn.set_random_seed(5)
    gn.constant(1.0)
    gn.constant(2.0)
    r = gn.random_uniform([2])
    shape_const = r.op.inputs[0].op
    assert op_seed(r.op, 5) == (5, 3) and shape_const._id == 2


def test_a_built_graph_is_in_creation_order_until_a_use_is_replaced_by_a_later_tensor():
    g = gn.Graph()
    with g.as_default():
        x = gn.placeholder(gn.float32, [2], name="x")
        y = gn.tanh(x)
        z = y * 2.0
        assert g.in_creation_order
        g.replace_uses(y, x)  # z reads a tensor created before it: still in order
        assert g.in_creation_order and z.op.inputs[0] is x
        later = gn.exp(x)
        g.replace_uses(x, later, keep=later.op)
    assert not g.in_creation_order
    assert z.op.inputs[0] is later and y.op.inputs[0] is later


def test_removing_many_users_of_one_tensor_keeps_the_others():
    g = gn.Graph()
    with g.as_default():
        x = gn.placeholder(gn.float32, [2], name="x")
        users = [gn.tanh(x) for _ in range(50)]
    g.remove_ops([u.op for u in users[::2]])
    assert x.consumers() == [u.op for u in users[1::2]]
