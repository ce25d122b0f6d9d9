"""The pieces a run is made of, from its config: data sets, model, optimizer, learning-rate schedule."""

from __future__ import annotations

import math

import torch

from fer.errors import DatasetError, FERError
from fer.training.config import TrainConfig


def build_data(cfg: TrainConfig):
    """The training and validation sets; empty or incomplete ones fail now, not hours into the run."""
    from fer.data.registry import crop_options, open_dataset

    d = cfg.data
    common = dict(root=d.root, protocol=d.protocol, source=d.source, num_classes=d.num_classes, **d.options)
    common.update(crop_options(d.source, crop_spec(cfg), cfg.model.input_size))  # photos: the recipe trained with
    train = open_dataset(d.dataset, split=d.train_split, **common)
    val = open_dataset(d.dataset, split=d.val_split, **common)
    if len(train) == 0:
        raise DatasetError(f"the training split {d.train_split!r} of {train.name} is empty")
    for ds in (train, val):
        if ds.missing_images:
            raise DatasetError(f"{len(ds.missing_images)} image file(s) of {ds.name} {ds.split} are missing, e.g. "
                               f"{ds.missing_images[0]}")
    return train, val


def crop_spec(cfg: TrainConfig):
    """The crop recipe this run's faces are cut with (photo sources) and its checkpoint records:
    `model.crop` when given; else `rafdb` for RAF-DB's aligned images; else `similarity5`."""
    from fer.errors import CheckpointError
    from fer.models.base import CropSpec

    if cfg.model.crop:
        try:
            return CropSpec.from_dict(cfg.model.crop)
        except CheckpointError as exc:
            raise FERError(f"config key 'model.crop': {exc}") from None
    aligned_rafdb = cfg.data.dataset.lower().replace("-", "").replace("_", "") == "rafdb" and cfg.data.source in (
        None, "aligned")
    return CropSpec("rafdb") if aligned_rafdb else CropSpec()


def build_model(cfg: TrainConfig):
    from fer.models import create_model

    m = cfg.model
    kw = dict(m.arch)
    if m.input_size:
        kw["input_size"] = int(m.input_size)
    if m.backbone_weights:
        kw["backbone_weights"] = m.backbone_weights
    try:
        model = create_model(m.name, num_classes=cfg.data.num_classes, **kw)
    except (TypeError, ValueError) as exc:  # unknown or invalid architecture options
        raise FERError(f"model {m.name!r}: {exc}") from exc
    model.config.crop = crop_spec(cfg)  # recorded in every checkpoint of the run
    return model


def build_optimizer(cfg: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    """Weight decay on weights only (not on biases and norm parameters)."""
    o = cfg.train.optimizer
    decay, no_decay = [], []
    for _, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [{"params": decay, "weight_decay": o.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    name = o.name.lower()
    if name == "sgd":
        return torch.optim.SGD(groups, lr=o.lr, momentum=o.momentum, nesterov=o.nesterov)
    if name == "adam":
        return torch.optim.Adam(groups, lr=o.lr)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=o.lr)
    raise FERError(f"unknown optimizer {o.name!r} (sgd, adam, adamw)")


def lr_factor(cfg: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """Learning-rate multiplier at global step `step` (warmup, then the schedule, per step)."""
    s = cfg.train.scheduler
    e = step / max(1, steps_per_epoch)  # fractional epoch
    warm = s.warmup_epochs
    if warm and e < warm:
        return (e + 1.0 / max(1, steps_per_epoch)) / warm
    name = s.name.lower()
    if name == "constant":
        return 1.0
    if name == "cosine":
        t = (e - warm) / max(1e-9, cfg.train.epochs - warm)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
    if name == "step":
        return s.gamma ** int(e // s.step_size)
    if name == "multistep":
        return s.gamma ** sum(int(e) >= m for m in s.milestones)
    if name == "exponential":
        return s.gamma ** int(e)
    raise FERError(f"unknown scheduler {s.name!r} (constant, cosine, step, multistep, exponential)")


def build_scheduler(cfg: TrainConfig, optimizer: torch.optim.Optimizer, steps_per_epoch: int):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(cfg, step, steps_per_epoch))
