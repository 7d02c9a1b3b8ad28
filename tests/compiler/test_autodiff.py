"""The gradient driver (gn.gradients, gn.hessians, gn.explain_gradient): where gradient nodes
go, what they record, how contributions are summed, broadcasting, paths that are cut,
unconnected inputs, higher order, and the cost of building a backward graph."""
import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphnn as gn


def _line() -> int:
    """The caller's line number."""
    return inspect.currentframe().f_back.f_lineno


def _run(fetches, feed_dict=None):
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        return sess.run(fetches, feed_dict=feed_dict)


def _new_ops(graph, before):
    return graph.get_operations()[before:]


# ----- where gradient nodes go and what they record -------------------------------------
def test_gradient_ops_are_named_under_a_gradients_scope_made_unique_per_call():
    graph = gn.get_default_graph()
    x = gn.placeholder(gn.float32, [None, 4], name="x")
    with gn.name_scope("dense"):
        W = gn.Variable(np.ones((4, 3), np.float32), name="W")
        z = gn.matmul(x, W)
    loss = gn.reduce_sum(gn.tanh(z))

    before = graph.version
    dW, = gn.gradients(loss, W)
    first = _new_ops(graph, before)
    middle = graph.version
    dx, = gn.gradients(loss, x)
    second = _new_ops(graph, middle)

    assert first and second
    assert all(op.name.startswith("gradients/") for op in first), [op.name for op in first]
    assert all(op.name.startswith("gradients_1/") for op in second), [op.name for op in second]
    assert dW.name.startswith("gradients/") and dx.name.startswith("gradients_1/")
    # The gradient of a forward op is grouped under that op's name.
    assert any(op.name.startswith("gradients/dense/MatMul_grad/") for op in first)


def test_gradient_op_records_its_forward_op_and_describes_where_it_was_created():
    x = gn.placeholder(gn.float32, [None, 4], name="x")
    with gn.name_scope("dense"):
        W = gn.Variable(np.ones((4, 3), np.float32), name="W")
        z, matmul_line = gn.matmul(x, W), _line()
    loss = gn.reduce_sum(z * z)
    dW, gradients_line = gn.gradients(loss, W)[0], _line()

    matmul_op = z.op
    assert matmul_op.name == "dense/MatMul"
    assert dW.op.gradient_of is matmul_op
    description = dW.op.describe()
    assert f"created at {__file__}:{gradients_line}" in description
    assert (f"in the gradient of MatMul 'dense/MatMul' created at {__file__}:{matmul_line}"
            in description)


def test_every_op_added_by_gradients_records_a_forward_op():
    graph = gn.get_default_graph()
    x = gn.placeholder(gn.float32, [3], name="x")
    h = gn.sin(x)
    y = gn.reduce_sum(h * h + x)  # h is used twice, so its gradient is summed
    before = graph.version
    forward_ops = set(graph.get_operations())
    gn.gradients(y, x)

    added = _new_ops(graph, before)
    missing = [f"{op.name} ({op.type})" for op in added if op.gradient_of is None]
    assert not missing, f"gradient ops without gradient_of: {missing}"
    assert all(op.gradient_of in forward_ops for op in added)


def test_the_users_graph_only_gains_nodes_under_the_gradients_scope():
    graph = gn.get_default_graph()
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    b = gn.Variable(np.zeros(3, np.float32), name="b")
    loss = gn.reduce_mean(gn.square(gn.nn.relu(x + b)))
    old_ops = graph.get_operations()
    old_inputs = {op.name: [t.name for t in op.inputs] for op in old_ops}

    gn.gradients(loss, [x, b])

    ops = graph.get_operations()
    assert ops[:len(old_ops)] == old_ops
    assert len(ops) > len(old_ops)
    assert all(op.name.startswith("gradients/") for op in ops[len(old_ops):])
    assert {op.name: [t.name for t in op.inputs] for op in old_ops} == old_inputs


# ----- what is differentiated ----------------------------------------------------------
def test_multiple_ys_are_summed():
    x = gn.placeholder(gn.float64, [3], name="x")
    y1 = gn.reduce_sum(gn.sin(x))
    y2 = gn.reduce_sum(x * x)
    y3 = x * 3.0  # a non-scalar y counts with its sum
    both, = gn.gradients([y1, y2, y3], x)
    xv = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(_run(both, {x: xv}), np.cos(xv) + 2 * xv + 3.0)


