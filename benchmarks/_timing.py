"""Helpers shared by the benchmark scripts: timing, torch's thread count, result rows and their printing,
the load average, and a running demo to measure."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path


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


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads) of one call of `fn`."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """torch's intra-op pool and NumPy's BLAS pool on max(1, n) threads inside the block (`fer.threads`),
    restored after it."""
    from fer.threads import threads

    with threads(max(1, n)):
        yield


def row(benchmark: str, metric: str, value: float, target: str = "reported") -> dict:
    """One result row, as every benchmark's `main()` returns them (and `run_all.py` tabulates them)."""
    return {"benchmark": benchmark, "metric": metric, "value": value, "target": target}


def print_rows(rows: list[dict], name_width: int, metric_width: int, value_format: str) -> None:
    """The rows of one benchmark run as a script, one line each."""
    for r in rows:
        print(f"{r['benchmark']:{name_width}s} {r['metric']:{metric_width}s} {r['value']:{value_format}}  (target {r['target']})")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` prints them (shared machine: print them with timings)."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


@contextlib.contextmanager
def demo_url(url: str | None = None, port: int | None = None) -> Iterator[str]:
    """`url` when given (a running demo), else the URL of `python app.py` started for the block
    (tests/app_server.py's `running_app`, on `port` or a free one)."""
    if url:
        yield url
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from app_server import running_app

    with running_app(port=port) as server:
        yield server.url
