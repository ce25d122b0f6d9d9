"""Atomic file writes: a reader sees the old file or the whole new one, never a part.

The data goes to a temporary file in the target's folder (same file system, so the rename is atomic),
which is flushed and fsync'ed, then `os.replace`d onto the target; the folder is fsync'ed too so the
rename survives a power cut. On any failure the temporary file is removed and the previous file is
left untouched.

* `atomic_write(path)` - a context manager yielding a binary file object (`torch.save(obj, f)`).
* `atomic_path(path)` - yields the temporary path, for writers that take a file name
  (`safetensors.torch.save_file`); the file is fsync'ed after the writer closes it.
* `atomic_write_bytes(path, data)` - the common case in one call.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o644  # mkstemp makes files private; written results are meant to be shared


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    try:  # not every platform or file system lets a folder be opened and synced
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, mode: int = FILE_MODE, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it replaces `path` (with `mode`).

    `durable=False` skips the fsyncs (still atomic for readers; for caches that may be lost on a crash).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:200]}.tmp-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        if durable:
            _fsync_file(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        if durable:
            _fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: int = FILE_MODE, durable: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file object whose content replaces `path` atomically when the block ends."""
    with atomic_path(path, mode, durable) as tmp, open(tmp, "wb") as f:
        yield f


def atomic_write_bytes(path: str | os.PathLike, data: bytes, mode: int = FILE_MODE, durable: bool = True) -> Path:
    """Write `data` to `path` atomically. Returns the path."""
    with atomic_write(path, mode, durable) as f:
        f.write(data)
    return Path(path)