def test_grad_ys_weight_each_y():
    x = gn.placeholder(gn.float64, [3], name="x")
    y = gn.exp(x)
    w = gn.placeholder(gn.float64, [3], name="w")
    weighted, = gn.gradients(y, x, grad_ys=w)
    seeds = [np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.5, 0.5])]
    constant_weighted, = gn.gradients([y, gn.sin(x)], x, grad_ys=seeds)
    xv, wv = np.array([0.1, 0.2, -0.4]), np.array([2.0, -1.0, 0.5])
    got_w, got_c = _run([weighted, constant_weighted], {x: xv, w: wv})
    np.testing.assert_allclose(got_w, wv * np.exp(xv))
    np.testing.assert_allclose(got_c, np.array([1.0, 2.0, 3.0]) * np.exp(xv) + 0.5 * np.cos(xv))


def test_grad_ys_must_match_ys_in_number():
    x = gn.placeholder(gn.float32, [3], name="x")
    with pytest.raises(ValueError, match="grad_ys"):
        gn.gradients([x * 2.0, x * 3.0], x, grad_ys=[gn.ones([3])])


def test_a_tensor_used_several_times_gets_its_contributions_summed_by_one_addn():
    graph = gn.get_default_graph()
    x = gn.placeholder(gn.float64, [3], name="x")
    y = x * x + gn.sin(x) + x
    before = graph.version
    dx, = gn.gradients(y, x)

    added = _new_ops(graph, before)
    addns = [op for op in added if op.type == "AddN"]
    assert len(addns) == 1, [f"{op.name}({op.type})" for op in added]
    assert dx.op is addns[0]
    assert len(addns[0].inputs) == 4  # x*x (twice), sin(x), + x
    assert not [op for op in added if op.type in ("Add", "AddV2")]
    xv = np.array([0.5, -1.0, 2.5])
    np.testing.assert_allclose(_run(dx, {x: xv}), 2 * xv + np.cos(xv) + 1.0)


@pytest.mark.parametrize("batch", [1, 4, 7])
def test_broadcasting_is_undone_for_a_bias_added_to_a_batch(batch):
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    b = gn.Variable(np.array([0.5, -1.0, 2.0], np.float32), name="b")
    s = gn.Variable(np.float32(2.0), name="s")  # a scalar broadcast to the batch
    w = np.array([1.0, 2.0, 3.0], np.float32)
    loss = gn.reduce_sum((x + b) * s * w)
    db, ds = gn.gradients(loss, [b, s])
    assert db.shape.as_list() == [3]
    assert ds.shape.as_list() == []

    xv = np.arange(batch * 3, dtype=np.float32).reshape(batch, 3)
    got_b, got_s = _run([db, ds], {x: xv})
    assert got_b.shape == (3,) and np.shape(got_s) == ()
    np.testing.assert_allclose(got_b, batch * 2.0 * w, rtol=1e-6)
    np.testing.assert_allclose(got_s, np.sum((xv + [0.5, -1.0, 2.0]) * w), rtol=1e-5)


def test_a_bias_added_at_every_step_is_summed_to_one_shape_constant():
    # An unrolled loop un-broadcasts its bias once per step: every SumToShape reads the
    # same shape constant (made under the gradients scope, as part of b's gradient), not a
    # Shape op per step for the compiler to fold and merge.
    graph = gn.get_default_graph()
    x = gn.placeholder(gn.float32, [2, 3], name="x")
    b = gn.Variable(np.array([0.5, -1.0, 2.0], np.float32), name="b")
    h = x
    for _ in range(4):
        h = gn.tanh(h + b)
    before = graph.num_ops
    db, = gn.gradients(gn.reduce_sum(h), b)
    added = _new_ops(graph, before)
    sums = [op for op in added if op.type == "SumToShape"]
    assert len(sums) == 4 and not [op for op in added if op.type == "Shape" and b in op.inputs]
    shape = sums[0].inputs[1].op
    assert {op.inputs[1].op for op in sums} == {shape}
    assert shape.type == "Const" and shape.name == "gradients/Shape" and shape.gradient_of is b.op
    np.testing.assert_array_equal(shape.attrs["value"], [3])

    xv = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    bv = np.array([0.5, -1.0, 2.0], np.float32)
    hv, dh = xv, []
    for _ in range(4):
        hv = np.tanh(hv + bv)
        dh.append(1 - hv ** 2)
    expected, grad = np.zeros(3), np.ones((2, 3))
    for d in reversed(dh):
        grad = grad * d
        expected = expected + grad.sum(axis=0)
    np.testing.assert_allclose(_run(db, {x: xv}), expected, rtol=1e-5)


