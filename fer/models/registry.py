"""Model registry: `create_model(name, num_classes=7, **config)` and `list_models()`.

Model modules register builders with `@register_model`. They are imported lazily (the first
time the registry is used) from `_MODEL_MODULES`, so `import fer` stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from fer.errors import ModelNotFoundError
from fer.models.base import FERModel

_MODEL_MODULES = ("fer.models.alfj", "fer.models.reference", "fer.models.synthfer")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: Callable[..., FERModel]
    description: str
    family: str  # "alfj" | "ablation" | "base" | "reference"


_REGISTRY: dict[str, ModelEntry] = {}
_loaded = False


def register_model(name: str, description: str = "", family: str = "alfj"):
    """Decorator: register `builder(num_classes=7, **config) -> FERModel` under `name`."""

    def wrap(builder: Callable[..., FERModel]) -> Callable[..., FERModel]:
        if name in _REGISTRY:
            raise ValueError(f"model name registered twice: {name}")
        _REGISTRY[name] = ModelEntry(name, builder, description or (builder.__doc__ or "").strip(), family)
        return builder

    return wrap


def _ensure_loaded() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _MODEL_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:  # a model family not written yet
            if exc.name != module:
                raise


def list_models(family: str | None = None) -> list[str]:
    _ensure_loaded()
    return sorted(n for n, e in _REGISTRY.items() if family is None or e.family == family)


def model_entry(name: str) -> ModelEntry:
    _ensure_loaded()
    if name not in _REGISTRY:
        raise ModelNotFoundError(f"unknown model {name!r}; registered models: {', '.join(list_models())}")
    return _REGISTRY[name]


def create_model(name: str, num_classes: int = 7, **config) -> FERModel:
    """Build a registered model. Extra keyword arguments are architecture options."""
    return model_entry(name).builder(num_classes=num_classes, **config)
