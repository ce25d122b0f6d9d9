"""Training state: RNG seeding and capture, the ``last.pt`` file (written atomically, read back with
``weights_only=True``) and the checks that make a resume continue exactly where the run stopped.

Exact resume rests on three things: batch order from ``DistributedSampler(seed)`` + ``set_epoch``,
each sample's augmentation seeded from (seed, epoch, index), and the global RNGs re-seeded from
(seed, epoch, rank) at every epoch start, or restored from ``last.pt`` for a mid-epoch resume.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer.atomic import atomic_write
from fer.errors import CheckpointError
from fer.training.config import TrainConfig

# keys a resume may change: how long to run and how often to save, not what is trained
RESUME_FREE_KEYS = {("train", k) for k in ("epochs", "workers", "save_every_steps", "stop_at_accuracy",
                                            "max_minutes", "threads")} | {("output",)}
# temporary files left by a run killed while writing (fer.atomic names; .last.pt.tmp-* from older versions)
STALE_TEMP_GLOBS = (".last.pt.*.tmp", ".last.pt.tmp-*", ".model.safetensors.*.tmp")


class TrainingInterrupted(Exception):
    """Raised by `stop_after_steps` (tests and fault drills): the run stops as if killed."""


@dataclass
class Progress:
    """Where a run stands: the next (epoch, step) to run and the best validation result so far."""

    epoch: int = 0
    step_in_epoch: int = 0
    best_acc: float = -1.0
    best_epoch: int = -1


# ---------------------------------------------------------------------------------- RNG
def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def epoch_seed(seed: int, epoch: int, rank: int) -> int:
    return int(np.random.SeedSequence([seed, epoch, rank, 7]).generate_state(1)[0])


def rng_state() -> dict:
    """The global RNG states (torch, numpy, python, CUDA when present) as tensors."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    st = {
        "torch": torch.get_rng_state(),
        "numpy": torch.tensor([int(pos), int(has_gauss)] + [int(k) for k in keys], dtype=torch.int64),
        "python": torch.tensor([version, 0 if gauss is None else 1] + list(internal), dtype=torch.int64),
    }
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state()
    return st


def set_rng_state(st: dict) -> None:
    torch.set_rng_state(st["torch"])
    v = st["numpy"].tolist()
    np.random.set_state(("MT19937", np.array(v[2:], dtype=np.uint32), v[0], v[1], 0.0))
    p = st["python"].tolist()
    random.setstate((p[0], tuple(p[2:]), None))
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state(st["cuda"])


# ------------------------------------------------------------------------------ file IO
def atomic_torch_save(obj: Any, path: Path) -> None:
    """torch.save through `fer.atomic.atomic_write`: a kill or error while writing leaves the previous file."""
    with atomic_write(path) as f:
        torch.save(obj, f)


def load_training_state(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"training checkpoint not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, corrupt, or a pickle with objects: refused either way
        raise CheckpointError(f"{path} is not a readable training checkpoint (truncated or unsafe): {exc}") from exc


def remove_stale_temps(out: Path) -> None:
    for pattern in STALE_TEMP_GLOBS:
        for stale in out.glob(pattern):
            stale.unlink(missing_ok=True)


def save_training_state(path: Path, parts: dict, rng_per_rank: list, cfg: TrainConfig, progress: Progress,
                        partial_loss: tuple[float, int] = (0.0, 0)) -> None:
    """Write ``last.pt``: `parts` are the state dicts (model, optimizer, scheduler, scaler)."""
    atomic_torch_save({
        **parts,
        "rng_per_rank": rng_per_rank,
        "epoch": progress.epoch,
        "step_in_epoch": progress.step_in_epoch,
        "partial_loss": torch.tensor(partial_loss, dtype=torch.float64),  # this rank's running train loss
        "best_acc": progress.best_acc,
        "best_epoch": progress.best_epoch,
        "config_json": json.dumps(cfg.to_dict(), sort_keys=True),
    }, path)


# ------------------------------------------------------------------------------ resume
def resume_path(resume: bool | str | os.PathLike, out: Path) -> Path | None:
    """The file a resume reads (None: start fresh); an explicitly named file must exist."""
    explicit = isinstance(resume, (str, os.PathLike)) and not isinstance(resume, bool) and str(resume) != ""
    path = Path(resume) if explicit else out / "last.pt"
    if explicit and not path.is_file():
        raise CheckpointError(f"training checkpoint not found: {path}")
    return path if resume and path.is_file() else None


def read_resume_state(path: Path, cfg: TrainConfig) -> dict:
    """The saved state, refused when it is no training state or was made with another config."""
    state = load_training_state(path)
    if not isinstance(state, dict) or "config_json" not in state:
        raise CheckpointError(f"{path} is not an alfj-fer training checkpoint (no saved config)")
    try:
        saved = TrainConfig.from_dict(json.loads(state["config_json"])).to_dict()
    except Exception as exc:  # a config this version cannot read
        raise CheckpointError(f"{path}: its saved config is not readable: {exc}") from exc
    diffs = config_diff(saved, cfg.to_dict())
    if diffs:
        raise CheckpointError(f"cannot resume {path}: the config differs in {', '.join(diffs)}")
    return state


def restore(state: dict, path: Path, parts: dict[str, Any]) -> Progress:
    """Load the state dicts into `parts` (objects with ``load_state_dict``); the progress to continue from."""
    try:
        for name, obj in parts.items():
            if name != "scaler" or state.get("scaler"):
                obj.load_state_dict(state[name])
        return Progress(int(state["epoch"]), int(state["step_in_epoch"]), float(state["best_acc"]),
                        int(state["best_epoch"]))
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path} does not fit this run (another model or an incomplete state): {exc}") from exc


def config_diff(a: dict, b: dict, prefix: tuple = ()) -> list[str]:
    diffs = []
    for k in sorted(set(a) | set(b)):
        key = prefix + (k,)
        if key in RESUME_FREE_KEYS:
            continue
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            diffs += config_diff(va, vb, key)
        elif va != vb:
            diffs.append(".".join(key))
    return diffs


def trim_metrics(path: Path, done_epochs: int) -> None:
    """Drop log lines of epochs that a resume will run again (written before the kill)."""
    if path.is_file():
        keep = []
        for ln in path.read_text(errors="replace").splitlines():
            try:
                if json.loads(ln).get("epoch", 0) <= done_epochs:
                    keep.append(ln)
            except ValueError:  # a line cut short by the kill
                continue
        path.write_text("".join(ln + "\n" for ln in keep))
