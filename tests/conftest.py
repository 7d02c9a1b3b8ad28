import pytest

import graphnn as gn


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
