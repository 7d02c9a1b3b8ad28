"""Every differentiable op's gradient against central finite differences (float64, numpy
reference) and against jax.grad of its lowering, on the op's own sample inputs; and the
same gradient built for inputs of unknown rank, which must agree and compile to the same
run program once the run's shapes are known."""
import collections
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphnn as gn
from graphnn.framework.registry import OP_TABLE

DIFFERENTIABLE = sorted(t for t, d in OP_TABLE.items()
                        if d.differentiable and d.samples is not None and not d.source)


def test_every_differentiable_op_has_a_gradient_rule():
    missing = [t for t, d in OP_TABLE.items()
               if d.differentiable and not d.source and d.grad is None]
    assert not missing, f"ops neither differentiable-with-a-rule nor marked not differentiable: {missing}"


def _float_samples(op_type):
    rng = np.random.default_rng(zlib.crc32(op_type.encode()))
    return [s for s in OP_TABLE[op_type].samples(rng, gn.float64)
            if any(np.asarray(v).dtype == np.float64 for i, v in enumerate(s.inputs)
                   if i not in s.static)]


def _weights(rng, shapes):
    return [rng.normal(size=s) for s in shapes]


def _objective(op_type, sample, weights):
    """numpy: sum_k <output_k, weight_k> over the float outputs, as a function of the inputs."""
    reference = OP_TABLE[op_type].reference

    def f(values):
        outs = reference(*values, **sample.attrs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        return sum(float(np.sum(np.asarray(o, np.float64) * w))
                   for o, w in zip(outs, weights) if w is not None)
    return f


def _finite_differences(f, values, index, eps=1e-6):
    base = [np.array(v, dtype=v.dtype, copy=True, order="C") for v in values]
    grad = np.zeros_like(base[index], dtype=np.float64)
    flat = base[index].reshape(-1)
    for k in range(flat.size):
        original = flat[k]
        flat[k] = original + eps
        plus = f(base)
        flat[k] = original - eps
        minus = f(base)
        flat[k] = original
        grad.reshape(-1)[k] = (plus - minus) / (2 * eps)
    return grad


def _gradients_of(op_type, sample, unknown_rank):
    """Builds the op on placeholders (of unknown rank for the float inputs when asked) and
    returns (weights, wrt, gradients, compile report of the gradients' run)."""
    graph = gn.Graph()
    with graph.as_default():
        inputs, feeds, wrt = [], {}, []
        for i, value in enumerate(sample.inputs):
            value = np.asarray(value)
            if i in sample.static:
                inputs.append(graph.constant(value))
                continue
            is_float = value.dtype == np.float64
            placeholder = gn.placeholder(value.dtype,
                                         shape=None if unknown_rank and is_float else value.shape)
            inputs.append(placeholder)
            feeds[placeholder] = value
            if is_float:
                wrt.append(i)
        op = graph.create_op(op_type, inputs, sample.attrs)
        outs = OP_TABLE[op_type].reference(*sample.inputs, **sample.attrs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        rng = np.random.default_rng(1)
        weights = [rng.normal(size=np.shape(o)) if t.dtype.is_floating else None
                   for t, o in zip(op.outputs, outs)]
        if all(w is None for w in weights):
            return weights, wrt, None, None  # e.g. a Cast to int: nothing to differentiate
        objective = gn.add_n([gn.reduce_sum(t * w) for t, w in zip(op.outputs, weights)
                              if w is not None])
        grads = gn.gradients(objective, [inputs[i] for i in wrt])
        for i, grad in zip(wrt, grads):
            assert grad.shape.is_compatible_with(inputs[i].shape), (op_type, i, grad.shape)
        with gn.Session(graph) as sess:
            got = sess.run(grads, feed_dict=feeds)
            report = sess.compile_report(grads, feed_dict=feeds)
    return weights, wrt, got, report


@pytest.mark.parametrize("op_type", DIFFERENTIABLE)
def test_gradient_matches_finite_differences_and_jax(op_type):
    samples = _float_samples(op_type)
    assert samples, f"{op_type} has no float64 sample to differentiate"
    for sample in samples:
        weights, wrt, got, _ = _gradients_of(op_type, sample, unknown_rank=False)
        if got is None:
            continue
        values = [np.asarray(v) for v in sample.inputs]
        f = _objective(op_type, sample, weights)
        lower = OP_TABLE[op_type].lower
        for g, i in zip(got, wrt):
            expected = _finite_differences(f, values, i)
            np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-6,
                                       err_msg=f"{op_type} d/dinput{i} vs finite differences")

            def along(v, i=i):
                args = list(values)
                args[i] = v
                outs = lower(*args, **sample.attrs)
                outs = outs if isinstance(outs, tuple) else (outs,)
                return sum(jnp.sum(o * w) for o, w in zip(outs, weights) if w is not None)

            with jax.enable_x64(True):
                reference = np.asarray(jax.grad(along)(values[i]))
            np.testing.assert_allclose(g, reference, rtol=1e-7, atol=1e-9,
                                       err_msg=f"{op_type} d/dinput{i} vs jax.grad")


# Ops that only move or relabel data: free in XLA, and which of them a gradient uses may
# depend on whether a rank was known when the gradient was built (ExpandDims or Reshape).
_LAYOUT = {"Reshape", "ExpandDims", "Squeeze", "Const"}
_SHAPE_WORK = {"Shape", "Size", "ReducedShape", "SumToShape"}


@pytest.mark.parametrize("op_type", DIFFERENTIABLE)
def test_gradient_with_unknown_ranks_matches_and_costs_nothing_extra(op_type):
    """Float inputs fed through placeholders of unknown rank: the gradient has the same
    values as with known shapes, and once the run's shapes are known the compiler folds the
    shape computations away, so the run program does the same work (where a rule needs
    sizes known while building, it falls back to a VJP node: the same XLA work, another
    node, so there only the absence of shape computations is checked)."""
    for sample in _float_samples(op_type):
        _, wrt, known, known_report = _gradients_of(op_type, sample, unknown_rank=False)
        if known is None:
            continue
        _, _, unknown, unknown_report = _gradients_of(op_type, sample, unknown_rank=True)
        for i, g_known, g_unknown in zip(wrt, known, unknown):
            assert g_unknown.shape == np.shape(sample.inputs[i])
            np.testing.assert_allclose(g_unknown, g_known, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{op_type} d/dinput{i}, unknown rank")

        def work(report):
            types = collections.Counter(op.type for op in report.optimized_graph.get_operations())
            return {t: n for t, n in types.items() if t not in _LAYOUT}

        assert not set(work(unknown_report)) & (_SHAPE_WORK - set(work(known_report))), \
            f"{op_type}: shape computations left in the run program: {work(unknown_report)}"
        if "VJP" not in work(unknown_report):
            assert work(unknown_report) == work(known_report), op_type
