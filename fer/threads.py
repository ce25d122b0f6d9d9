"""How many threads the maths runs on: torch's intra-op pool and NumPy's BLAS (OpenBLAS) pool, set together.

    from fer.threads import set_threads, threads
    set_threads(1)             # the whole process (the demo does this at start-up, see `app.py --threads`)
    with threads(2):           # a block (benchmarks), restored afterwards
        ...

Why one thread by default in the demo: the per-frame networks are small (face-api's nets take about 4 ms
on one thread), and a second thread costs more than it gives. On the 2-core machine the project is
developed on, the face-api landmark net took 4.1 ms median with one thread and 38 ms with two; NumPy's
resampling for the same net (OpenBLAS, two threads by default) took 16 ms instead of 0.3 ms. Idle
threads spin while they wait for work, so on a machine shared with other processes two pools of two
threads each fight for the same two cores. Requests run side by side instead (the demo's queue
computes `--concurrency` requests at once).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from fer.errors import InputError

BLAS_ENV = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_BLAS_LIMIT: list = []  # the threadpoolctl limiter in force, kept so that it stays applied


def _check(n) -> int:
    message = f"threads must be a whole number >= 1, not {n!r}."
    if isinstance(n, bool):
        raise InputError(message)
    try:
        count, value = int(n), float(n)
    except (TypeError, ValueError):
        raise InputError(message) from None
    if count < 1 or value != count:
        raise InputError(message)
    return count


def get_threads() -> int:
    """torch's intra-op thread count (the BLAS pool is set alongside it by `set_threads`)."""
    import torch

    return torch.get_num_threads()


def blas_threads() -> int | None:
    """The BLAS pools' thread count (the largest, if several), or None when threadpoolctl is absent."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [int(p["num_threads"]) for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(counts) if counts else None


def set_threads(n: int) -> int:
    """Run torch's intra-op pool and the BLAS libraries loaded so far on `n` threads; returns n."""
    import torch

    count = _check(n)
    torch.set_num_threads(count)
    _set_blas(count)
    return count


@contextlib.contextmanager
def threads(n: int) -> Iterator[int]:
    """`set_threads(n)` inside the block; torch's and BLAS's previous counts restored after it."""
    before_torch, before_blas = get_threads(), blas_threads()
    try:
        yield set_threads(n)
    finally:
        import torch

        torch.set_num_threads(before_torch)
        if before_blas is not None:
            _set_blas(before_blas)


def _set_blas(count: int) -> None:
    for name in BLAS_ENV:  # for the BLAS libraries loaded later (SciPy's own OpenBLAS comes with scikit-image)
        os.environ[name] = str(count)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional speed-up: without it only torch's pool is set
        return
    _BLAS_LIMIT[:] = [threadpool_limits(limits=count, user_api="blas")]
