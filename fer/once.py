"""`load_once`: a loader whose result is made at most once per process and shared (the bundled networks).

    @load_once
    def get_mtcnn() -> MTCNN:
        return MTCNN().load_weights()

Thread-safe: concurrent first calls build it once; the others wait and get the same object. A loader that
raises keeps nothing, so the next call tries again.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def load_once(load: Callable[[], T]) -> Callable[[], T]:
    lock = threading.Lock()
    made: list[T] = []

    @functools.wraps(load)
    def get() -> T:
        if not made:
            with lock:
                if not made:
                    made.append(load())
        return made[0]

    return get
