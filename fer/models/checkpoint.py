"""The project's checkpoint format: one safetensors file that alone defines a predictor.

Its metadata holds `fer_config` (the `ModelConfig` JSON: registered name, architecture options, class
names in order, preprocessing, provenance) and `fer_format`; `load_checkpoint(path)` rebuilds the model
with `create_model` and loads the weights strictly. Writes are atomic (`fer.atomic`). Foreign
face-recognition weights (backbone initialisation) are read by `fer.models.pretrained`.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from fer.atomic import atomic_path
from fer.errors import CheckpointError, FERError
from fer.hub.folder import resolve_published
from fer.models.base import FERModel, ModelConfig
from fer.models.config_schema import config_from_json
from fer.models.finite import check_finite_weights

FORMAT = "alfj-fer/1"
_CONFIG_KEY = "fer_config"
_FORMAT_KEY = "fer_format"
_MAX_HEADER = 100 * 1024 * 1024


# ----------------------------------------------------------------------------- project checkpoints


def save_checkpoint(model: FERModel, path: str | os.PathLike, extra_metadata: dict[str, Any] | None = None) -> Path:
    """Write `model`'s weights and config to a safetensors file, atomically. Returns the path.

    `extra_metadata` values are stored as strings (non-strings as JSON), e.g. training metrics.
    """
    path = Path(path)
    config = getattr(model, "config", None)
    if not isinstance(config, ModelConfig):
        raise CheckpointError("only models with a ModelConfig (created by fer.models.create_model) can be saved")
    metadata = {_FORMAT_KEY: FORMAT, _CONFIG_KEY: config.to_json()}
    for key, value in (extra_metadata or {}).items():
        if key in metadata:
            raise CheckpointError(f"metadata key {key!r} is reserved")
        metadata[str(key)] = value if isinstance(value, str) else json.dumps(value)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return path


def check_file(path: Path) -> None:
    """A plain message for a path that cannot be a checkpoint file (missing, a folder, a name too long)."""
    try:
        exists, is_dir, is_file = path.exists(), path.is_dir(), path.is_file()
    except OSError as exc:  # e.g. "File name too long"
        raise CheckpointError(f"cannot use the checkpoint path {str(path)[:80]}...: {exc.strerror or exc}") from None
    if not exists:
        raise CheckpointError(f"checkpoint not found: {path}")
    if is_dir:
        inside = sorted(p.name for p in path.glob("*.safetensors"))[:3]
        hint = f"; it holds {', '.join(inside)}: pass one of them" if inside else " and holds no .safetensors file"
        raise CheckpointError(f"{path} is a directory, not a checkpoint file{hint}")
    if not is_file:
        raise CheckpointError(f"checkpoint path is not a regular file: {path}")


def _looks_like_pickle(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(2)
    return zipfile.is_zipfile(path) or head[:1] == b"\x80"


def _read_header(path: Path) -> dict[str, str]:
    """The safetensors metadata of `path`, with errors explained."""
    check_file(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            raw = f.read(8)
    except OSError as exc:  # no permission, a device, ...
        raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from None
    n = struct.unpack("<Q", raw)[0] if len(raw) == 8 else None
    if n is None or n > min(size - 8, _MAX_HEADER):
        if _looks_like_pickle(path):
            raise CheckpointError(
                f"{path} is a PyTorch/pickle file, not an alfj-fer safetensors checkpoint; "
                "to initialise a backbone from it use fer.models.load_backbone_weights"
            )
        if n is not None and n <= _MAX_HEADER and size > 8:
            raise CheckpointError(f"{path} is truncated or not a safetensors file (header needs {n} bytes)")
        raise CheckpointError(f"{path} is not a safetensors checkpoint")
    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except Exception as exc:  # safetensors raises its own error type for every malformed file
        raise CheckpointError(f"{path} is truncated or not a valid safetensors file: {exc}") from exc


def read_checkpoint_config(path: str | os.PathLike) -> ModelConfig:
    """The ModelConfig stored in a checkpoint (or a published folder's), read from its header only (cheap)."""
    path = resolve_published(path).checkpoint
    meta = _read_header(path)
    if meta.get(_FORMAT_KEY, "").split("/")[0] != FORMAT.split("/")[0] or _CONFIG_KEY not in meta:
        raise CheckpointError(
            f"{path} is a safetensors file without an alfj-fer model config (written by another program?)"
        )
    try:
        return config_from_json(meta[_CONFIG_KEY])
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None


def read_checkpoint_metadata(path: str | os.PathLike) -> dict[str, str]:
    """All metadata strings of a checkpoint (config, format, and any extra metadata saved with it)."""
    return _read_header(resolve_published(path).checkpoint)


def load_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device = "cpu", expected_name: str | None = None
) -> FERModel:
    """Rebuild the model a checkpoint describes and load its weights (strictly). Returns it in eval mode."""
    from fer.models.registry import create_model

    path = resolve_published(path).checkpoint
    config = read_checkpoint_config(path)
    if expected_name is not None and config.name != expected_name:
        raise CheckpointError(f"{path} holds a {config.name!r} model, expected {expected_name!r}")
    try:
        model = create_model(config.name, num_classes=config.num_classes, **config.arch)
    except FERError as exc:
        raise CheckpointError(f"{path}: cannot rebuild model {config.name!r}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: the stored options do not fit model {config.name!r}: {exc}") from exc
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:
        raise CheckpointError(f"{path} is truncated or unreadable: {exc}") from exc
    check_finite_weights(tensors, path)
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    mismatched = sorted(k for k in set(own) & set(tensors) if own[k].shape != tensors[k].shape)
    if missing or unexpected or mismatched:
        raise CheckpointError(
            f"{path} does not match the architecture of {config.name!r}: "
            f"{len(missing)} missing tensors {missing[:3]}, {len(unexpected)} unexpected {unexpected[:3]}, "
            f"{len(mismatched)} with other shapes {mismatched[:3]}"
        )
    model.load_state_dict(tensors, strict=True)
    model.config = config
    return model.to(map_location).eval()
