"""Grad-CAM++ speed: all maps of one face (fused + one per head) vs ONE plain GradCAMPlusPlus call.

Target: the fast path (one forward pass, a partial backward per map, the library's CAM maths on
the captured tensors) takes <= 1.5x one plain `GradCAMPlusPlus(...)(x, targets)` call on the same
model and input, and its maps equal one plain library call per map to 1e-5. Both are timed
interleaved, after a warm-up, and the ratio of the medians is reported. Torch runs on one
intra-op thread by default (restored afterwards): on a shared, busy machine two threads
contend and the timings scatter several-fold.
Usage: python benchmarks/cam_speed.py [--repeats N] [--threads T] [--models NAME ...]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch
from _timing import interleaved, print_rows, row, torch_threads
from pytorch_grad_cam import GradCAMPlusPlus
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from fer.explain import explain, to_input_tensor
from fer.explain.direct import library_maps
from fer.explain.engine import compute_maps
from fer.explain.targets import FusedLogOdds
from fer.models import create_model

DEFAULT_MODELS = ("alfj_resnet18", "alfj_resnet50", "faceapi_expression", "mini_xception_fer2013", "base_resnet18")
TARGET_RATIO = 1.5


def bench_model(name: str, repeats: int = 5) -> list[dict]:
    torch.manual_seed(0)
    model = create_model(name)
    size = model.config.preprocess.input_size
    crop = (np.random.default_rng(0).random((size, size, 3)) * 255).astype(np.uint8)
    x = to_input_tensor(crop, model.config.preprocess)
    first = compute_maps(model, x)  # warm-up (and the one-off region tracing)
    targets = [ClassifierOutputTarget(first.fused_class)]
    with GradCAMPlusPlus(model=FusedLogOdds(model), target_layers=[model.shared_tap]) as cam:
        plain, fast, full = interleaved([lambda: cam(x, targets), lambda: compute_maps(model, x),
                                         lambda: explain(model, crop)], repeats, reduce=statistics.median)
    n_maps = 1 + first.heads.shape[0]
    maps = compute_maps(model, x, head_target="own")
    fused, heads = library_maps(model, x, maps.fused_class, maps.head_classes, maps.region_boxes or None)
    diff = max(float(np.abs(maps.fused - fused).max()), float(np.abs(maps.heads - heads).max()))
    label = f"{name} ({size} px, {n_maps} maps)"
    return [
        row("cam_speed", f"{label}: all maps / one plain GradCAMPlusPlus call", fast / plain, f"<= {TARGET_RATIO}"),
        row("cam_speed", f"{label}: explain() from the crop (+ preprocessing) / one plain call", full / plain),
        row("cam_speed", f"{label}: one plain GradCAMPlusPlus call, ms (median)", plain * 1000.0),
        row("cam_speed", f"{label}: max |fast - one library call per map|", diff, "<= 1e-05"),
    ]


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--models", nargs="*", default=list(DEFAULT_MODELS))
    args = parser.parse_args(argv or [])
    with torch_threads(args.threads):
        return [r for name in args.models for r in bench_model(name, args.repeats)]


if __name__ == "__main__":
    import sys

    print_rows(main(sys.argv[1:]), 10, 80, "12.6g")
