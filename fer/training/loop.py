"""The training loop: `train()` sets a run up (`Run.create`), then `fit` runs its epochs
(`train_epoch`, `validate`, save) until the schedule ends or a stopping rule fires."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml

from fer.errors import DatasetError
from fer.training import distributed as ddp
from fer.training.build import build_data, build_model, build_optimizer, build_scheduler
from fer.training.config import TrainConfig
from fer.training.state import (
    Progress,
    TrainingInterrupted,
    epoch_seed,
    read_resume_state,
    remove_stale_temps,
    restore,
    resume_path,
    rng_state,
    save_training_state,
    seed_all,
    set_rng_state,
    trim_metrics,
)


@dataclass
class Run:
    """Everything one training process works with, built once from the config."""

    cfg: TrainConfig
    out: Path
    ranks: ddp.Ranks
    device: torch.device
    amp: bool
    train_set: Any
    val_set: Any
    model: torch.nn.Module
    net: torch.nn.Module  # the model, wrapped in DistributedDataParallel under torchrun
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: torch.amp.GradScaler
    images: Any  # the training set as a torch Dataset, with the augmentations
    sampler: Any
    steps_per_epoch: int
    log: Callable[[str], None] = print
    progress_bar: bool = True
    started: float = field(default_factory=time.time)
    stop_after_steps: int | None = None  # raise TrainingInterrupted after this many optimizer steps
    steps_done: int = 0

    @property
    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.cfg.train.channels_last else torch.contiguous_format

    @property
    def last(self) -> Path:
        return self.out / "last.pt"

    @classmethod
    def create(cls, cfg: TrainConfig, out: Path, device: str | None = None, log=print, progress: bool = True) -> Run:
        from torch.nn.parallel import DistributedDataParallel as DDP
        from torch.utils.data.distributed import DistributedSampler

        from fer.data.base import AugmentSeedSampler, TorchImages
        from fer.data.transforms import Augment

        tc = cfg.train
        ranks = ddp.ranks_from_env()
        dev = ddp.setup_device(ranks, device)
        if tc.threads:
            torch.set_num_threads(tc.threads)
        started = time.time()
        amp = dev.type == "cuda" and tc.amp in ("auto", True)
        train_set, val_set = build_data(cfg)
        seed_all(cfg.seed)  # identical initial weights on every rank
        model = build_model(cfg)
        aug = Augment.from_dict(cfg.augment)
        memfmt = torch.channels_last if tc.channels_last else torch.contiguous_format
        model = model.to(dev, memory_format=memfmt)
        optimizer = build_optimizer(cfg, model)
        images = TorchImages(train_set, model.config.preprocess, aug)
        base = DistributedSampler(images, num_replicas=ranks.world, rank=ranks.rank, shuffle=True, seed=cfg.seed,
                                  drop_last=True)
        steps = len(base) // tc.batch_size
        if tc.max_steps_per_epoch:
            steps = min(steps, tc.max_steps_per_epoch)
        if steps < 1:
            raise DatasetError(f"the training split has {len(train_set)} images: fewer than one batch of "
                               f"{tc.batch_size} per process")
        net = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None) if ranks.distributed else model
        return cls(cfg, out, ranks, dev, amp, train_set, val_set, model, net, optimizer,
                   build_scheduler(cfg, optimizer, steps), torch.amp.GradScaler("cuda", enabled=amp), images,
                   AugmentSeedSampler(base, cfg.seed), steps, log, progress, started)

    def state_parts(self) -> dict[str, Any]:
        """The objects whose state dicts ``last.pt`` holds (the AMP scaler only when AMP is on)."""
        parts = {"model": self.model, "optimizer": self.optimizer, "scheduler": self.scheduler}
        if self.amp:
            parts["scaler"] = self.scaler
        return parts

    def save(self, progress: Progress, partial_loss: tuple[float, int] = (0.0, 0)) -> None:
        """Write ``last.pt`` (rank 0), with the RNG states of every rank."""
        rngs = ddp.gather(rng_state(), self.ranks)
        if self.ranks.is_main:
            parts = {k: v.state_dict() for k, v in self.state_parts().items()}
            parts.setdefault("scaler", {})
            save_training_state(self.last, parts, rngs, self.cfg, progress, partial_loss)


@dataclass
class Resumed:
    """What a resume restores besides the state dicts: RNG states and the running loss of a cut epoch."""

    progress: Progress = field(default_factory=Progress)
    rng: dict | None = None
    loss: tuple[float, int] | None = None


def train(cfg: TrainConfig | Mapping, out_dir: str | os.PathLike | None = None, resume: bool | str = False,
          device: str | None = None, progress: bool = True, stop_after_steps: int | None = None, log=print) -> dict:
    """Run (or resume) training. Returns a summary dict (best accuracy, paths, epochs).

    `cfg` is a `TrainConfig` (`load_config`) or its plain dict form. `resume`: True continues from
    ``<out>/last.pt`` when it exists, a path from that file. `stop_after_steps` raises
    `TrainingInterrupted` after that many optimizer steps (as if the process were killed)."""
    if not isinstance(cfg, TrainConfig):
        cfg = TrainConfig.from_dict(dict(cfg))
    out = Path(out_dir or cfg.output)
    ranks = ddp.ranks_from_env()
    # read the state to resume from first: a bad file fails before any data is loaded
    path = resume_path(resume, out)
    state = read_resume_state(path, cfg) if path is not None else None
    run = Run.create(cfg, out, device, log, progress)
    resumed = Resumed()
    if state is not None:
        resumed = _restore(run, state, path)
    elif resume and ranks.is_main:
        log(f"no checkpoint at {out / 'last.pt'}: starting from scratch")
    if ranks.is_main:
        out.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(out)
        (out / "config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
        log(f"training {cfg.model.name} on {run.train_set.name} ({len(run.train_set)} train / {len(run.val_set)} val "
            f"images, {ranks.world} process(es), {ddp.describe(run.ranks)}, device {run.device}, amp {run.amp}, "
            f"channels-last {cfg.train.channels_last}) -> {out}")
    run.stop_after_steps = stop_after_steps
    return fit(run, resumed)


def _restore(run: Run, state: dict, path: Path) -> Resumed:
    progress = restore(state, path, run.state_parts())
    resumed = Resumed(progress)
    if "partial_loss" in state and run.ranks.world == 1:
        resumed.loss = (float(state["partial_loss"][0]), int(state["partial_loss"][1]))
    rngs = state.get("rng_per_rank") or []
    if progress.step_in_epoch and len(rngs) == run.ranks.world:
        resumed.rng = rngs[run.ranks.rank]
    if run.ranks.is_main:
        run.log(f"resumed from {path}: epoch {progress.epoch}, step {progress.step_in_epoch}, "
                f"best val acc {progress.best_acc:.4f}")
        trim_metrics(run.out / "metrics.jsonl", progress.epoch)
    return resumed


def fit(run: Run, resumed: Resumed | None = None) -> dict:
    """Epochs from where `resumed` stands to the end of the schedule (or a stopping rule)."""
    resumed = resumed or Resumed()
    progress = resumed.progress
    start_epoch, start_step = progress.epoch, progress.step_in_epoch
    epochs = run.cfg.train.epochs
    record: dict[str, Any] = {}
    for epoch in range(start_epoch, epochs):
        t0 = time.time()
        if epoch == start_epoch and start_step:  # continue the cut epoch where it stopped
            train_loss = train_epoch(run, epoch, progress, start_step, resumed.rng, resumed.loss)
        else:
            train_loss = train_epoch(run, epoch, progress)
        record = validate(run, epoch, train_loss, progress, t0) or record
        progress.best_acc, progress.best_epoch = ddp.from_main([progress.best_acc, progress.best_epoch], run.ranks)
        progress.epoch, progress.step_in_epoch = epoch + 1, 0
        run.save(progress)
        if _should_stop(run, progress):
            if run.ranks.is_main:
                run.log(f"stopping after epoch {epoch + 1}: best val acc {progress.best_acc:.4f} "
                        "(stop_at_accuracy / max_minutes)")
            break
    out = run.out
    return {"output": str(out), "best_val_accuracy": progress.best_acc, "best_epoch": progress.best_epoch,
            "epochs": epochs, "minutes": (time.time() - run.started) / 60, "model": str(out / "model.safetensors"),
            "last": str(run.last), "last_epoch": record}


def train_epoch(run: Run, epoch: int, progress: Progress, first: int = 0, rng: dict | None = None,
                running: tuple[float, int] | None = None) -> torch.Tensor:
    """Steps `first`.. of `epoch`; the train loss sum and sample count (summed over ranks) as a tensor.

    A mid-epoch resume passes `rng` (the RNG states to continue from; otherwise they are re-seeded
    from the epoch) and `running` (loss sum and count of the steps before `first`). `progress`
    holds the best result so far, recorded by the mid-epoch saves."""
    from torch.utils.data import DataLoader

    from fer.models.loss import joint_loss

    tc, dev, memfmt = run.cfg.train, run.device, run.memory_format
    bs = tc.batch_size
    run.sampler.set_epoch(epoch)
    run.sampler.skip = first * bs
    loader = DataLoader(run.images, batch_size=bs, sampler=run.sampler, num_workers=tc.workers, drop_last=True,
                        pin_memory=dev.type == "cuda")
    it = iter(loader)  # before (re)seeding: creating the iterator draws from the global RNG
    if rng is not None:
        set_rng_state(rng)
    else:
        seed_all(epoch_seed(run.cfg.seed, epoch, run.ranks.rank))
    run.net.train()
    run_loss, run_n = running or (0.0, 0)
    bar = _progress_bar(run, epoch, first)
    loss_cfg = tc.loss
    try:
        for step in range(first, run.steps_per_epoch):
            x, y = next(it)
            x = x.to(dev, non_blocking=True, memory_format=memfmt)
            y = y.to(dev, non_blocking=True)
            with torch.autocast(dev.type, dtype=torch.float16, enabled=run.amp):
                loss = joint_loss(run.net(x), y, loss_cfg.head_weights, loss_cfg.fused_weight, loss_cfg.label_smoothing)
            _step(run, loss)
            run_loss += float(loss.detach()) * x.shape[0]
            run_n += x.shape[0]
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{run_loss / run_n:.4f}")
            if tc.save_every_steps and (step + 1) % tc.save_every_steps == 0 and step + 1 < run.steps_per_epoch:
                run.save(Progress(epoch, step + 1, progress.best_acc, progress.best_epoch), (run_loss, run_n))
            run.steps_done += 1
            if run.stop_after_steps is not None and run.steps_done >= run.stop_after_steps:
                raise TrainingInterrupted(f"stopped after {run.steps_done} steps (epoch {epoch}, step {step + 1})")
    finally:
        if bar is not None:
            bar.close()
    del it, loader
    total = torch.tensor([run_loss, run_n], dtype=torch.float64)
    if run.ranks.distributed:
        torch.distributed.all_reduce(total)
    return total


def _step(run: Run, loss: torch.Tensor) -> None:
    """One optimizer step through the AMP scaler (a no-op scaler without AMP), with optional clipping."""
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    if run.cfg.train.grad_clip:
        run.scaler.unscale_(run.optimizer)
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), run.cfg.train.grad_clip)
    run.scaler.step(run.optimizer)
    run.scaler.update()
    run.scheduler.step()


def validate(run: Run, epoch: int, train_loss: torch.Tensor, progress: Progress, t0: float) -> dict:
    """Rank 0: validation accuracy of the unwrapped model; the best model is saved to
    ``model.safetensors``; one line appended to ``metrics.jsonl``. Returns that record ({} elsewhere)."""
    if not run.ranks.is_main:
        return {}
    from fer.evaluate import metrics, predict

    cfg, val = run.cfg, run.val_set
    logits = predict(run.model, val, batch_size=cfg.train.eval_batch_size, device=run.device,
                     channels_last=cfg.train.channels_last)
    if len(val):
        m = metrics(logits, val.labels, val.class_names)
    else:
        m = {"accuracy": float("nan"), "mean_class_accuracy": float("nan"), "per_head_accuracy": {}}
    acc = m["accuracy"]
    improved = len(val) > 0 and acc > progress.best_acc
    if improved:
        progress.best_acc, progress.best_epoch = acc, epoch + 1
        _save_best(run, epoch + 1, acc)
    record = {
        "epoch": epoch + 1, "train_loss": float(train_loss[0] / max(1, train_loss[1])),
        "val_accuracy": acc, "val_mean_class_accuracy": m["mean_class_accuracy"],
        "val_head_accuracy": m["per_head_accuracy"], "lr": run.optimizer.param_groups[0]["lr"],
        "seconds": round(time.time() - t0, 2), "best": improved,
    }
    with open(run.out / "metrics.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")
    run.log(f"epoch {epoch + 1}/{cfg.train.epochs}: train loss {record['train_loss']:.4f}, val acc {acc:.4f} "
            f"(mean class {m['mean_class_accuracy']:.4f}), {record['seconds']:.1f}s")
    return record


def provenance(cfg: TrainConfig, train_name: str, epochs_done: int, val_acc: float) -> str:
    return (
        f"trained with alfj-fer on {train_name} ({cfg.data.train_split} split, "
        f"{cfg.data.num_classes} classes); {epochs_done} epochs; best val fused accuracy {val_acc:.4f}"
    )


def _save_best(run: Run, epochs_done: int, acc: float) -> None:
    from fer.models.checkpoint import save_checkpoint

    run.model.config.trained = True
    run.model.config.provenance = provenance(run.cfg, run.train_set.name, epochs_done, acc)
    save_checkpoint(run.model, run.out / "model.safetensors", extra_metadata={
        "training_data": run.train_set.name, "epoch": epochs_done, "val_accuracy": acc, "seed": run.cfg.seed})


def _should_stop(run: Run, progress: Progress) -> bool:
    tc = run.cfg.train
    stop = run.ranks.is_main and (
        (tc.stop_at_accuracy is not None and progress.best_acc >= tc.stop_at_accuracy)
        or bool(tc.max_minutes and time.time() - run.started > 60 * tc.max_minutes))
    stop = ddp.from_main([stop], run.ranks)[0]
    if run.ranks.distributed:
        torch.distributed.barrier()
    return bool(stop)


def _progress_bar(run: Run, epoch: int, first: int):
    if not (run.progress_bar and run.ranks.is_main):
        return None
    from tqdm import tqdm

    return tqdm(total=run.steps_per_epoch, initial=first, desc=f"epoch {epoch + 1}/{run.cfg.train.epochs}",
                leave=False, file=sys.stderr)
