"""gn.viz.render / show through the Graphviz `dot` program, and the error when it is missing."""
import shutil

import pytest

import graphnn as gn
from graphnn.viz import GraphImage, GraphvizNotFoundError

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="the Graphviz `dot` program is not installed "
                                      "(apt-get install graphviz)")


@pytest.fixture
def loss():
    x = gn.placeholder(gn.float32, [None, 3], name="x")
    with gn.name_scope("dense"):
        W = gn.Variable(gn.ones([3, 2]), name="W")
        y = gn.nn.relu(gn.matmul(x, W))
    loss = gn.reduce_sum(y, name="loss")
    gn.gradients(loss, [W])
    return loss


@needs_dot
def test_render_svg_draws_every_node(loss, tmp_path):
    path = gn.viz.render(gn.get_default_graph(), tmp_path / "graph.svg")
    svg = (tmp_path / "graph.svg").read_text()
    assert path == str(tmp_path / "graph.svg")
    assert "<svg" in svg
    for name in ("x", "dense/W", "dense/MatMul", "loss", "cluster_dense"):
        assert f"<title>{name}</title>" in svg
    assert "float32 (?, 3)" in svg


@needs_dot
@pytest.mark.parametrize("format, magic", [("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF")])
def test_render_png_and_pdf(loss, tmp_path, format, magic):
    gn.viz.render(loss, tmp_path / f"graph.{format}")
    assert (tmp_path / f"graph.{format}").read_bytes().startswith(magic)


@needs_dot
def test_explicit_format_wins_over_the_extension(loss, tmp_path):
    gn.viz.render(loss, tmp_path / "graph.out", format="png", collapse=True)
    assert (tmp_path / "graph.out").read_bytes().startswith(b"\x89PNG")
    gn.viz.render(loss, tmp_path / "noext")
    assert b"<svg" in (tmp_path / "noext").read_bytes()


@needs_dot
def test_renders_dot_text_side_by_side_and_awkward_names(tmp_path):
    # Op names are limited to TF's characters ('>' and '-' among them); titles are free text.
    weird = gn.identity(gn.constant(1.0, name="a->b.c"), name="d-->e")
    dot = gn.viz.to_dot_side_by_side(weird, weird, titles=['{b|c}<d>&', 'a "quoted"\\title\nline'],
                                     legend=True)
    gn.viz.render(dot, tmp_path / "pair.svg")
    svg = (tmp_path / "pair.svg").read_text()
    assert "{b|c}&lt;d&gt;&amp; (2 ops)" in svg and "d&#45;&#45;&gt;e" in svg


@needs_dot
def test_show_returns_an_inline_svg_for_jupyter(loss, tmp_path):
    image = gn.viz.show(loss, collapse=["dense"])
    assert isinstance(image, GraphImage)
    svg = image._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "dense/" in image.source
    assert image.save(tmp_path / "shown.png").endswith("shown.png")
    assert (tmp_path / "shown.png").read_bytes().startswith(b"\x89PNG")


@needs_dot
def test_graphviz_errors_are_reported(tmp_path):
    with pytest.raises(RuntimeError, match="dot -Tsvg"):
        gn.viz.render("digraph { a -> }", tmp_path / "bad.svg")


def test_missing_dot_says_how_to_install_graphviz(loss, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizNotFoundError) as error:
        gn.viz.render(loss, tmp_path / "graph.svg")
    message = str(error.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install"):
        assert hint in message
    with pytest.raises(GraphvizNotFoundError):
        gn.viz.show(loss)._repr_svg_()
    assert "digraph" in gn.viz.to_dot(loss)


def test_unknown_format_and_options_on_dot_text_are_refused(loss, tmp_path):
    with pytest.raises(ValueError, match="svg, png, pdf"):
        gn.viz.render(loss, tmp_path / "graph.gif", format="gif")
    with pytest.raises(TypeError, match="DOT text"):
        gn.viz.render("digraph {}", tmp_path / "g.svg", collapse=True)


@needs_dot
def test_renders_a_model_as_layer_boxes(tmp_path):
    model = gn.models.Sequential([gn.layers.Dense(8, activation="relu", input_shape=(4,)),
                                  gn.layers.Dense(2)])
    gn.viz.render(model, tmp_path / "model.svg")
    svg = (tmp_path / "model.svg").read_text()
    assert "<title>dense/</title>" in svg and "output (None, 8)" in svg and "40 params" in svg
    gn.viz.render(model, tmp_path / "open.svg", expand=["dense_1"])
    assert "<title>dense_1/MatMul</title>" in (tmp_path / "open.svg").read_text()
