"""The demo's memory of recent photos: a small thread-safe LRU keyed by a digest of the pixels.

One analysis click runs several events on the same photo (the analysis, then the locality panel;
a sweep or a sensitivity map after it), and each needs the photo's faces. `Recent` keeps the last
few results under `photo_key(photo, ...)`, a digest, so no photo is held in memory.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np


def photo_key(photo: np.ndarray, *rest) -> tuple:
    """A hashable key for `photo`'s pixels (blake2b digest and shape), followed by `rest`."""
    digest = hashlib.blake2b(np.ascontiguousarray(photo).data, digest_size=16).hexdigest()
    return (digest, photo.shape, *rest)


class Recent:
    """The last `size` values by key, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size, self.items, self.lock = int(size), OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
