"""fer.once.load_once: one build per process, shared, thread-safe; a failed build is retried."""

import threading
import time

import pytest

from fer.once import load_once


def test_concurrent_first_calls_build_once_and_share():
    built = []

    @load_once
    def get():
        time.sleep(0.05)  # a slow load: the other threads arrive while it runs
        built.append(object())
        return built[-1]

    results = []
    threads = [threading.Thread(target=lambda: results.append(get())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1
    assert len(results) == 8 and all(r is built[0] for r in results)
    assert get() is built[0] and get.__name__ == "get"


def test_failed_load_keeps_nothing_and_is_retried():
    calls = []

    @load_once
    def get():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("weights missing")
        return "net"

    with pytest.raises(OSError, match="weights missing"):
        get()
    assert get() == "net" and get() == "net"
    assert len(calls) == 2


def test_bundled_networks_are_shared():
    from fer.face.faceapi_landmarks import get_net
    from fer.face.mtcnn import get_mtcnn

    assert get_mtcnn() is get_mtcnn()
    assert get_net() is get_net()