def test_fan_out_mixing_broadcast_and_plain_uses_sums_to_the_variables_shape():
    x = gn.placeholder(gn.float64, [None, 3], name="x")
    b = gn.Variable(np.array([1.0, -2.0, 0.5]), name="b")
    loss = gn.reduce_sum(gn.sin(x + b)) + gn.reduce_sum(b * b)
    db, = gn.gradients(loss, b)
    assert db.op.type == "AddN" and db.shape.as_list() == [3]
    xv = np.array([[0.1, 0.2, 0.3], [1.0, -1.0, 0.0]])
    bv = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(_run(db, {x: xv}), np.cos(xv + bv).sum(axis=0) + 2 * bv)


def test_integer_and_bool_xs_get_none():
    i = gn.placeholder(gn.int32, [3], name="i")
    flag = gn.placeholder(gn.bool, [3], name="flag")
    x = gn.placeholder(gn.float32, [3], name="x")
    y = gn.reduce_sum(gn.cast(i, gn.float32) * x + gn.cast(flag, gn.float32) * x)
    di, dflag, dx = gn.gradients(y, [i, flag, x])
    assert di is None and dflag is None
    got = _run(dx, {i: [1, 2, 3], flag: [True, False, True], x: [0.0, 0.0, 0.0]})
    np.testing.assert_allclose(got, [2.0, 2.0, 4.0])


def test_gradients_rejects_things_that_are_not_tensors():
    x = gn.placeholder(gn.float32, [3], name="x")
    with pytest.raises(TypeError):
        gn.gradients(gn.reduce_sum(x), [x, 3.0])


# ----- cut paths --------------------------------------------------------------------------
def test_stop_gradient_treats_its_input_as_a_constant():
    x = gn.placeholder(gn.float64, [3], name="x")
    y = gn.reduce_sum(gn.stop_gradient(x * x) * x)
    only_stopped = gn.reduce_sum(gn.stop_gradient(x) * 2.0)
    dx, = gn.gradients(y, x)
    assert gn.gradients(only_stopped, x) == [None]
    xv = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(_run(dx, {x: xv}), xv * xv)  # not 3 x**2


def test_stop_gradients_argument_cuts_paths_but_still_differentiates_the_stopped_tensor():
    x = gn.placeholder(gn.float64, [3], name="x")
    t = gn.sin(x)
    y = gn.reduce_sum(t * x)
    dx, dt = gn.gradients(y, [x, t], stop_gradients=[t])
    xv = np.array([0.1, 0.5, -0.7])
    got_x, got_t = _run([dx, dt], {x: xv})
    np.testing.assert_allclose(got_x, np.sin(xv))  # without the stop: sin(x) + x cos(x)
    np.testing.assert_allclose(got_t, xv)

    through_t_only = gn.reduce_sum(t * t)
    assert gn.gradients(through_t_only, x, stop_gradients=[t]) == [None]
    dt_only, = gn.gradients(through_t_only, t, stop_gradients=[t])
    np.testing.assert_allclose(_run(dt_only, {x: xv}), 2 * np.sin(xv))


def test_unconnected_gradients_none_or_zero():
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    used = gn.placeholder(gn.float32, [None, 3], name="used")
    W = gn.Variable(np.ones((2, 3), np.float32), name="W")
    loss = gn.reduce_sum(used * 2.0)

    assert gn.gradients(loss, [x, W]) == [None, None]
    assert gn.gradients(loss, [x, W], unconnected_gradients="none") == [None, None]
    dx, dW, dused = gn.gradients(loss, [x, W, used], unconnected_gradients="zero")
    assert dW.shape.as_list() == [2, 3]
    assert dx.shape.as_list() == [None, 3]
    for batch in (1, 5):
        got_x, got_W, got_used = _run([dx, dW, dused], {x: np.ones((batch, 3)),
                                                        used: np.ones((batch, 3))})
        np.testing.assert_array_equal(got_x, np.zeros((batch, 3), np.float32))
        np.testing.assert_array_equal(got_W, np.zeros((2, 3), np.float32))
        np.testing.assert_array_equal(got_used, np.full((batch, 3), 2.0, np.float32))


