"""The training config: typed, validated sections read from YAML plus `key.sub=value` overrides.

`load_config(path, overrides)` starts from the defaults below, merges the YAML file (built-in
names resolve to ``fer/configs/<name>.yaml``), applies the overrides (each value parsed as YAML)
and validates the result into a `TrainConfig`. A section given whole by an override
(``--set "train.optimizer={name: sgd, lr: 0.01}"``) replaces that section; the fields it omits
take their defaults. ``data.options``, ``model.arch`` and ``augment`` are free-form mappings
(passed to the data set, the model factory and `fer.data.transforms.Augment`).
`TrainConfig.to_dict()` is the plain form written to ``config.yaml`` and into ``last.pt``.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fer.errors import FERError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
FREE_FORM = ("options", "arch", "augment", "crop")  # mappings whose keys the config does not fix
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = ("constant", "cosine", "step", "multistep", "exponential")


@dataclass
class DataConfig:
    dataset: str = "synthfer"
    root: str | None = None
    protocol: str = "majority"
    source: str | None = None
    num_classes: int = 7
    train_split: str = "train"
    val_split: str = "val"
    options: dict = field(default_factory=dict)

    def validate(self) -> None:
        _check(self.num_classes >= 2, "data.num_classes", "at least 2")


@dataclass
class ModelConfig:
    name: str = "alfj_resnet18"
    input_size: int | None = 112
    arch: dict = field(default_factory=dict)
    backbone_weights: str | None = None
    crop: dict = field(default_factory=dict)  # a fer.models.base.CropSpec; empty: from the data (build.crop_spec)

    def validate(self) -> None:
        _check(self.input_size is None or self.input_size >= 16, "model.input_size", "null or at least 16")
        if self.crop:
            from fer.training.build import crop_spec

            crop_spec(TrainConfig(model=self))  # an unknown recipe or field fails now, not at the first save


@dataclass
class OptimizerConfig:
    name: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    nesterov: bool = False

    def validate(self) -> None:
        _check(self.name.lower() in OPTIMIZERS, "train.optimizer.name", f"one of {', '.join(OPTIMIZERS)}")
        _check(self.lr > 0, "train.optimizer.lr", "positive")
        _check(self.momentum >= 0 and self.weight_decay >= 0, "train.optimizer.momentum/weight_decay", ">= 0")


@dataclass
class SchedulerConfig:
    name: str = "cosine"
    warmup_epochs: float = 0.0
    step_size: int = 10
    gamma: float = 0.1
    milestones: list[int] = field(default_factory=list)

    def validate(self) -> None:
        _check(self.name.lower() in SCHEDULERS, "train.scheduler.name", f"one of {', '.join(SCHEDULERS)}")
        _check(self.warmup_epochs >= 0, "train.scheduler.warmup_epochs", ">= 0")
        _check(self.step_size >= 1 and self.gamma > 0, "train.scheduler.step_size/gamma", "positive")


@dataclass
class LossConfig:
    head_weights: list[float] | None = None  # null: weight 1 for every head
    fused_weight: float = 0.0
    label_smoothing: float = 0.0

    def validate(self) -> None:
        _check(self.fused_weight >= 0, "train.loss.fused_weight", ">= 0")
        _check(0 <= self.label_smoothing < 1, "train.loss.label_smoothing", "in [0, 1)")


@dataclass
class LoopConfig:
    """The ``train`` section: schedule length, batching, precision and stopping rules."""

    epochs: int = 10
    batch_size: int = 64
    workers: int = 0
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    amp: bool | str = "auto"  # auto: on CUDA
    channels_last: bool = True
    grad_clip: float | None = None
    save_every_steps: int = 0
    max_steps_per_epoch: int = 0
    eval_batch_size: int = 128
    stop_at_accuracy: float | None = None  # stop once the validation (fused) accuracy reaches this
    max_minutes: float | None = None  # stop after the first epoch that ends past this wall-clock budget
    threads: int | None = None  # torch CPU threads (None: torch's default)

    def validate(self) -> None:
        _check(self.epochs >= 1 and self.batch_size >= 1 and self.eval_batch_size >= 1,
               "train.epochs/batch_size/eval_batch_size", "at least 1")
        _check(min(self.workers, self.save_every_steps, self.max_steps_per_epoch) >= 0,
               "train.workers/save_every_steps/max_steps_per_epoch", ">= 0")
        _check(self.amp in ("auto", True, False), "train.amp", "auto, true or false")
        _check(self.grad_clip is None or self.grad_clip > 0, "train.grad_clip", "null or positive")
        _check(self.stop_at_accuracy is None or 0 <= self.stop_at_accuracy <= 1, "train.stop_at_accuracy",
               "null or in [0, 1]")
        _check(self.max_minutes is None or self.max_minutes > 0, "train.max_minutes", "null or positive")
        _check(self.threads is None or self.threads >= 1, "train.threads", "null or at least 1")


@dataclass
class TrainConfig:
    seed: int = 0
    output: str = "runs/train"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: LoopConfig = field(default_factory=LoopConfig)
    augment: dict = field(default_factory=dict)

    def validate(self) -> None:
        from fer.data.transforms import Augment

        for section in (self.data, self.model, self.train, self.train.optimizer, self.train.scheduler,
                        self.train.loss):
            section.validate()
        Augment.from_dict(self.augment)  # unknown augmentation options fail here, not in epoch 1

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """Validated config from its plain form; missing keys take the defaults, unknown ones are errors."""
        cfg = _build(cls, d, "")
        cfg.validate()
        return cfg

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """Defaults ← YAML file ← `key.sub=value` overrides (values parsed as YAML), validated."""
    cfg = TrainConfig().to_dict()
    if path is not None:
        cfg = _merge(cfg, _read_yaml(_resolve(path)))
    for item in overrides or []:
        _apply_override(cfg, item)
    return TrainConfig.from_dict(cfg)


def list_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


# ------------------------------------------------------------------------------ reading
def _resolve(path: str | os.PathLike) -> Path:
    p = Path(path)
    if p.is_file():
        return p
    cand = CONFIG_DIR / (p.name if p.suffix else f"{p.name}.yaml")
    if not cand.is_file():
        raise FERError(f"config not found: {path} (built-in configs: {', '.join(list_configs())})")
    return cand


def _read_yaml(p: Path) -> dict:
    try:
        user = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise FERError(f"{p}: not valid YAML: {exc}") from exc
    if not isinstance(user, dict):
        raise FERError(f"{p}: the config must be a mapping")
    return user


def _merge(base: dict, over: dict, path: str = "") -> dict:
    """`over` merged into `base` section by section; free-form mappings are replaced whole."""
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if k not in base:
            raise FERError(f"unknown config key {path + k!r}; known: {sorted(base)}")
        if isinstance(base[k], dict) and k not in FREE_FORM and isinstance(v, dict):
            out[k] = _merge(base[k], v, f"{path}{k}.")
        else:
            out[k] = copy.deepcopy(v)
    return out


def _apply_override(cfg: dict, item: str) -> None:
    if "=" not in item:
        raise FERError(f"override {item!r} must look like key.sub=value")
    key, value = item.split("=", 1)
    parts = key.split(".")
    node = cfg
    for part in parts[:-1]:
        if part not in node or not isinstance(node[part], dict):
            raise FERError(f"unknown config key {key!r}")
        node = node[part]
    free = parts[0] == "augment" or parts[-2:-1] in (["options"], ["arch"], ["crop"])
    if parts[-1] not in node and not free:
        raise FERError(f"unknown config key {key!r}")
    try:
        node[parts[-1]] = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise FERError(f"override {item!r}: the value is not valid YAML: {exc}") from exc


# ------------------------------------------------------------------------------ typing
def _build(cls: type, d: Any, path: str) -> Any:
    if not isinstance(d, dict):
        raise FERError(f"config key {path.rstrip('.') or 'the config'!r} must be a mapping, got {d!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise FERError(f"unknown config key {path + unknown[0]!r}; known: {sorted(names)}")
    kwargs = {k: _coerce(hints[k], v, path + k) for k, v in d.items()}
    return cls(**kwargs)


def _coerce(hint: Any, v: Any, key: str) -> Any:
    """`v` checked against the field type `hint` (numbers given as strings, e.g. ``1e-3``, are read)."""
    if dataclasses.is_dataclass(hint):
        return _build(hint, v, key + ".")
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        if v is None and type(None) in args:
            return None
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(option, v, key)
            except FERError:
                continue
        raise FERError(f"config key {key!r}: {v!r} is not {_describe(hint)}")
    if hint is bool:
        if isinstance(v, bool):
            return v
    elif hint is str:
        if isinstance(v, str):
            return v
    elif hint is int:
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        if isinstance(v, float) and v.is_integer():
            return int(v)
    elif hint is float:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v) if isinstance(v, int) else v
        if isinstance(v, str):
            try:
                return float(v)
            except ValueError:
                pass
    elif hint is dict or typing.get_origin(hint) is dict:
        if isinstance(v, dict):
            return copy.deepcopy(v)
        if v is None:
            return {}
    elif typing.get_origin(hint) is list:
        if isinstance(v, (list, tuple)):
            return [_coerce(args[0], x, f"{key}[{i}]") for i, x in enumerate(v)]
    raise FERError(f"config key {key!r}: {v!r} is not {_describe(hint)}")


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    names = {bool: "true/false", str: "a string", int: "an integer", float: "a number", type(None): "null",
             dict: "a mapping"}
    if typing.get_origin(hint) is list:
        return "a list"
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _check(ok: bool, key: str, expected: str) -> None:
    if not ok:
        raise FERError(f"config key {key!r} must be {expected}")
