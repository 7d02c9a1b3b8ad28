"""Seeds are checked when they are set: an integer in [0, 2**32 - 1] or None."""
import numpy as np
import pytest

import graphnn as gn

BAD_SEEDS = [2 ** 32, -1, 2 ** 63, 1.5, "3", True, [1]]
RANGE = r"must be None or an integer in \[0, 4294967295\] \(2\*\*32 - 1\)"


@pytest.mark.parametrize("seed", BAD_SEEDS)
def test_bad_graph_seed_is_refused_when_set(fresh_default_graph, seed):
    gn.set_random_seed(7)
    with pytest.raises(ValueError, match="The graph seed " + RANGE):
        gn.set_random_seed(seed)
    with pytest.raises(ValueError, match="The graph seed " + RANGE):
        fresh_default_graph.seed = seed
    assert fresh_default_graph.seed == 7


@pytest.mark.parametrize("make", [
    lambda seed: gn.random_normal([2], seed=seed),
    lambda seed: gn.truncated_normal([2], seed=seed),
    lambda seed: gn.random_uniform([2], seed=seed),
    lambda seed: gn.random_uniform([2], maxval=5, dtype=gn.int32, seed=seed),
    lambda seed: gn.nn.dropout(np.ones(3, np.float32), rate=0.5, seed=seed),
])
@pytest.mark.parametrize("seed", BAD_SEEDS)
def test_bad_op_seed_is_refused_when_the_op_is_built(fresh_default_graph, make, seed):
    with pytest.raises(ValueError, match=RANGE):
        make(seed)
    assert fresh_default_graph.get_operations() == []


def test_seed_attribute_is_checked_for_ops_created_directly(fresh_default_graph):
    shape = gn.constant([2])
    with pytest.raises(ValueError, match="The seed attribute " + RANGE):
        fresh_default_graph.create_op("RandomUniform", [shape],
                                      {"dtype": gn.float32, "seed": 2 ** 40})


def test_seeds_at_the_ends_of_the_range_run(fresh_default_graph, sess):
    gn.set_random_seed(np.uint32(2 ** 32 - 1))
    a = gn.random_normal([3], seed=0)
    b = gn.random_normal([3], seed=np.int64(2 ** 32 - 1))
    first, second = sess.run([a, b])
    assert np.isfinite(first).all() and not np.array_equal(first, second)
    assert fresh_default_graph.seed == 2 ** 32 - 1 and type(fresh_default_graph.seed) is int
