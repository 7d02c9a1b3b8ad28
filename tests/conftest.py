import pytest

import graphnn as gn


@pytest.fixture(autouse=True, scope="session")
def private_xla_calibration(tmp_path_factory):
    """The XLA options calibration (compiler.xla_options) caches into a directory of the
    test run's own, never the user's cache."""
    patch = pytest.MonkeyPatch()
    patch.setenv("GRAPHNN_CACHE_DIR", str(tmp_path_factory.mktemp("graphnn-cache")))
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def fresh_default_graph():
    """Each test builds in its own graph, so names and collections never leak between tests."""
    with gn.Graph().as_default() as graph:
        yield graph


@pytest.fixture
def sess(fresh_default_graph):
    """A session on the test's graph, closed afterwards."""
    session = gn.Session(fresh_default_graph)
    yield session
    session.close()
