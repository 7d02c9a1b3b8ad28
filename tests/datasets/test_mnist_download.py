"""Downloading MNIST into the cache, against a local HTTP server serving small IDX files."""
import functools
import hashlib
import http.server
import socket
import threading
import time

import numpy as np
import pytest

import graphnn as gn
from graphnn.datasets.mnist import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS

ALL_FILES = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS]


class _QuietRecordingHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        self.server.requested.append(self.path)


@pytest.fixture
def mirror(tmp_path, write_mnist):
    """A directory served at an http://127.0.0.1 URL, holding the small MNIST files.

    Yields ``(directory, url, md5, requested)``: the files' MD5 sums by name, and the paths
    the server was asked for.
    """
    directory = tmp_path / "mirror"
    written = write_mnist(directory)
    md5 = {name: hashlib.md5(data).hexdigest() for name, data in written.items()}
    handler = functools.partial(_QuietRecordingHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requested = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield directory, f"http://127.0.0.1:{server.server_address[1]}/", md5, server.requested
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def dead_url():
    """An http://127.0.0.1 URL on which nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist"


def test_missing_files_are_downloaded_verified_and_cached(mirror, clean_environment,
                                                          small_mnist, capsys, dead_url):
    _, url, md5, requested = mirror
    (x_train, y_train), (x_test, y_test) = gn.datasets.load_mnist(mirrors=[url], md5=md5)
    np.testing.assert_array_equal(x_train, small_mnist[TRAIN_IMAGES])
    np.testing.assert_array_equal(y_test, small_mnist[TEST_LABELS])
    assert sorted(requested) == sorted(f"/{name}" for name in ALL_FILES)
    assert sorted(p.name for p in clean_environment.iterdir()) == sorted(ALL_FILES)
    progress = capsys.readouterr().err
    assert f"Downloading {TRAIN_IMAGES} from {url}{TRAIN_IMAGES}" in progress
    assert "\r" not in progress  # not a terminal: whole lines only
    # Cached: a second call reads the files without any mirror.
    (_, y_train_again), _ = gn.datasets.load_mnist(mirrors=[dead_url], md5=md5)
    np.testing.assert_array_equal(y_train_again, y_train)


def test_only_the_files_the_cache_lacks_are_downloaded(mirror, clean_environment, write_mnist):
    _, url, md5, requested = mirror
    write_mnist(clean_environment, [TRAIN_IMAGES, TEST_IMAGES])
    gn.datasets.load_mnist(mirrors=[url], md5=md5)
    assert sorted(requested) == [f"/{TEST_LABELS}", f"/{TRAIN_LABELS}"]


def test_a_download_with_a_wrong_checksum_is_refused_and_not_cached(mirror, clean_environment):
    directory, url, md5, _ = mirror
    damaged = bytearray((directory / TRAIN_IMAGES).read_bytes())
    damaged[-1] ^= 0xFF  # one byte changed, the length kept
    (directory / TRAIN_IMAGES).write_bytes(bytes(damaged))
    with pytest.raises(gn.datasets.ChecksumError, match=rf"{TRAIN_IMAGES}.*expected "
                                                        rf"{md5[TRAIN_IMAGES]}"):
        gn.datasets.load_mnist(mirrors=[url], md5=md5)
    assert list(clean_environment.iterdir()) == []  # no file, no temporary file


def test_the_next_mirror_is_tried_when_one_fails(mirror, clean_environment, dead_url):
    _, url, md5, _ = mirror
    (_, y_train), _ = gn.datasets.load_mnist(mirrors=[dead_url, url + "missing/", url], md5=md5)
    assert len(y_train) == 6


def test_offline_a_missing_file_fails_at_once_saying_how_to_provide_it(clean_environment,
                                                                         dead_url, write_mnist):
    write_mnist(clean_environment, [TRAIN_IMAGES])
    start = time.monotonic()
    with pytest.raises(gn.datasets.DownloadError) as raised:
        gn.datasets.load_mnist(mirrors=[dead_url])
    assert time.monotonic() - start < 10
    assert not isinstance(raised.value, gn.datasets.ChecksumError)
    message = str(raised.value)
    assert all(name in message for name in [TRAIN_LABELS, TEST_IMAGES, TEST_LABELS])
    assert str(clean_environment) in message and "Without internet" in message
    assert f"{dead_url}/{TRAIN_LABELS}" in message
    assert [p.name for p in clean_environment.iterdir()] == [TRAIN_IMAGES]


def test_downloads_are_checked_against_the_official_sums_by_default(mirror, clean_environment):
    _, url, _, _ = mirror  # serves small files, which are not the official ones
    official = gn.datasets.MNIST_MD5[TRAIN_IMAGES]
    assert official == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    with pytest.raises(gn.datasets.ChecksumError, match=f"expected {official}"):
        gn.datasets.load_mnist(mirrors=[url])
    assert list(clean_environment.iterdir()) == []


def test_sums_lacking_a_missing_file_are_refused_before_any_download(mirror, clean_environment):
    _, url, md5, requested = mirror
    del md5[TEST_LABELS]
    with pytest.raises(ValueError, match=f"no MD5 sum for {TEST_LABELS}"):
        gn.datasets.load_mnist(mirrors=[url], md5=md5)
    assert requested == [] and not clean_environment.exists()
