"""ALFJ-Net vs torchvision ResNet-50: eval forward time and train-step throughput, side by side.

Targets (issue 2): forward <= 1.25x resnet50's time; train step >= 0.8x resnet50's throughput.
Both models run at the same input in the same process, measurements interleaved (A, B, A, B, ...)
and the best time kept, so machine load affects both alike. The batch-1 forward is repeated 5x as
often (cheap, and noisier). On a GPU (`--device cuda`) every timed call ends with a synchronize, so the
times are the kernels' own; `--amp` runs forward and train step under float16 autocast (with a GradScaler
in the train step, as `fer train` does) and `--channels-last` puts models and inputs in that memory format.

    python benchmarks/model_speed.py [--model alfj_resnet50] [--batch 1 32] [--size 224] [--repeats 2]
                                     [--local-stage separate shared] [--threads N]
                                     [--device cpu|cuda|cuda:N] [--amp] [--channels-last]
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator

import torch
import torchvision
from _timing import interleaved

from fer.models import create_model, joint_loss


def _autocast(device: torch.device, amp: bool):
    return torch.autocast(device.type, dtype=torch.float16) if amp else contextlib.nullcontext()


def _synced(fn: Callable[[], object], device: torch.device) -> Callable[[], object]:
    """`fn` followed by a CUDA synchronize on a GPU, so a timer sees the work, not only its launch."""
    if device.type != "cuda":
        return fn

    def run():
        out = fn()
        torch.cuda.synchronize(device)
        return out

    return run


def _forward_fn(model, x, is_fer, amp: bool = False):
    def run():
        with torch.inference_mode(), _autocast(x.device, amp):
            out = model(x)
            return out.head_logits if is_fer else out

    return _synced(run, x.device)


def _train_fn(model, x, y, is_fer, amp: bool = False):
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4, foreach=True)
    scaler = torch.amp.GradScaler(x.device.type, enabled=amp)

    def run():
        opt.zero_grad(set_to_none=True)
        with _autocast(x.device, amp):
            out = model(x)
            loss = joint_loss(out, y) if is_fer else torch.nn.functional.cross_entropy(out, y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    return _synced(run, x.device)


def check_options(device: str, amp: bool) -> torch.device:
    """The torch device; a plain error for a GPU that is not there or AMP asked for on the CPU."""
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise SystemExit(f"--device {device!r} is not a torch device (cpu, cuda, cuda:1, ...)") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {device}: torch sees no CUDA GPU here")
    if amp and dev.type != "cuda":
        raise SystemExit("--amp needs a CUDA device (float16 autocast is not measured on the CPU)")
    return dev


def iter_rows(
    model_name: str = "alfj_resnet50",
    batches: tuple[int, ...] = (1, 32),
    size: int = 224,
    repeats: int = 2,
    local_stages: tuple[str, ...] = ("separate", "shared"),
    threads: int | None = None,
    device: str = "cpu",
    amp: bool = False,
    channels_last: bool = False,
) -> Iterator[dict]:
    """Yield one row per (variant, batch, measure). `local_stages`: the ALFJ-Net variants measured."""
    dev = check_options(device, amp)
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    variants = {f"{model_name}[{ls}]": create_model(model_name, local_stage=ls).to(dev, memory_format=fmt)
                for ls in local_stages}
    num_classes = next(iter(variants.values())).config.num_classes
    ref = torchvision.models.resnet50(weights=None, num_classes=num_classes).to(dev, memory_format=fmt)
    where = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"{torch.get_num_threads()} threads"
    note = f"{size}px, {where}" + (", amp fp16" if amp else "") + (", channels-last" if channels_last else "")
    for batch in batches:
        x = torch.randn(batch, 3, size, size, device=dev).contiguous(memory_format=fmt)
        y = torch.randint(0, num_classes, (batch,), device=dev)
        for m in (*variants.values(), ref):
            m.eval()
        fns = [_forward_fn(m, x, True, amp) for m in variants.values()] + [_forward_fn(ref, x, False, amp)]
        reps = repeats * 5 if batch == 1 else repeats
        *t_fer, t_ref = interleaved(fns, reps)
        for name, t in zip(variants, t_fer):
            yield (
                {
                    "benchmark": "model_speed",
                    "metric": f"{name} / resnet50 eval forward time, batch {batch}, {note} "
                    f"({t * 1000:.0f} vs {t_ref * 1000:.0f} ms)",
                    "value": t / t_ref,
                    "target": "<= 1.25",
                }
            )
        if batch == 1:  # BatchNorm needs more than one value per channel in training mode
            x, y = x.repeat(2, 1, 1, 1), y.repeat(2)
        for m in (*variants.values(), ref):
            m.train()
        fns = [_train_fn(m, x, y, True, amp) for m in variants.values()] + [_train_fn(ref, x, y, False, amp)]
        *t_fer, t_ref = interleaved(fns, repeats)
        n = x.shape[0]
        for name, t in zip(variants, t_fer):
            yield (
                {
                    "benchmark": "model_speed",
                    "metric": f"{name} / resnet50 train-step throughput, batch {n}, {note} "
                    f"({n / t:.2f} vs {n / t_ref:.2f} img/s)",
                    "value": t_ref / t,
                    "target": ">= 0.8",
                }
            )


def main(
    model_name: str = "alfj_resnet50",
    batches: tuple[int, ...] = (1, 32),
    size: int = 224,
    repeats: int = 2,
    local_stages: tuple[str, ...] = ("separate", "shared"),
    threads: int | None = None,
    device: str = "cpu",
    amp: bool = False,
    channels_last: bool = False,
) -> list[dict]:
    return list(iter_rows(model_name, batches, size, repeats, local_stages, threads, device, amp, channels_last))


def _cli() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="alfj_resnet50")
    p.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--local-stage", nargs="+", default=["separate", "shared"], choices=["separate", "shared"])
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--amp", action="store_true", help="float16 autocast (CUDA only), GradScaler in the train step")
    p.add_argument("--channels-last", action="store_true", help="models and inputs in channels-last memory format")
    args = p.parse_args()
    rows = iter_rows(args.model, tuple(args.batch), args.size, args.repeats, tuple(args.local_stage), args.threads,
                     args.device, args.amp, args.channels_last)
    for row in rows:
        print(f"{row['metric']}: {row['value']:.3f} (target {row['target']})", flush=True)


if __name__ == "__main__":
    _cli()
