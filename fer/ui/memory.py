"""Give freed heap memory back to the operating system after each request (glibc only).

A server thread pool spreads requests over many threads; glibc gives each thread its own malloc
arena, and the image and tensor buffers freed after a request stay mapped in those arenas. The
resident size then creeps up for a few hundred requests although nothing leaks (measured: +100 MB
with 8 concurrent clients, all of it returned by one `malloc_trim`). Trimming after every request
costs about a millisecond and keeps the server's memory flat.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

_lock = threading.Lock()


def _load_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        return None


_trim = _load_trim()


def release_memory() -> None:
    """`malloc_trim(0)` (skipped when another request is trimming right now)."""
    if _trim is None or not _lock.acquire(blocking=False):
        return
    try:
        _trim(0)
    finally:
        _lock.release()
