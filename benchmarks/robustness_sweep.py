"""Robustness-sweep throughput: images x conditions per second, and occluder rendering time as a
fraction of model time (goal <= 10 %), measured side by side in one run.

Two ways of placing occluders are timed on the same SynthFER crops:
* template: crops share the face pipeline's canonical template (a data set of aligned faces);
  `fer.occlusion.apply_batch` renders each template occluder once and blends it into the batch;
* per face: each crop's own landmarks (SynthFER's, or detected faces), one `apply` per crop.

    python benchmarks/robustness_sweep.py [--images 8] [--models faceapi_expression,alfj_resnet18]
"""

from __future__ import annotations

import argparse
import sys

DEFAULT_MODELS = ("faceapi_expression", "alfj_resnet18")


def measure(models=DEFAULT_MODELS, images: int = 8, crop: int = 112, severity: float = 0.5, batch_size: int = 32) -> list[dict]:
    import torch

    from fer.robustness import default_conditions, sweep
    from fer.robustness.sources import load_model, synthfer_samples

    torch.manual_seed(0)
    samples = synthfer_samples("test", images, crop, seed=0)
    conditions = default_conditions(None, severities=(severity,))
    rows = []
    for spec in models:
        model = load_model(spec)
        for mode in ("template", "per_face"):
            data = samples if mode == "per_face" else type(samples)(samples.crops, None, samples.labels, samples.class_names)
            # warm-up (first-call allocations, occluder caches) on two images, then the timed run
            sweep([model], data.head(2), conditions, batch_size=batch_size, progress=False)
            t = sweep([model], data, conditions, batch_size=batch_size, progress=False).timings
            total = t["render_s"] + t["model_s"]
            n = t["images"] * t["conditions"]
            rows.append({"benchmark": "robustness_sweep", "metric": f"{spec} {mode}: images x conditions per s",
                         "value": round(n / total, 2), "target": "informative"})
            rows.append({"benchmark": "robustness_sweep", "metric": f"{spec} {mode}: occluder rendering / model time",
                         "value": round(t["render_s"] / max(t["model_s"], 1e-9), 4),
                         "target": "<= 0.10" if mode == "template" else "informative (per-face placement)"})
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS))
    parser.add_argument("--crop", type=int, default=112)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: stable ratios on shared cores)")
    args = parser.parse_args([] if argv is None else argv)
    import torch

    torch.set_num_threads(max(1, args.threads))
    rows = measure(tuple(m for m in args.models.split(",") if m), args.images, args.crop)
    for r in rows:
        print(f"{r['metric']:<64s} {r['value']:>10.4g}   target {r['target']}")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
