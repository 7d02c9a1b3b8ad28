"""gn.viz.to_html / show: the page's views, node details, limits, notebook output (no browser)."""
import re
import shutil

import pytest

import graphnn as gn
from graphnn.viz import GraphImage, GraphView

from html_pages import classifier_model, page_data, training_graph, view_titles

pytestmark = pytest.mark.skipif(shutil.which("dot") is None,
                                reason="the Graphviz `dot` program is not installed "
                                       "(apt-get install graphviz)")


def test_page_is_self_contained(tmp_path):
    path = gn.viz.to_html(classifier_model(), tmp_path / "model.html")
    page = (tmp_path / "model.html").read_text()
    assert path == str(tmp_path / "model.html")
    assert page.startswith("<!DOCTYPE html>") and "<title>model sequential</title>" in page
    # Nothing is fetched: no src/href to anything, no CSS imports or urls.
    assert not re.search(r"\bsrc=|<link\b|@import|url\(", page)
    assert not re.findall(r'href="(?!#)', page)
    assert "graphnnViz.mount(" in page and "DecompressionStream" in page


def test_model_page_has_a_view_per_open_layer():
    data = page_data(GraphView(classifier_model()).html())
    layers = {"dense", "dropout", "dense_1"}
    assert data["initial"] == "\n".join(sorted(layers)) and data["complete"]
    assert view_titles(data, layers) == {"input", "dense/", "dropout/", "dense_1/"}
    opened = view_titles(data, layers - {"dense_1"})
    assert {"dense/", "dropout/", "dense_1/MatMul", "dense_1/kernel"} <= opened
    assert "dense_1/" not in opened
    assert {"dense/MatMul", "dropout/dropout", "dense_1/Softmax"} <= view_titles(data, set())


def test_node_details_give_type_shapes_dtypes_and_the_users_line():
    ops = training_graph()
    data = page_data(GraphView(ops["train"]).html())
    matmul = data["nodes"]["hidden/MatMul"]
    assert matmul["type"] == "MatMul" and matmul["kind"] == "op"
    assert matmul["where"] == f"html_pages.py:{ops['matmul'].location[1]}"
    assert matmul["inputs"] == [{"name": "x:0", "dtype": "float32", "shape": "(?, 4)"},
                                {"name": "hidden/W:0", "dtype": "float32", "shape": "(4, 8)"}]
    assert matmul["outputs"] == [{"name": "hidden/MatMul:0", "dtype": "float32",
                                  "shape": "(?, 8)"}]
    gradient = next(info for name, info in data["nodes"].items()
                    if name.startswith("gradients/") and info.get("gradient_of", {}).get(
                        "name") == "hidden/MatMul")
    assert gradient["kind"] == "gradient" and gradient["gradient_of"]["type"] == "MatMul"
    scope = data["nodes"]["hidden/"]
    assert scope["kind"] == "scope" and scope["ops"] == 3
    assert dict(scope["types"]) == {"VariableV2": 1, "MatMul": 1, "Relu": 1}


def test_layer_details_name_class_shape_and_weights():
    data = page_data(GraphView(classifier_model()).html())
    dense = data["nodes"]["dense/"]
    assert dense["kind"] == "layer"
    assert dense["layer"] == ["dense", "Dense", "output (None, 16)", "80 params"]
    assert dense["weights"] == ["dense/kernel:0 float32 (4, 16)", "dense/bias:0 float32 (16,)"]


def test_views_one_click_away_come_first_and_the_limit_is_kept():
    ops = training_graph()
    tops = {"hidden", "out", "gradients", "GradientDescent"}
    small = GraphView(ops["train"], collapse=True, max_views=len(tops) + 1)
    data = page_data(small.html())
    assert not small.complete and len(data["states"]) == len(data["views"]) == small.views == 5
    closed = set(data["initial"].split("\n"))
    assert tops < closed
    for top in tops:
        assert "\n".join(sorted(closed - {top})) in data["states"]
    # Drilling into one scope comes before opening two side by side.
    deeper = page_data(GraphView(ops["train"], collapse=True, max_views=8).html())
    assert "\n".join(sorted(closed - {"gradients", "gradients/hidden"})) in deeper["states"]
    assert "\n".join(sorted(closed - {"hidden", "out"})) not in deeper["states"]
    with pytest.raises(ValueError, match="max_views must be at least 1"):
        GraphView(ops["train"], max_views=0)


def test_show_gives_interactive_html_and_a_static_svg(tmp_path):
    ops = training_graph()
    view = gn.viz.show(ops["loss"], collapse=True)
    assert isinstance(view, GraphView) and isinstance(view, GraphImage)
    fragment = view._repr_html_()
    assert fragment.startswith('<div class="gnviz"') and "<!DOCTYPE" not in fragment
    # The first view sits in the HTML as plain SVG: it shows where scripts are stripped.
    canvas = re.search(r'<div class="gnviz-canvas">(<svg.*?</svg>)', fragment, re.DOTALL)
    assert canvas and "<title>hidden/</title>" in canvas.group(1)
    assert view._repr_svg_().lstrip().startswith("<?xml")
    assert fragment == gn.viz.show(ops["loss"], collapse=True)._repr_html_()  # reproducible
    view.save(tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert "<!DOCTYPE html>" in open(view.save(tmp_path / "loss.html")).read()
    static = gn.viz.show(gn.viz.to_dot(ops["loss"]))
    assert type(static) is GraphImage
    with pytest.raises(TypeError, match="DOT text"):
        gn.viz.show("digraph {}", collapse=True)


def test_titles_and_names_are_escaped():
    gn.identity(gn.constant(1.0, name="a->b"), name="out")
    page = gn.viz.GraphView(gn.get_default_graph(), title='</script><b>"x"</b>').html()
    assert "<title>&lt;/script&gt;&lt;b&gt;&quot;x&quot;&lt;/b&gt;</title>" in page
    assert page.count("</script>") == page.count("<script")
    assert page_data(page)["title"] == '</script><b>"x"</b>'
