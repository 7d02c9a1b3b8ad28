"""gn.cond: values, captured tensors and variables, assigns in branches, structure errors,
gradients (finite differences and jax.grad of the same program), nesting."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphnn as gn


def _finite_difference(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step.flat[i] = eps
        grad.flat[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def test_only_the_chosen_branch_runs():
    x = gn.placeholder(gn.float32, [3])
    p = gn.placeholder(gn.bool, [])
    # sqrt of a negative number would be NaN: the branch is not taken, so the check passes.
    y = gn.debugging.check_numerics(gn.cond(p, lambda: gn.sqrt(x), lambda: -x), "sqrt")
    with gn.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {x: [1.0, 4.0, 9.0], p: True}), [1, 2, 3])
        np.testing.assert_allclose(sess.run(y, {x: [-1.0, -4.0, 9.0], p: False}), [1, 4, -9])


def test_nested_structures_and_python_values():
    x = gn.placeholder(gn.float32, [2])
    p = gn.placeholder(gn.bool, [])
    out = gn.cond(p, lambda: {"a": x * 2.0, "b": (x, 1.0)},
                  lambda: {"a": x, "b": (-x, 0.0)})
    with gn.Session() as sess:
        got = sess.run(out, {x: [1.0, 2.0], p: False})
    np.testing.assert_allclose(got["a"], [1, 2])
    np.testing.assert_allclose(got["b"][0], [-1, -2])
    assert got["b"][1] == 0.0


def test_python_bool_predicate_and_pred_errors():
    assert gn.Session().run(gn.cond(True, lambda: gn.constant(1), lambda: gn.constant(2))) == 1
    with pytest.raises(ValueError, match="scalar bool"):
        gn.cond(gn.constant([True, False]), lambda: 1.0, lambda: 2.0)
    with pytest.raises(TypeError, match="false_fn must be callable"):
        gn.cond(True, lambda: 1.0, 2.0)


def test_structure_dtype_and_shape_errors_name_both_branches():
    x = gn.placeholder(gn.float32, [3])
    p = gn.placeholder(gn.bool, [])

    def two():
        return x, x

    def one():
        return x

    with pytest.raises(ValueError) as error:
        gn.cond(p, two, one)
    assert "true_fn two (" in str(error.value) and "false_fn one (" in str(error.value)
    assert "test_cond.py" in str(error.value)
    with pytest.raises(gn.errors.DTypeError, match="float32 .* int32"):
        gn.cond(p, lambda: x, lambda: gn.cast(x, gn.int32))
    with pytest.raises(gn.errors.ShapeError, match=r"\(3,\).*\(2,\)"):
        gn.cond(p, lambda: x, lambda: x[:2])


def test_a_tensor_made_outside_is_computed_either_way_but_ops_inside_are_conditional():
    v = gn.Variable(0.0)
    p = gn.placeholder(gn.bool, [])
    outside = v.assign_add(1.0)  # made before gn.cond: runs whenever the cond's result is needed
    y = gn.cond(p, lambda: outside, lambda: gn.constant(-1.0))
    with gn.Session() as sess:
        sess.run(v.initializer)
        sess.run(y, {p: False})
        assert sess.run(v) == 1.0


def test_assign_in_a_branch_happens_only_when_the_branch_runs():
    v = gn.Variable(np.zeros(2, np.float32))
    p = gn.placeholder(gn.bool, [])

    def bump():
        v.assign_add(gn.ones([2]))  # not returned: it still runs with the branch
        return gn.constant(1.0)

    y = gn.cond(p, bump, lambda: gn.constant(0.0))
    with gn.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(y, {p: False}) == 0.0
        np.testing.assert_array_equal(sess.run(v), [0, 0])
        assert sess.run(y, {p: True}) == 1.0
        sess.run(y, {p: True})
        np.testing.assert_array_equal(sess.run(v), [2, 2])


def test_branch_returning_an_operation():
    v = gn.Variable(1.0)
    p = gn.placeholder(gn.bool, [])
    op = gn.cond(p, lambda: gn.group(v.assign(5.0)), lambda: gn.no_op())
    assert isinstance(op, gn.Operation)
    with gn.Session() as sess:
        sess.run(v.initializer)
        sess.run(op, {p: False})
        assert sess.run(v) == 1.0
        sess.run(op, {p: True})
        assert sess.run(v) == 5.0


def test_variables_cannot_be_created_in_a_branch():
    with pytest.raises(ValueError, match="outside gn.cond"):
        gn.cond(True, lambda: gn.Variable(1.0), lambda: gn.constant(1.0))


def _program(x_value, w_value, pred):
    """The same program in graphnn and in jax."""
    def jax_f(x, w):
        return jnp.sum(jax.lax.cond(pred, lambda: jnp.sin(x) * w, lambda: x * x * w[0]))
    return jax_f


@pytest.mark.parametrize("pred", [True, False])
def test_gradient_through_both_branches_matches_finite_differences_and_jax(pred):
    x = gn.placeholder(gn.float64, [3])
    w = gn.Variable(np.array([0.5, -1.0, 2.0]), name="w")
    p = gn.placeholder(gn.bool, [])
    y = gn.reduce_sum(gn.cond(p, lambda: gn.sin(x) * w, lambda: x * x * w[0]))
    gx, gw = gn.gradients(y, [x, w])
    x_value = np.array([0.3, -1.2, 2.0])
    with gn.Session() as sess:
        sess.run(w.initializer)
        got_x, got_w = sess.run([gx, gw], {x: x_value, p: pred})
        w_value = sess.run(w)
        f = lambda xv: sess.run(y, {x: xv, p: pred})  # noqa: E731
        np.testing.assert_allclose(got_x, _finite_difference(f, x_value), rtol=1e-6, atol=1e-8)
    with jax.enable_x64(True):
        want_x, want_w = jax.grad(_program(x_value, w_value, pred), argnums=(0, 1))(
            jnp.asarray(x_value), jnp.asarray(w_value))
    np.testing.assert_allclose(got_x, want_x, rtol=1e-12)
    np.testing.assert_allclose(got_w, want_w, rtol=1e-12)


def test_second_derivatives_through_cond():
    x = gn.placeholder(gn.float64, [2])
    p = gn.placeholder(gn.bool, [])
    hessian, = gn.hessians(gn.reduce_sum(gn.cond(p, lambda: x ** 3.0, lambda: gn.exp(x))), x)
    with gn.Session() as sess:
        np.testing.assert_allclose(sess.run(hessian, {x: [1.0, 2.0], p: True}),
                                   np.diag([6.0, 12.0]))
        np.testing.assert_allclose(sess.run(hessian, {x: [1.0, 2.0], p: False}),
                                   np.diag(np.exp([1.0, 2.0])))


def test_nested_cond_captures_through_both_levels():
    x = gn.placeholder(gn.float32, [])
    a = gn.placeholder(gn.bool, [])
    b = gn.placeholder(gn.bool, [])
    y = gn.cond(a, lambda: gn.cond(b, lambda: x * 2.0, lambda: x * 3.0), lambda: x)
    g, = gn.gradients(y, x)
    with gn.Session() as sess:
        assert sess.run([y, g], {x: 2.0, a: True, b: False}) == [6.0, 3.0]
        assert sess.run([y, g], {x: 2.0, a: True, b: True}) == [4.0, 2.0]
        assert sess.run([y, g], {x: 2.0, a: False, b: True}) == [2.0, 1.0]


def test_random_branch_draws_differ_between_runs_and_refuse_gradients():
    x = gn.placeholder(gn.float32, [])
    y = gn.cond(True, lambda: x + gn.random_uniform([]), lambda: x)
    with gn.Session() as sess:
        first, second = sess.run(y, {x: 0.0}), sess.run(y, {x: 0.0})
    assert first != second and 0.0 <= first < 1.0
    with pytest.raises(ValueError, match="draws random numbers"):
        gn.gradients(y, x)


def test_check_numerics_is_refused_inside_a_branch():
    x = gn.placeholder(gn.float32, [])
    with pytest.raises(ValueError, match="check the control-flow op's result"):
        gn.cond(True, lambda: gn.debugging.check_numerics(x, "in"), lambda: x)
