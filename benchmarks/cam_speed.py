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
import time

import numpy as np
import torch
from pytorch_grad_cam import GradCAMPlusPlus
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from fer.explain import FusedLogOdds, compute_maps, explain, to_input_tensor
from fer.explain.direct import library_maps
from fer.models import create_model

DEFAULT_MODELS = ("alfj_resnet18", "alfj_resnet50", "faceapi_expression", "mini_xception_fer2013", "base_resnet18")
TARGET_RATIO = 1.5


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_model(name: str, repeats: int = 5) -> list[dict]:
    torch.manual_seed(0)
    model = create_model(name)
    size = model.config.preprocess.input_size
    crop = (np.random.default_rng(0).random((size, size, 3)) * 255).astype(np.uint8)
    x = to_input_tensor(crop, model.config.preprocess)
    first = compute_maps(model, x)  # warm-up (and the one-off region tracing)
    targets = [ClassifierOutputTarget(first.fused_class)]
    plain_times, fast_times, full_times = [], [], []
    with GradCAMPlusPlus(model=FusedLogOdds(model), target_layers=[model.shared_tap]) as cam:
        cam(x, targets)  # warm-up
        for _ in range(repeats):
            plain_times.append(_time(lambda: cam(x, targets)))
            fast_times.append(_time(lambda: compute_maps(model, x)))
            full_times.append(_time(lambda: explain(model, crop)))
    plain = statistics.median(plain_times)
    n_maps = 1 + first.heads.shape[0]
    maps = compute_maps(model, x, head_target="own")
    fused, heads = library_maps(model, x, maps.fused_class, maps.head_classes, maps.region_boxes or None)
    diff = max(float(np.abs(maps.fused - fused).max()), float(np.abs(maps.heads - heads).max()))
    label = f"{name} ({size} px, {n_maps} maps)"
    return [
        {"benchmark": "cam_speed", "metric": f"{label}: all maps / one plain GradCAMPlusPlus call",
         "value": statistics.median(fast_times) / plain, "target": f"<= {TARGET_RATIO}"},
        {"benchmark": "cam_speed", "metric": f"{label}: explain() from the crop (+ preprocessing) / one plain call",
         "value": statistics.median(full_times) / plain, "target": "reported"},
        {"benchmark": "cam_speed", "metric": f"{label}: one plain GradCAMPlusPlus call, ms (median)",
         "value": plain * 1000.0, "target": "reported"},
        {"benchmark": "cam_speed", "metric": f"{label}: max |fast - one library call per map|",
         "value": diff, "target": "<= 1e-05"},
    ]


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--models", nargs="*", default=list(DEFAULT_MODELS))
    args = parser.parse_args(argv or [])
    rows, before = [], torch.get_num_threads()
    torch.set_num_threads(max(1, args.threads))
    try:
        for name in args.models:
            rows.extend(bench_model(name, args.repeats))
    finally:
        torch.set_num_threads(before)
    return rows


if __name__ == "__main__":
    import sys

    for row in main(sys.argv[1:]):
        print(f"{row['benchmark']:10s} {row['metric']:80s} {row['value']:12.6g}  (target {row['target']})")
