"""Summary ops: host-computed serialized Summary protos, read back with TensorBoard's protos."""
import numpy as np
import pytest

import graphnn as gn
from graphnn.errors import InvalidArgumentError

summary_pb2 = pytest.importorskip("tensorboard.compat.proto.summary_pb2",
                                  reason="the optional tensorboard extra is not installed")


def _values(serialized):
    return list(summary_pb2.Summary.FromString(serialized).value)


def test_scalar_summary_serializes_the_fetched_value_under_its_scoped_tag():
    x = gn.placeholder(gn.float32, [], name="x")
    with gn.name_scope("Loss"):
        summary = gn.summary.scalar("loss", x * 2.0)
    assert summary.dtype == gn.string and summary.shape.as_list() == []
    with gn.Session() as sess:
        serialized = sess.run(summary, {x: 1.25})
    assert isinstance(serialized, bytes)
    (value,) = _values(serialized)
    assert (value.tag, value.simple_value) == ("Loss/loss", 2.5)


def test_summary_tags_are_cleaned_and_made_unique_as_tf1_does():
    w = gn.Variable(gn.ones([2]), name="W1")
    first = gn.summary.histogram(w.name, w)
    second = gn.summary.histogram(w.name + "/gradient", w)
    third = gn.summary.scalar("loss", gn.reduce_sum(w))
    fourth = gn.summary.scalar("loss", gn.reduce_sum(w))
    odd = gn.summary.scalar("_odd name!", gn.reduce_sum(w))
    with gn.Session() as sess:
        sess.run(w.initializer)
        tags = [_values(s)[0].tag for s in sess.run([first, second, third, fourth, odd])]
    assert tags == ["W1_0", "W1_0/gradient", "loss", "loss_1", "_odd_name_"]
    assert gn.summary.clean_tag("/a b:c") == "a_b_c"


def test_histogram_counts_match_tf1_buckets():
    values = np.array([0.0, 1.0, 1.0, -3.0, 250.0], np.float32)
    summary = gn.summary.histogram("h", gn.constant(values))
    with gn.Session() as sess:
        histo = _values(sess.run(summary))[0].histo
    assert (histo.min, histo.max, histo.num) == (-3.0, 250.0, 5)
    assert histo.sum == pytest.approx(249.0) and histo.sum_squares == pytest.approx(62511.0)
    counts = np.array(histo.bucket)
    limits = np.array(histo.bucket_limit)
    assert counts.sum() == 5 and len(counts) == len(limits)
    assert np.all(np.diff(limits) > 0)
    for value, count in [(1.0, 2), (250.0, 1), (-3.0, 1), (0.0, 1)]:
        bucket = np.searchsorted(limits, value, side="right")
        assert counts[bucket] == count
        assert limits[bucket - 1] <= value < limits[bucket]


def test_histogram_of_nan_fails_the_run_naming_the_tag():
    x = gn.placeholder(gn.float32, [2])
    summary = gn.summary.histogram("weights", x)
    with gn.Session() as sess, pytest.raises(InvalidArgumentError, match="weights"):
        sess.run(summary, {x: [1.0, np.nan]})


def test_merge_all_holds_every_summary_and_none_without_summaries():
    assert gn.summary.merge_all() is None
    x = gn.placeholder(gn.float32, [3])
    gn.summary.scalar("average", gn.reduce_mean(x))
    gn.summary.histogram("x", x)
    gn.summary.scalar("private", gn.reduce_max(x), collections=["other"])
    merged = gn.summary.merge_all()
    total = gn.reduce_sum(x)
    with gn.Session() as sess:
        serialized, total_value = sess.run([merged, total], {x: [1.0, 2.0, 6.0]})
    assert total_value == 9.0
    values = _values(serialized)
    assert [v.tag for v in values] == ["average", "x"]
    assert values[0].simple_value == 3.0 and values[1].histo.num == 3
    assert [v.tag for v in _values(gn.Session().run(gn.summary.merge_all("other"), {x: [1, 2, 3]}))
            ] == ["private"]


def test_scalar_summary_refuses_non_scalars_and_merge_refuses_numbers():
    with pytest.raises(ValueError, match="scalar"):
        gn.summary.scalar("v", gn.ones([3]))
    with pytest.raises(TypeError, match="string"):
        gn.summary.merge([gn.ones([])])


def test_string_fetches_are_refused_by_make_callable_and_run_loop():
    hello = gn.constant("hi")
    with gn.Session() as sess:
        with pytest.raises(TypeError, match="string tensor"):
            sess.make_callable(hello)
        with pytest.raises(TypeError, match="string tensor"):
            sess.run_loop(hello, steps=2)


def test_string_constants_are_fetched_as_bytes():
    hello = gn.constant("Hello, graphnn!")
    words = gn.constant([["a", b"b"]])
    x = gn.placeholder(gn.float32, [2])
    with gn.Session() as sess:
        got_hello, got_words, doubled = sess.run([hello, words, x * 2], {x: [1.0, 2.0]})
        assert hello.eval() == b"Hello, graphnn!"
    assert got_hello == b"Hello, graphnn!"
    assert got_words.dtype == object and got_words.tolist() == [[b"a", b"b"]]
    np.testing.assert_array_equal(doubled, [2.0, 4.0])
    with pytest.raises(gn.errors.DTypeError):
        gn.constant(["a", 1])
