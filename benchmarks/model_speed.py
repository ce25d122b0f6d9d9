"""ALFJ-Net vs torchvision ResNet-50: eval forward time and train-step throughput, side by side.

Targets (issue 2): forward <= 1.25x resnet50's time; train step >= 0.8x resnet50's throughput.
Both models run at the same input in the same process, measurements interleaved (A, B, A, B, ...)
and the best time kept, so machine load affects both alike. The batch-1 forward is repeated 5x as
often (cheap, and noisier).

    python benchmarks/model_speed.py [--model alfj_resnet50] [--batch 1 32] [--size 224] [--repeats 2]
                                     [--local-stage separate shared] [--threads N]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import torch
import torchvision
from _timing import interleaved

from fer.models import create_model, joint_loss


def _forward_fn(model, x, is_fer):
    def run():
        with torch.inference_mode():
            out = model(x)
            return out.head_logits if is_fer else out

    return run


def _train_fn(model, x, y, is_fer):
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4, foreach=True)

    def run():
        opt.zero_grad(set_to_none=True)
        out = model(x)
        loss = joint_loss(out, y) if is_fer else torch.nn.functional.cross_entropy(out, y)
        loss.backward()
        opt.step()

    return run


def iter_rows(
    model_name: str = "alfj_resnet50",
    batches: tuple[int, ...] = (1, 32),
    size: int = 224,
    repeats: int = 2,
    local_stages: tuple[str, ...] = ("separate", "shared"),
    threads: int | None = None,
) -> Iterator[dict]:
    """Yield one row per (variant, batch, measure). `local_stages`: the ALFJ-Net variants measured."""
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    variants = {f"{model_name}[{ls}]": create_model(model_name, local_stage=ls) for ls in local_stages}
    num_classes = next(iter(variants.values())).config.num_classes
    ref = torchvision.models.resnet50(weights=None, num_classes=num_classes)
    note = f"{size}px, {torch.get_num_threads()} threads"
    for batch in batches:
        x = torch.randn(batch, 3, size, size)
        y = torch.randint(0, num_classes, (batch,))
        for m in (*variants.values(), ref):
            m.eval()
        fns = [_forward_fn(m, x, True) for m in variants.values()] + [_forward_fn(ref, x, False)]
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
        fns = [_train_fn(m, x, y, True) for m in variants.values()] + [_train_fn(ref, x, y, False)]
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
) -> list[dict]:
    return list(iter_rows(model_name, batches, size, repeats, local_stages, threads))


def _cli() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="alfj_resnet50")
    p.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--local-stage", nargs="+", default=["separate", "shared"], choices=["separate", "shared"])
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = p.parse_args()
    for row in iter_rows(args.model, tuple(args.batch), args.size, args.repeats, tuple(args.local_stage), args.threads):
        print(f"{row['metric']}: {row['value']:.3f} (target {row['target']})", flush=True)


if __name__ == "__main__":
    _cli()
