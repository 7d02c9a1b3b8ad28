"""Graph.copy_op: how the compiler copies a user's op into its private graph."""
import graphnn as gn


def test_copy_op_copies_an_op_into_another_graph_under_a_unique_name():
    source = gn.Graph()
    with source.as_default():
        x = gn.placeholder(gn.float32, [2, 3], name="x")
        with gn.name_scope("layer"):
            y = gn.reduce_sum(x, axis=1, name="sum")
    target = gn.Graph()
    with target.as_default():
        x_copy = gn.placeholder(gn.float32, [2, 3], name="x")
        gn.constant(1.0, name="layer/sum")  # takes the copied op's name first
    copy = target.copy_op(y.op, (x_copy,))
    assert copy.name == "layer/sum_1" and copy.type == y.op.type and copy.graph is target
    assert copy.inputs == (x_copy,) and copy.location == y.op.location
    assert copy.attrs == y.op.attrs and copy.attrs is not y.op.attrs
    assert [(t.shape, t.dtype) for t in copy.outputs] == [(y.shape, y.dtype)]
    assert target.consumers_of(x_copy) == [copy]
    assert target.get_operation_by_name("layer/sum_1") is copy
