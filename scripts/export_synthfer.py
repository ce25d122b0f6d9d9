"""Turn a SynthFER benchmark run's best model into a shipped `<architecture>_synthfer` checkpoint.

    python scripts/export_synthfer.py RUN_DIR/alfj_resnet18_half [RUN_DIR/... ...]

Reads `model.safetensors` and `metrics.jsonl` of each run folder (written by
`benchmarks/synthfer_learning.py`), stores the weights in half precision (a float32 model is
rebuilt from them on load) under `fer/weights/<architecture>_synthfer.safetensors`, with a
provenance that says the model was trained on synthetic SynthFER faces only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MAX_BYTES = 10 * 1024 * 1024


def export(run: Path) -> Path:
    from fer.models.checkpoint import load_checkpoint, save_checkpoint
    from fer.models.synthfer import SUFFIX, SYNTHFER_MODELS, SYNTHFER_NOTE, weights_path

    model = load_checkpoint(run / "model.safetensors")
    name = model.config.name + SUFFIX
    if name not in SYNTHFER_MODELS:
        raise SystemExit(f"{name} is not a registered SynthFER model ({', '.join(SYNTHFER_MODELS)})")
    hist = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x.strip()]
    best = max(hist, key=lambda h: h["val_accuracy"])
    model.config.name = name
    model.config.trained = True  # trained weights (on synthetic faces; the provenance and the demo say so)
    model.config.provenance = (
        f"{SYNTHFER_NOTE}: alfj-fer benchmarks/synthfer_learning.py, {len(hist)} epochs of 2,800 cartoon faces "
        f"at {model.config.preprocess.input_size} px (best epoch {best['epoch']}, SynthFER test fused accuracy "
        f"{best['val_accuracy']:.4f}); stored in half precision; not trained on real faces: its predictions on "
        "real faces mean nothing (fer/weights/NOTICE-synthfer.md)"
    )
    path = save_checkpoint(model.half(), weights_path(name), {"source_run_epochs": len(hist)})
    if path.stat().st_size > MAX_BYTES:
        raise SystemExit(f"{path} is {path.stat().st_size} bytes, over the 10 MB limit")
    print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB, test accuracy {best['val_accuracy']:.4f}")
    return path


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    for folder in sys.argv[1:]:
        export(Path(folder))
