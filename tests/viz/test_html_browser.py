"""gn.viz.to_html pages in a real headless browser (Debian's Chromium through playwright).

Marked ``browser``; they skip only where no Chromium is installed (CI installs it).
"""
import io
import os
import shutil

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

import graphnn as gn

from html_pages import classifier_model, training_graph

CHROMIUM = shutil.which("chromium") or next(
    (path for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(path)),
    None)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None or shutil.which("dot") is None,
                                 reason="needs Chromium (apt-get install chromium) and Graphviz "
                                        "(apt-get install graphviz)")]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        # Containers often have a tiny /dev/shm, which Chromium would otherwise use.
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--disable-dev-shm-usage"])
        yield browser
        browser.close()


class Page:
    """A browser tab on a written page, recording console errors and every request."""

    def __init__(self, browser, html, path, javascript=True):
        path.write_text(html, encoding="utf-8")
        self.context = browser.new_context(viewport={"width": 1000, "height": 700},
                                           java_script_enabled=javascript)
        self.tab = self.context.new_page()
        self.errors, self.requests = [], []
        self.tab.on("console", lambda message: message.type == "error"
                    and self.errors.append(message.text))
        self.tab.on("pageerror", lambda error: self.errors.append(str(error)))
        self.tab.on("request", lambda request: self.requests.append(request.url))
        self.tab.goto(path.as_uri())
        if javascript:
            self.tab.wait_for_selector(".gnviz[data-ready]")

    def node_ids(self):
        return set(self.tab.eval_on_selector_all(
            "svg g.node", "nodes => nodes.map(n => n.querySelector('title').textContent)"))

    def click_node(self, node_id):
        self.tab.locator(f'g.node[data-id="{node_id}"]').first.click()

    def details(self):
        return self.tab.inner_text(".gnviz-details")

    def view_box(self):
        return [float(v) for v in self.tab.get_attribute(".gnviz-canvas svg", "viewBox").split()]


@pytest.fixture
def open_page(browser, tmp_path):
    pages = []

    def open_(html, javascript=True):
        pages.append(Page(browser, html, tmp_path / f"page{len(pages)}.html", javascript))
        return pages[-1]

    yield open_
    for page in pages:
        page.context.close()


def test_page_loads_offline_without_console_errors(open_page):
    page = open_page(gn.viz.GraphView(classifier_model()).html())
    assert page.node_ids() == {"input", "dense/", "dropout/", "dense_1/"}
    assert page.errors == []
    assert all(url.startswith("file://") for url in page.requests), page.requests


def test_a_click_opens_a_layer_and_a_click_on_its_frame_closes_it(open_page):
    page = open_page(gn.viz.GraphView(classifier_model()).html())
    page.click_node("dense_1/")
    assert {"dense_1/MatMul", "dense_1/kernel", "dense_1/Softmax", "dense/"} <= page.node_ids()
    assert "Dense" in page.details() and "80" not in page.details()
    page.tab.locator('g.cluster[data-scope="dense_1"] text').first.click()
    assert page.node_ids() == {"input", "dense/", "dropout/", "dense_1/"}
    assert page.errors == []


def test_a_click_on_an_op_shows_type_shapes_dtypes_and_its_line(open_page):
    ops = training_graph()
    # max_views=5: the first view and the four one click away (keeps the test quick).
    page = open_page(gn.viz.GraphView(ops["train"], collapse=True, max_views=5).html())
    assert "hidden/MatMul" not in page.node_ids()
    page.click_node("hidden/")
    page.click_node("hidden/MatMul")
    details = page.details()
    for text in ("hidden/MatMul", "MatMul", "x:0  float32 (?, 4)", "hidden/W:0  float32 (4, 8)",
                 "hidden/MatMul:0  float32 (?, 8)", f"html_pages.py:{ops['matmul'].location[1]}"):
        assert text in details
    selected = page.tab.get_attribute("g.gnviz-selected", "data-id")
    assert selected == "hidden/MatMul" and page.errors == []


