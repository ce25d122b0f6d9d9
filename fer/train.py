"""Compatibility: the training API moved to `fer.training`; this module keeps the old names.

`load_config` here returns the config's plain dict (as it always did); `fer.training.load_config`
returns the typed `TrainConfig`. `train` accepts either.
"""

from __future__ import annotations

import os

from fer.training import (
    TrainConfig,
    TrainingInterrupted,
    atomic_torch_save,
    cleanup_distributed,
    list_configs,
    load_training_state,
    train,
)
from fer.training import load_config as _load_typed

__all__ = ["TrainConfig", "TrainingInterrupted", "atomic_torch_save", "cleanup_distributed", "list_configs",
           "load_config", "load_training_state", "train"]


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | None = None) -> dict:
    """`fer.training.load_config(...)` as a plain dict (validated)."""
    return _load_typed(path, overrides).to_dict()