def test_unconnected_gradients_rejects_other_values():
    x = gn.placeholder(gn.float32, [3], name="x")
    with pytest.raises(ValueError, match="unconnected_gradients"):
        gn.gradients(gn.reduce_sum(x), x, unconnected_gradients="zeros")


# ----- higher order and intermediate tensors ------------------------------------------
def test_gradient_of_gradient_of_cube_is_six_x():
    x = gn.placeholder(gn.float64, [4], name="x")
    first, = gn.gradients(x ** 3.0, x)
    second, = gn.gradients(first, x)
    product_first, = gn.gradients(x * x * x, x)
    product_second, = gn.gradients(product_first, x)
    xv = np.array([-1.5, 0.5, 1.0, 2.0])
    got = _run([first, second, product_first, product_second], {x: xv})
    np.testing.assert_allclose(got[0], 3 * xv ** 2)
    np.testing.assert_allclose(got[1], 6 * xv)
    np.testing.assert_allclose(got[2], 3 * xv ** 2)
    np.testing.assert_allclose(got[3], 6 * xv)


def _jax_hessian(f, *args):
    with jax.enable_x64(True):  # jitted: eager JAX would compile op by op, slowly
        return np.asarray(jax.jit(jax.hessian(f))(*(jnp.asarray(a) for a in args)))


def test_hessians_match_jax_hessian():
    x = gn.placeholder(gn.float64, [2, 2], name="x")
    v = gn.placeholder(gn.float64, [3], name="v")
    a = np.array([[0.5, -1.0], [2.0, 0.3]])
    y = (gn.reduce_logsumexp(x) + gn.reduce_sum(gn.matmul(x, x) * a)
         + gn.reduce_sum(gn.sin(v) * gn.reduce_sum(x)) + gn.reduce_prod(v))
    hx, hv = gn.hessians(y, [x, v])
    assert hx.shape.as_list() == [2, 2, 2, 2]
    assert hv.shape.as_list() == [3, 3]

    xv = np.array([[0.2, -0.4], [1.1, 0.7]])
    vv = np.array([0.3, -0.8, 1.5])
    got_x, got_v = _run([hx, hv], {x: xv, v: vv})

    def f(x, v):
        return (jax.nn.logsumexp(x) + jnp.sum((x @ x) * a) + jnp.sum(jnp.sin(v) * jnp.sum(x))
                + jnp.prod(v))

    np.testing.assert_allclose(got_x, _jax_hessian(lambda x: f(x, vv), xv), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got_v, _jax_hessian(lambda v: f(xv, v), vv), rtol=1e-9, atol=1e-12)


def test_hessians_need_a_fully_defined_shape():
    x = gn.placeholder(gn.float32, [None, 2], name="x")
    with pytest.raises(ValueError, match="fully defined"):
        gn.hessians(gn.reduce_sum(x * x), x)


def test_gradient_with_respect_to_an_intermediate_tensor():
    x = gn.placeholder(gn.float64, [3], name="x")
    h = x * 2.0
    y = gn.reduce_sum(gn.sin(h) * x)
    dh, dx = gn.gradients(y, [h, x])
    xv = np.array([0.3, -0.6, 1.2])
    got_h, got_x = _run([dh, dx], {x: xv})
    np.testing.assert_allclose(got_h, np.cos(2 * xv) * xv)
    np.testing.assert_allclose(got_x, np.sin(2 * xv) + 2 * np.cos(2 * xv) * xv)
    # y with respect to itself is the seed: ones
    dy, = gn.gradients(y, y)
    np.testing.assert_allclose(_run(dy, {x: xv}), 1.0)


# ----- cost: one linear backward sweep ---------------------------------------------------
def _elementwise_chain(length):
    graph = gn.Graph()
    with graph.as_default():
        x = gn.placeholder(gn.float32, [8], name="x")
        h = x
        for k in range(length):
            h = gn.sin(h) if k % 2 else gn.tanh(h)
        return graph, x, h


def _gradient_op_count(length):
    graph, x, y = _elementwise_chain(length)
    before = graph.version
    with graph.as_default():
        gn.gradients(y, x)
    return graph.version - before


def test_the_gradient_of_a_10000_op_chain_builds():
    # Its build time is measured by benchmarks/gradient_chain.py, not asserted here.
    graph, x, y = _elementwise_chain(10_000)
    with graph.as_default():
        dx, = gn.gradients(y, x)
    assert dx is not None and dx.shape.as_list() == [8]


