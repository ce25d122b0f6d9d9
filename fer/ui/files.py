"""Output images as files written atomically, for Gradio to serve.

Gradio saves a NumPy output under a name derived from its bytes and rewrites that file in place;
two concurrent requests with identical results (the same photo, twice) then race, and a client can
download the file while it is being rewritten (0 bytes; seen in `benchmarks/load.py`). Handing Gradio
a path instead makes it copy the file into its cache under a temporary name and rename it into place.
Files here are content-addressed too (identical images share one file) and written the same way;
files older than an hour are removed now and then.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from fer.atomic import atomic_write_bytes

MAX_AGE_S = 3600
_CLEAN_EVERY = 200
_dir = Path(tempfile.gettempdir()) / f"fer-ui-{os.getpid()}"
_lock = threading.Lock()
_count = 0


def image_file(image: np.ndarray, fmt: str = "webp", name: str = "") -> str:
    """Write an RGB uint8 image (WebP, quality 90, or PNG) and return its path.

    `name` (e.g. "face2-occluded", from `fer.face.numbering.face_file_tag`) starts the file name, so a
    downloaded picture says what it shows; the rest of the name is the content hash.
    """
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(
        buf, format=fmt.upper(), **({"quality": 90} if fmt == "webp" else {})
    )
    data = buf.getvalue()
    _dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()[:24]
    path = _dir / (f"{name}-{digest}.{fmt}" if name else f"{digest}.{fmt}")
    if not path.exists():
        atomic_write_bytes(path, data, durable=False)  # a cache: atomic for readers, no fsync
    _maybe_clean()
    return str(path)


def remove_at_exit() -> None:
    """Remove this process's output folder at normal exit and on SIGTERM (call from the main thread)."""
    import atexit
    import shutil
    import signal
    import sys

    atexit.register(shutil.rmtree, _dir, True)
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        shutil.rmtree(_dir, ignore_errors=True)
        if callable(previous):
            previous(signum, frame)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)


def _maybe_clean() -> None:
    global _count
    with _lock:
        _count += 1
        if _count % _CLEAN_EVERY:
            return
    cutoff = time.time() - MAX_AGE_S
    for old in _dir.glob("*"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
