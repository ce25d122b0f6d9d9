"""fer.threads: torch's pool and NumPy's BLAS pool set together, restored by the context manager."""

from __future__ import annotations

import pytest

from fer.errors import InputError
from fer.threads import blas_threads, get_threads, set_threads, threads


def test_threads_sets_both_pools_and_restores_them():
    before_torch, before_blas = get_threads(), blas_threads()
    other = 2 if before_torch == 1 else 1
    with threads(other) as n:
        assert n == other == get_threads()
        if before_blas is not None:  # threadpoolctl present: NumPy's OpenBLAS follows
            assert blas_threads() == other
    assert get_threads() == before_torch
    assert blas_threads() == before_blas


def test_set_threads_returns_the_count():
    before = get_threads()
    try:
        assert set_threads(1) == 1 == get_threads()
    finally:
        set_threads(before)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "two", None, True])
def test_bad_thread_counts_are_plain_errors(bad):
    before = get_threads()
    with pytest.raises(InputError, match="whole number >= 1"):
        set_threads(bad)
    assert get_threads() == before