def test_the_number_of_gradient_ops_grows_linearly_with_the_chain():
    small, large = _gradient_op_count(1_000), _gradient_op_count(2_000)
    assert 1.9 <= large / small <= 2.1, (small, large)
    assert small <= 5 * 1_000


# ----- explain_gradient ---------------------------------------------------------------------
def test_explain_gradient_for_a_connected_path(capsys):
    x = gn.placeholder(gn.float32, [3], name="x")
    y = gn.reduce_sum(gn.exp(x) * 2.0)
    text = gn.explain_gradient(y, x)
    assert "has a gradient" in text and "'x:0'" in text and f"'{y.name}'" in text
    assert capsys.readouterr().out.strip() == text


def test_explain_gradient_when_there_is_no_path():
    x = gn.placeholder(gn.float32, [3], name="x")
    W = gn.Variable(np.ones(3, np.float32), name="W")
    W_line = _line() - 1
    y = gn.reduce_sum(x * 2.0)
    text = gn.explain_gradient(y, W)
    assert "Variable 'W'" in text
    assert "no path" in text
    assert f"{__file__}:{W_line}" in text


def _cut_by_argmax(x):
    index, line = gn.argmax(x), _line()
    return gn.cast(index, gn.float32), "ArgMax", line


def _cut_by_cast_to_int(x):
    as_int, line = gn.cast(x, gn.int32), _line()
    return gn.reduce_sum(gn.cast(as_int, gn.float32)), "Cast", line


def _cut_by_stop_gradient(x):
    stopped, line = gn.stop_gradient(x), _line()
    return gn.reduce_sum(stopped * 3.0), "StopGradient", line


def _cut_by_comparison(x):
    positive, line = x > 0.0, _line()
    return gn.reduce_sum(gn.cast(positive, gn.float32)), "Greater", line


@pytest.mark.parametrize("cut", [_cut_by_argmax, _cut_by_cast_to_int, _cut_by_stop_gradient,
                                 _cut_by_comparison])
def test_explain_gradient_names_the_op_that_cuts_the_path(cut):
    x = gn.placeholder(gn.float32, [4], name="x")
    y, op_type, line = cut(x)
    assert gn.gradients(y, x) == [None]
    cutting = [op for op in gn.get_default_graph().get_operations()
               if op.type == op_type and x in op.inputs]
    assert len(cutting) == 1
    text = gn.explain_gradient(y, x)
    assert f"{op_type} '{cutting[0].name}' created at {__file__}:{line}" in text


def test_a_constant_factor_gets_no_gradient_summed_to_its_shape():
    # Only gradients that lead back to an x are summed to their input's shape: the scalar
    # 0.9 gets none (no SumToShape, and only reduce_sum's gradient reads a Shape).
    x = gn.placeholder(gn.float32, [4], name="x")
    before = {op.name for op in gn.get_default_graph().get_operations()}
    y = gn.reduce_sum(x * 0.9)
    dx, = gn.gradients(y, x)
    added = [op.type for op in gn.get_default_graph().get_operations()
             if op.name not in before and op.gradient_of is not None]
    assert "SumToShape" not in added and added.count("Shape") == 1, added
    np.testing.assert_allclose(_run(dx, {x: np.ones(4, np.float32)}), np.full(4, 0.9))


def test_a_dense_layer_builds_no_gradient_for_an_input_no_path_needs():
    x = gn.placeholder(gn.float32, [4, 3], name="x")
    w = gn.Variable(np.ones((3, 2), np.float32), name="w")
    loss = gn.reduce_sum(gn.matmul(x, w))
    graph = gn.get_default_graph()

    def products_built(xs):
        before = graph.num_ops
        grads = gn.gradients(loss, xs)
        added = graph.get_operations()[before:]
        return grads, sum(op.type == "MatMul" for op in added)

    (dw,), built = products_built([w])
    assert built == 1  # x^T g only: nothing leads back through the fed batch
    (dx, dw2), built = products_built([x, w])
    assert built == 2
    value = np.arange(12, dtype=np.float32).reshape(4, 3)
    with gn.Session() as sess:
        sess.run(gn.global_variables_initializer())
        got_w, got_x, got_w2 = sess.run([dw, dx, dw2], {x: value})
    np.testing.assert_allclose(got_w, value.T @ np.ones((4, 2)))
    np.testing.assert_allclose(got_w2, got_w)
    np.testing.assert_allclose(got_x, np.ones((4, 2)) @ np.ones((3, 2)).T)
