"""Occluders on a batch of aligned crops vs the model's inference on the same batch.

Target: applying an occluder to N aligned crops costs <= 10 % of the model's inference time on
them. Measured side by side in one run: `fer.occlusion.apply_batch` (template render cached after
the first call, then one vectorised blend) and one forward pass of alfj_resnet50 (random weights:
speed only) on N crops at the model's input size.
"""

from __future__ import annotations

import time

import numpy as np

N = 16
REPEATS = 2


def _model():
    import torch

    try:
        from fer.models import create_model

        model, note = create_model("alfj_resnet50"), "alfj_resnet50"
        size = int(getattr(getattr(model, "config", None), "input_size", 0) or 224)
    except Exception as exc:  # the model module is missing or broken: fall back, and say so
        import torchvision

        model, note, size = torchvision.models.resnet50(weights=None), f"torchvision resnet50 ({exc})", 224
    model.eval()
    torch.set_grad_enabled(False)
    return model, note, size


def _best(fn, repeats=REPEATS) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> list[dict]:
    import torch

    from fer.occlusion import apply_batch, list_occluders
    from fer.occlusion.api import _CACHE

    model, note, size = _model()
    rng = np.random.default_rng(0)
    crops = rng.integers(40, 220, (N, size, size, 3)).astype(np.uint8)
    x = torch.from_numpy(crops).permute(0, 3, 1, 2).float().div(255)
    model(x[:2])  # warm up
    t_model = _best(lambda: model(x))
    rows = [{"benchmark": "occluders", "metric": f"model inference, {N} crops {size}px ({note}) [s]",
             "value": t_model, "target": "reference"}]
    worst_warm, worst_cold = 0.0, 0.0
    for kind in list_occluders(standalone=True):
        _CACHE.clear()
        t0 = time.perf_counter()
        apply_batch(crops, kind, severity=0.5, seed=0)
        cold = time.perf_counter() - t0
        warm = _best(lambda k=kind: apply_batch(crops, k, severity=0.5, seed=0))
        worst_warm, worst_cold = max(worst_warm, warm / t_model), max(worst_cold, cold / t_model)
        rows.append({"benchmark": "occluders", "metric": f"{kind}: batch time / model time",
                     "value": warm / t_model, "target": "<= 0.10"})
    rows.append({"benchmark": "occluders", "metric": "worst occluder (cached template) / model time",
                 "value": worst_warm, "target": "<= 0.10"})
    rows.append({"benchmark": "occluders", "metric": "worst occluder incl. first render / model time",
                 "value": worst_cold, "target": "info (one-off per template)"})
    return rows


if __name__ == "__main__":
    for r in main():
        print(f"{r['metric']:70s} {r['value']:9.4f}   target {r['target']}")
