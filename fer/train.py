"""Training: YAML config → model trained with the joint loss, resumable exactly, DDP-ready.

Output folder (``output`` in the config, or ``--out``):

* ``last.pt``         full training state after every epoch (and every ``save_every_steps``):
                      model, optimizer, scheduler, AMP scaler, RNG states, epoch/step, best
                      accuracy, config. Plain tensors and containers only: read back with
                      ``torch.load(weights_only=True)``. Written atomically (temp file, fsync,
                      ``os.replace``): a kill while writing leaves the previous file intact.
* ``model.safetensors`` the best model so far by validation (fused) accuracy, one file usable
                      by the demo (``fer.models.save_checkpoint``; provenance names the data).
* ``metrics.jsonl``   one JSON line per epoch (train loss, val accuracies, lr, time).
* ``config.yaml``     the resolved config.

Exact resume: batch order comes from ``DistributedSampler(seed)`` + ``set_epoch``, each
sample's augmentation from a seed derived from (seed, epoch, index), and the global RNGs are
re-seeded from (seed, epoch, rank) at every epoch start (and restored from the checkpoint for
a mid-epoch resume). A run killed anywhere and resumed ends with the same weights as one that
never stopped (on CPU; CUDA kernels may not be bitwise deterministic).
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import yaml

from fer.atomic import atomic_write
from fer.errors import CheckpointError, DatasetError, FERError

DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "output": "runs/train",
    "data": {
        "dataset": "synthfer",
        "root": None,
        "protocol": "majority",
        "source": None,
        "num_classes": 7,
        "train_split": "train",
        "val_split": "val",
        "options": {},
    },
    "model": {"name": "alfj_resnet18", "input_size": 112, "arch": {}, "backbone_weights": None},
    "train": {
        "epochs": 10,
        "batch_size": 64,
        "workers": 0,
        "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 1e-4, "nesterov": False},
        "scheduler": {"name": "cosine", "warmup_epochs": 0, "step_size": 10, "gamma": 0.1, "milestones": []},
        "loss": {"head_weights": None, "fused_weight": 0.0, "label_smoothing": 0.0},
        "amp": "auto",
        "channels_last": True,
        "grad_clip": None,
        "save_every_steps": 0,
        "max_steps_per_epoch": 0,
        "eval_batch_size": 128,
        "stop_at_accuracy": None,  # stop once the validation (fused) accuracy reaches this
        "max_minutes": None,  # stop after the first epoch that ends past this wall-clock budget
        "threads": None,  # torch CPU threads (None: torch's default)
    },
    "augment": {},
}

_RESUME_FREE_KEYS = {("train", k) for k in ("epochs", "workers", "save_every_steps", "stop_at_accuracy", "max_minutes", "threads")} | {("output",)}


class TrainingInterrupted(Exception):
    """Raised by `stop_after_steps` (tests and fault drills): the run stops as if killed."""


# ------------------------------------------------------------------------------------ config
def _merge(base: dict, over: dict, path: str = "") -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if k not in base:
            raise FERError(f"unknown config key {path + k!r}; known: {sorted(base)}")
        if isinstance(base[k], dict) and k not in ("options", "arch") and base[k] and isinstance(v, dict):
            out[k] = _merge(base[k], v, f"{path}{k}.")
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | None = None) -> dict:
    """Defaults ← YAML file ← `key.sub=value` overrides (values parsed as YAML)."""
    cfg = copy.deepcopy(DEFAULTS)
    if path is not None:
        p = Path(path)
        if not p.is_file():
            cand = Path(__file__).parent / "configs" / (p.name if p.suffix else f"{p.name}.yaml")
            if not cand.is_file():
                raise FERError(f"config not found: {path} (built-in configs: {', '.join(list_configs())})")
            p = cand
        try:
            user = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as exc:
            raise FERError(f"{p}: not valid YAML: {exc}") from exc
        if not isinstance(user, dict):
            raise FERError(f"{p}: the config must be a mapping")
        cfg = _merge(cfg, user)
    for item in overrides or []:
        if "=" not in item:
            raise FERError(f"override {item!r} must look like key.sub=value")
        key, value = item.split("=", 1)
        node = cfg
        parts = key.split(".")
        for part in parts[:-1]:
            if part not in node or not isinstance(node[part], dict):
                raise FERError(f"unknown config key {key!r}")
            node = node[part]
        if parts[-1] not in node and parts[-2:-1] not in (["options"], ["arch"], ["augment"]) and parts[0] != "augment":
            raise FERError(f"unknown config key {key!r}")
        node[parts[-1]] = yaml.safe_load(value)
    return cfg


def list_configs() -> list[str]:
    return sorted(p.stem for p in (Path(__file__).parent / "configs").glob("*.yaml"))


# ------------------------------------------------------------------------------ distributed
def _dist_env() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return rank, world, local


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _epoch_seed(seed: int, epoch: int, rank: int) -> int:
    return int(np.random.SeedSequence([seed, epoch, rank, 7]).generate_state(1)[0])


def _rng_state() -> dict:
    st = {
        "torch": torch.get_rng_state(),
        "numpy": _np_state_to_tensor(),
        "python": torch.tensor(list(_py_state_ints()), dtype=torch.int64),
    }
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state()
    return st


def _np_state_to_tensor() -> torch.Tensor:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return torch.tensor([int(pos), int(has_gauss)] + [int(k) for k in keys], dtype=torch.int64)


def _py_state_ints():
    version, internal, gauss = random.getstate()
    return [version, 0 if gauss is None else 1] + list(internal)


def _set_rng_state(st: dict) -> None:
    torch.set_rng_state(st["torch"])
    v = st["numpy"].tolist()
    np.random.set_state(("MT19937", np.array(v[2:], dtype=np.uint32), v[0], v[1], 0.0))
    p = st["python"].tolist()
    random.setstate((p[0], tuple(p[2:]), None))
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state(st["cuda"])


# ------------------------------------------------------------------------------------ pieces
def build_data(cfg: dict):
    from fer.data.registry import open_dataset

    d = cfg["data"]
    opts = dict(d.get("options") or {})
    common = dict(root=d.get("root"), protocol=d.get("protocol"), source=d.get("source"), num_classes=d["num_classes"], **opts)
    train = open_dataset(d["dataset"], split=d["train_split"], **common)
    val = open_dataset(d["dataset"], split=d["val_split"], **common)
    if len(train) == 0:
        raise DatasetError(f"the training split {d['train_split']!r} of {train.name} is empty")
    for ds in (train, val):  # fail now, not hours into the run
        if ds.missing_images:
            raise DatasetError(f"{len(ds.missing_images)} image file(s) of {ds.name} {ds.split} are missing, e.g. "
                               f"{ds.missing_images[0]}")
    return train, val


def build_model(cfg: dict):
    from fer.models import create_model

    m = cfg["model"]
    kw = dict(m.get("arch") or {})
    if m.get("input_size"):
        kw["input_size"] = int(m["input_size"])
    if m.get("backbone_weights"):
        kw["backbone_weights"] = m["backbone_weights"]
    try:
        return create_model(m["name"], num_classes=int(cfg["data"]["num_classes"]), **kw)
    except (TypeError, ValueError) as exc:  # unknown or invalid architecture options
        raise FERError(f"model {m['name']!r}: {exc}") from exc


def build_optimizer(cfg: dict, model: torch.nn.Module) -> torch.optim.Optimizer:
    o = cfg["train"]["optimizer"]
    decay, no_decay = [], []
    for _, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    wd = float(o.get("weight_decay", 0.0))
    groups = [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]
    name = o["name"].lower()
    lr = float(o["lr"])
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=float(o.get("momentum", 0.9)), nesterov=bool(o.get("nesterov", False)))
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    raise FERError(f"unknown optimizer {o['name']!r} (sgd, adam, adamw)")


def lr_factor(cfg: dict, step: int, steps_per_epoch: int) -> float:
    """Learning-rate multiplier at global step `step` (warmup, then the schedule, per step)."""
    s = cfg["train"]["scheduler"]
    epochs = int(cfg["train"]["epochs"])
    e = step / max(1, steps_per_epoch)  # fractional epoch
    warm = float(s.get("warmup_epochs", 0) or 0)
    if warm and e < warm:
        return (e + 1.0 / max(1, steps_per_epoch)) / warm
    name = s["name"].lower()
    if name == "constant":
        return 1.0
    if name == "cosine":
        t = (e - warm) / max(1e-9, epochs - warm)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
    if name == "step":
        return float(s.get("gamma", 0.1)) ** int(e // int(s.get("step_size", 10)))
    if name == "multistep":
        return float(s.get("gamma", 0.1)) ** sum(int(e) >= int(m) for m in s.get("milestones", []))
    if name == "exponential":
        return float(s.get("gamma", 0.9)) ** int(e)
    raise FERError(f"unknown scheduler {s['name']!r} (constant, cosine, step, multistep, exponential)")


# ------------------------------------------------------------------------------ checkpoint IO
def atomic_torch_save(obj: Any, path: Path) -> None:
    """torch.save to a temporary file in the same folder, fsync, then os.replace (fer.atomic)."""
    with atomic_write(path) as f:
        torch.save(obj, f)


def load_training_state(path: Path) -> dict:
    if not path.is_file():
        raise CheckpointError(f"training checkpoint not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, corrupt, or a pickle with objects: refused either way
        raise CheckpointError(f"{path} is not a readable training checkpoint (truncated or unsafe): {exc}") from exc


def _config_diff(a: dict, b: dict, prefix: tuple = ()) -> list[str]:
    diffs = []
    for k in sorted(set(a) | set(b)):
        key = prefix + (k,)
        if key in _RESUME_FREE_KEYS:
            continue
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            diffs += _config_diff(va, vb, key)
        elif va != vb:
            diffs.append(".".join(key))
    return diffs


def _trim_metrics(path: Path, done_epochs: int) -> None:
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


def provenance(cfg: dict, train_name: str, epochs_done: int, val_acc: float) -> str:
    return (
        f"trained with alfj-fer on {train_name} ({cfg['data']['train_split']} split, "
        f"{cfg['data']['num_classes']} classes); {epochs_done} epochs; best val fused accuracy {val_acc:.4f}"
    )


# ---------------------------------------------------------------------------------- training
def train(cfg: dict, out_dir: str | os.PathLike | None = None, resume: bool | str = False, device: str | None = None,
          progress: bool = True, stop_after_steps: int | None = None, log=print) -> dict:
    """Run (or resume) training. Returns a summary dict (best accuracy, paths, epochs)."""
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch.utils.data import DataLoader
    from torch.utils.data.distributed import DistributedSampler

    from fer.data.base import AugmentSeedSampler, TorchImages
    from fer.data.transforms import Augment
    from fer.evaluate import metrics, predict
    from fer.models.checkpoint import save_checkpoint
    from fer.models.loss import joint_loss

    out = Path(out_dir or cfg["output"])
    rank, world, local_rank = _dist_env()
    distributed = world > 1
    if device is None:
        device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if distributed and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    is_main = rank == 0
    tc = cfg["train"]
    seed = int(cfg["seed"])
    if tc.get("threads"):
        torch.set_num_threads(int(tc["threads"]))
    t_start = time.time()
    amp = dev.type == "cuda" and tc["amp"] in ("auto", True)

    # read the state to resume from first: a bad file fails before any data is loaded
    last = out / "last.pt"
    explicit = isinstance(resume, (str, os.PathLike)) and not isinstance(resume, bool) and str(resume) != ""
    resume_path = Path(resume) if explicit else last
    state = None
    if explicit and not resume_path.is_file():
        raise CheckpointError(f"training checkpoint not found: {resume_path}")
    if resume and resume_path.is_file():
        state = load_training_state(resume_path)
        if not isinstance(state, dict) or "config_json" not in state:
            raise CheckpointError(f"{resume_path} is not an alfj-fer training checkpoint (no saved config)")
        diffs = _config_diff(json.loads(state["config_json"]), cfg)
        if diffs:
            raise CheckpointError(f"cannot resume {resume_path}: the config differs in {', '.join(diffs)}")

    train_set, val_set = build_data(cfg)
    _seed_all(seed)  # identical initial weights on every rank
    model = build_model(cfg)
    aug = Augment.from_dict(cfg.get("augment"))
    pre = model.config.preprocess
    memfmt = torch.channels_last if tc["channels_last"] else torch.contiguous_format
    model = model.to(dev, memory_format=memfmt)
    optimizer = build_optimizer(cfg, model)
    base_sampler = DistributedSampler(TorchImages(train_set, pre, aug), num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=True)
    sampler = AugmentSeedSampler(base_sampler, seed)
    bs = int(tc["batch_size"])
    steps_per_epoch = len(base_sampler) // bs
    if tc.get("max_steps_per_epoch"):
        steps_per_epoch = min(steps_per_epoch, int(tc["max_steps_per_epoch"]))
    if steps_per_epoch < 1:
        raise DatasetError(f"the training split has {len(train_set)} images: fewer than one batch of {bs} per process")
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(cfg, step, steps_per_epoch))
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    loss_cfg = tc["loss"]

    start_epoch, start_step, best_acc, best_epoch = 0, 0, -1.0, -1
    restored_rng = None
    resumed_loss = None
    if state is not None:
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            if amp and state.get("scaler"):
                scaler.load_state_dict(state["scaler"])
            start_epoch, start_step = int(state["epoch"]), int(state["step_in_epoch"])
            best_acc, best_epoch = float(state["best_acc"]), int(state["best_epoch"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CheckpointError(f"{resume_path} does not fit this run (another model or an incomplete state): {exc}") from exc
        if "partial_loss" in state and world == 1:
            resumed_loss = (float(state["partial_loss"][0]), int(state["partial_loss"][1]))
        rngs = state.get("rng_per_rank") or []
        if start_step and len(rngs) == world:
            restored_rng = rngs[rank]
        if is_main:
            log(f"resumed from {resume_path}: epoch {start_epoch}, step {start_step}, best val acc {best_acc:.4f}")
            _trim_metrics(out / "metrics.jsonl", start_epoch)
    elif resume and is_main:
        log(f"no checkpoint at {resume_path}: starting from scratch")

    ddp_model = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None) if distributed else model
    if is_main:
        out.mkdir(parents=True, exist_ok=True)
        for stale in list(out.glob(".last.pt.tmp-*")) + list(out.glob(".model.safetensors.*.tmp")):
            stale.unlink(missing_ok=True)  # left by a run killed while writing a checkpoint
        (out / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        log(f"training {cfg['model']['name']} on {train_set.name} ({len(train_set)} train / {len(val_set)} val images, "
            f"{world} process(es), device {dev}, amp {amp}) -> {out}")

    def save_state(epoch: int, step_in_epoch: int, partial_loss: tuple[float, int] = (0.0, 0)) -> None:
        rng = _rng_state()
        if distributed:
            gathered: list = [None] * world
            dist.all_gather_object(gathered, rng)
        else:
            gathered = [rng]
        if is_main:
            atomic_torch_save({
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict() if amp else {},
                "rng_per_rank": gathered,
                "epoch": epoch,
                "step_in_epoch": step_in_epoch,
                "partial_loss": torch.tensor(partial_loss, dtype=torch.float64),  # this rank's running train loss
                "best_acc": best_acc,
                "best_epoch": best_epoch,
                "config_json": json.dumps(cfg, sort_keys=True),
            }, last)

    steps_done = 0
    epochs = int(tc["epochs"])
    summary: dict[str, Any] = {}
    for epoch in range(start_epoch, epochs):
        t0 = time.time()
        sampler.set_epoch(epoch)
        first = start_step if epoch == start_epoch else 0
        sampler.skip = first * bs
        loader = DataLoader(TorchImages(train_set, pre, aug), batch_size=bs, sampler=sampler, num_workers=int(tc["workers"]),
                            drop_last=True, pin_memory=dev.type == "cuda")
        it = iter(loader)  # before (re)seeding: creating the iterator draws from the global RNG
        if restored_rng is not None and epoch == start_epoch:
            _set_rng_state(restored_rng)
        else:
            _seed_all(_epoch_seed(seed, epoch, rank))
        ddp_model.train()
        run_loss, run_n = 0.0, 0
        if epoch == start_epoch and first and resumed_loss is not None:
            run_loss, run_n = resumed_loss
        bar = None
        if progress and is_main:
            from tqdm import tqdm

            bar = tqdm(total=steps_per_epoch, initial=first, desc=f"epoch {epoch + 1}/{epochs}", leave=False, file=sys.stderr)
        for step in range(first, steps_per_epoch):
            x, y = next(it)
            x = x.to(dev, non_blocking=True, memory_format=memfmt)
            y = y.to(dev, non_blocking=True)
            with torch.autocast(dev.type, dtype=torch.float16, enabled=amp):
                output = ddp_model(x)
                loss = joint_loss(output, y, loss_cfg.get("head_weights"), float(loss_cfg.get("fused_weight") or 0.0),
                                  float(loss_cfg.get("label_smoothing") or 0.0))
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if tc.get("grad_clip"):
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), float(tc["grad_clip"]))
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            run_loss += float(loss.detach()) * x.shape[0]
            run_n += x.shape[0]
            steps_done += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{run_loss / run_n:.4f}")
            if tc.get("save_every_steps") and (step + 1) % int(tc["save_every_steps"]) == 0 and step + 1 < steps_per_epoch:
                save_state(epoch, step + 1, (run_loss, run_n))
            if stop_after_steps is not None and steps_done >= stop_after_steps:
                if bar is not None:
                    bar.close()
                raise TrainingInterrupted(f"stopped after {steps_done} steps (epoch {epoch}, step {step + 1})")
        if bar is not None:
            bar.close()
        del it, loader
        train_loss = torch.tensor([run_loss, run_n], dtype=torch.float64)
        if distributed:
            dist.all_reduce(train_loss)
        # validation on the main process, on the unwrapped model
        record: dict[str, Any] = {}
        if is_main:
            logits = predict(model, val_set, batch_size=int(tc["eval_batch_size"]), device=dev, channels_last=tc["channels_last"])
            m = metrics(logits, val_set.labels, val_set.class_names) if len(val_set) else {"accuracy": float("nan"), "mean_class_accuracy": float("nan"), "per_head_accuracy": {}}
            acc = m["accuracy"]
            improved = len(val_set) > 0 and acc > best_acc
            if improved:
                best_acc, best_epoch = acc, epoch + 1
                model.config.trained = True
                model.config.provenance = provenance(cfg, train_set.name, epoch + 1, acc)
                save_checkpoint(model, out / "model.safetensors", extra_metadata={
                    "training_data": train_set.name, "epoch": epoch + 1, "val_accuracy": acc, "seed": seed})
            record = {
                "epoch": epoch + 1, "train_loss": float(train_loss[0] / max(1, train_loss[1])),
                "val_accuracy": acc, "val_mean_class_accuracy": m["mean_class_accuracy"],
                "val_head_accuracy": m["per_head_accuracy"], "lr": optimizer.param_groups[0]["lr"],
                "seconds": round(time.time() - t0, 2), "best": improved,
            }
            with open(out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            log(f"epoch {epoch + 1}/{epochs}: train loss {record['train_loss']:.4f}, val acc {acc:.4f} "
                f"(mean class {m['mean_class_accuracy']:.4f}), {record['seconds']:.1f}s")
        if distributed:
            box = [best_acc, best_epoch]
            dist.broadcast_object_list(box, src=0)
            best_acc, best_epoch = box
        save_state(epoch + 1, 0)
        summary = record or summary
        stop = bool(is_main and ((tc.get("stop_at_accuracy") is not None and best_acc >= float(tc["stop_at_accuracy"]))
                                 or (tc.get("max_minutes") and time.time() - t_start > 60 * float(tc["max_minutes"]))))
        if distributed:
            box = [stop]
            dist.broadcast_object_list(box, src=0)
            stop = box[0]
            dist.barrier()
        if stop:
            if is_main:
                log(f"stopping after epoch {epoch + 1}: best val acc {best_acc:.4f} (stop_at_accuracy / max_minutes)")
            break
    result = {"output": str(out), "best_val_accuracy": best_acc, "best_epoch": best_epoch, "epochs": epochs,
              "minutes": (time.time() - t_start) / 60,
              "model": str(out / "model.safetensors"), "last": str(last), "last_epoch": summary}
    return result


def cleanup_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
