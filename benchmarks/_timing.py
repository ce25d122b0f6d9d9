"""Timing helper shared by the benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable


def interleaved(fns: list[Callable[[], object]], repeats: int, reduce: Callable[[list[float]], float] = min) -> list[float]:
    """Time each function `repeats` times in interleaved rounds (A, B, A, B, ...) after one warm-up
    call each, so machine load affects all alike; `reduce` (min by default: the estimate least
    affected by other processes) turns each function's times into one figure."""
    for fn in fns:  # warm-up: weights loaded, allocator and oneDNN primitive caches filled
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t0)
    return [reduce(t) for t in times]