def test_a_gradient_node_names_and_marks_its_forward_op(open_page):
    ops = training_graph()
    page = open_page(gn.viz.GraphView(ops["train"], max_views=1).html())
    drawn = page.node_ids()
    gradient = next(op.name for op in gn.get_default_graph().get_operations()
                    if op.gradient_of is ops["matmul"] and op.name in drawn)
    page.click_node(gradient)
    assert "gradient of\thidden/MatMul (MatMul)" in page.details()
    assert page.tab.get_attribute("g.gnviz-forward", "data-id") == "hidden/MatMul"
    page.tab.click(".gnviz-details a")
    assert page.tab.inner_text(".gnviz-name") == "hidden/MatMul"
    assert page.tab.get_attribute("g.gnviz-selected", "data-id") == "hidden/MatMul"
    assert page.errors == []


def test_wheel_zooms_and_drag_pans_without_clicking(open_page):
    page = open_page(gn.viz.GraphView(training_graph()["train"], collapse=True,
                                      max_views=1).html())
    before = page.view_box()
    page.tab.mouse.move(500, 400)
    page.tab.mouse.wheel(0, -400)
    zoomed = page.view_box()
    assert zoomed[2] < before[2] * 0.8 and zoomed[3] < before[3] * 0.8
    page.tab.mouse.down()
    page.tab.mouse.move(600, 450, steps=5)
    page.tab.mouse.up()
    panned = page.view_box()
    assert panned[0] < zoomed[0] and panned[1] < zoomed[1] and panned[2] == zoomed[2]
    assert page.tab.is_hidden(".gnviz-details")
    page.tab.click("text=fit")
    assert page.view_box()[2] >= before[2] * 0.99


def test_a_view_beyond_max_views_says_so(open_page):
    page = open_page(gn.viz.GraphView(training_graph()["train"], collapse=True,
                                      max_views=1).html())
    page.click_node("hidden/")
    assert "not stored in the page" in page.tab.inner_text(".gnviz-message")
    assert "hidden/" in page.node_ids() and page.errors == []


def test_screenshot_shows_the_drawn_model(open_page):
    page = open_page(gn.viz.GraphView(classifier_model()).html())
    image = Image.open(io.BytesIO(page.tab.screenshot())).convert("RGB")
    colors = image.getcolors(maxcolors=1 << 20)
    layer_fill = sum(count for count, rgb in colors if rgb == (0xd9, 0xf2, 0xe3))
    not_white = sum(count for count, rgb in colors if rgb != (255, 255, 255))
    assert image.size == (1000, 700)
    assert layer_fill > 3 * 3000  # three layer boxes, each well over 3000 pixels
    assert not_white > 0.03 * image.size[0] * image.size[1]


def test_notebook_outputs_each_mount_and_show_a_static_svg_without_scripts(open_page):
    model_view = gn.viz.show(classifier_model())
    with gn.Graph().as_default():
        other = gn.viz.show(training_graph()["loss"], collapse=True, max_views=3)
    cells = "".join(f"<div class='cell'>{view._repr_html_()}</div>"
                    for view in (model_view, other, model_view))
    notebook = f"<!DOCTYPE html><html><body>{cells}</body></html>"
    page = open_page(notebook)
    assert page.tab.locator(".gnviz[data-ready]").count() == 3
    page.tab.locator(".gnviz").nth(2).locator('g.node[data-id="dense/"]').click()
    assert page.tab.locator(".gnviz").nth(2).locator('g.node[data-id="dense/MatMul"]').count()
    assert page.tab.locator(".gnviz").nth(0).locator('g.node[data-id="dense/MatMul"]').count() == 0
    assert page.errors == []
    static = open_page(notebook, javascript=False)
    assert static.tab.locator(".gnviz svg g.node").count() > 0
    assert static.tab.locator(".gnviz-toolbar").count() == 0


def test_search_finds_a_node_and_opens_the_scopes_around_it(open_page):
    ops = training_graph()
    page = open_page(gn.viz.GraphView(ops["train"], collapse=True, max_views=5).html())
    page.tab.fill(".gnviz-search", "hidden/matmul")
    page.tab.press(".gnviz-search", "Enter")
    assert "hidden/MatMul" in page.node_ids()
    assert page.tab.get_attribute("g.gnviz-selected", "data-id") == "hidden/MatMul"
    page.tab.fill(".gnviz-search", "no such thing")
    page.tab.press(".gnviz-search", "Enter")
    assert "No node is named like" in page.tab.inner_text(".gnviz-message")
    assert page.errors == []
