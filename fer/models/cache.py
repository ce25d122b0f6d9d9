"""The one place models are loaded and kept: a bounded, thread-safe LRU keyed by (source, device).

`get_model(source, device)` builds a registered model (`fer.models.create_model`) or loads a
checkpoint (`fer.models.checkpoint.load_checkpoint`) once and keeps at most `capacity` of them
(environment `FER_MODEL_CACHE`, default 3). Evicting drops the cache's only reference, so the
model's memory is released as soon as no caller still holds it: a `fer.Predictor` built from a
source does not hold its model (it asks this cache on each use), the demo's model picker keeps
Predictors, not models.

Building is serialised by one lock, so concurrent requests never build the same model twice.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

import torch

from fer.errors import InputError
from fer.models.base import FERModel

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 3


def resolve_device(device: str | torch.device) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"unknown device {device!r} (use 'cpu', 'cuda' or 'cuda:N')") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r} was asked for, but no CUDA GPU is available; use device='cpu'")
    return dev


def looks_like_path(source: str) -> bool:
    return source.endswith(".safetensors") or "/" in source or "\\" in source or Path(source).exists()


def build_model(source: str, device: torch.device) -> FERModel:
    """A new model for a registered name or a checkpoint path (safetensors only), in eval mode."""
    from fer.models import create_model
    from fer.models.checkpoint import load_checkpoint

    if looks_like_path(source):
        model = load_checkpoint(source)  # a file or a published folder; missing, a plain folder, ...: it says so
    else:
        model = create_model(source)
    return model.to(device).eval()


def _capacity_from_env() -> int:
    raw = os.environ.get("FER_MODEL_CACHE", "")
    try:
        return max(1, int(raw)) if raw.strip() else DEFAULT_CAPACITY
    except ValueError:
        log.warning("FER_MODEL_CACHE=%r is not a whole number; keeping %d models", raw, DEFAULT_CAPACITY)
        return DEFAULT_CAPACITY


class ModelCache:
    """At most `capacity` models, least recently used evicted first."""

    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = _capacity_from_env() if capacity is None else max(1, int(capacity))
        self._models: OrderedDict[tuple[str, str], FERModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, source: str, device: str | torch.device = "cpu") -> FERModel:
        dev = resolve_device(device)
        key = (str(source), str(dev))
        with self._lock:
            model = self._models.get(key)
            if model is not None:
                self._models.move_to_end(key)
                return model
            model = build_model(key[0], dev)
            self._models[key] = model
            while len(self._models) > self.capacity:
                (old_source, old_device), _ = self._models.popitem(last=False)
                log.info("model cache full (%d): released %s on %s", self.capacity, old_source, old_device)
            return model

    def keys(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._models)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


MODELS = ModelCache()


def get_model(source: str, device: str | torch.device = "cpu") -> FERModel:
    """The model for a registered name or checkpoint path, from the process-wide bounded cache."""
    return MODELS.get(source, device)


def clear_model_cache() -> None:
    MODELS.clear()
