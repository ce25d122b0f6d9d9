"""Convert the MTCNN P/R/O-Net weights of the facenet-pytorch wheel (MIT) to fer/weights/mtcnn.safetensors.

Run once, offline after the download:

    pip download facenet-pytorch==2.6.0 --no-deps -d /tmp/x      # never `pip install` it: it pins old torch
    python scripts/convert_mtcnn.py /tmp/x/facenet_pytorch-2.6.0-py3-none-any.whl

The wheel is read as a zip; the three `.pt` files are plain state dicts and are loaded with
`torch.load(weights_only=True)` (no arbitrary unpickling). Nothing from the wheel is imported.
The tensors are stored under `pnet.*`, `rnet.*`, `onet.*`, the key names of `fer.face.mtcnn.MTCNN`,
and the result is checked by loading it into that model with strict key matching.

`--record-reference IMAGES...` additionally runs the reference implementation (facenet-pytorch's
own detect code, imported from an unzipped copy of the wheel given by `--reference-src`) on the named
images and stores boxes, scores and landmarks in tests/data/mtcnn_reference.json, against which
tests/test_face_mtcnn.py checks this project's port.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "fer" / "weights" / "mtcnn.safetensors"
REFERENCE_JSON = REPO / "tests" / "data" / "mtcnn_reference.json"
NETS = ("pnet", "rnet", "onet")


def read_state_dicts(wheel: Path) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    with zipfile.ZipFile(wheel) as zf:
        for net in NETS:
            raw = zf.read(f"facenet_pytorch/data/{net}.pt")
            state = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
            for key, value in state.items():
                tensors[f"{net}.{key}"] = value.detach().float().contiguous()
            print(f"{net}: {len(state)} tensors, sha256 {hashlib.sha256(raw).hexdigest()[:16]}...")
    return tensors


def convert(wheel: Path, out: Path = OUT) -> None:
    from safetensors.torch import save_file

    sys.path.insert(0, str(REPO))
    from fer.face.mtcnn import MTCNN

    tensors = read_state_dicts(wheel)
    MTCNN().load_state_dict(tensors, strict=True)  # fails loudly on any key or shape mismatch
    meta = {"source": f"{wheel.name} facenet_pytorch/data/{{pnet,rnet,onet}}.pt", "license": "MIT"}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata=meta)
    n = sum(t.numel() for t in tensors.values())
    print(f"wrote {out} ({n} parameters, {out.stat().st_size} bytes)")


def record_reference(src: Path, images: list[Path], out: Path = REFERENCE_JSON) -> None:
    """Boxes/scores/points of facenet-pytorch's MTCNN (default settings, keep_all) on each image."""
    import numpy as np
    from PIL import Image

    sys.path.insert(0, str(src))
    from facenet_pytorch.models.mtcnn import MTCNN as ReferenceMTCNN  # only here, never at run time

    ref = ReferenceMTCNN(keep_all=True)
    records = []
    for path in images:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        boxes, probs, points = ref.detect(rgb, landmarks=True)
        boxes = [] if boxes is None else np.asarray(boxes, dtype=float).round(3).tolist()
        probs = [] if boxes == [] else np.asarray(probs, dtype=float).round(6).tolist()
        points = [] if boxes == [] else np.asarray(points, dtype=float).round(3).tolist()
        records.append({"image": path.name, "shape": list(rgb.shape), "boxes": boxes, "scores": probs, "points": points})
        print(f"{path.name}: {len(boxes)} faces")
    doc = {
        "reference": "facenet-pytorch 2.6.0 MTCNN(keep_all=True).detect(landmarks=True), defaults: "
        "min_face_size=20, thresholds=[0.6, 0.7, 0.7], factor=0.709; torch " + torch.__version__,
        "images": records,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {out}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("wheel", type=Path, help="facenet_pytorch-*.whl downloaded with pip download --no-deps")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--record-reference", nargs="*", type=Path, default=None, metavar="IMAGE")
    p.add_argument("--reference-src", type=Path, help="folder holding the unzipped wheel (for --record-reference)")
    args = p.parse_args(argv)
    convert(args.wheel, args.out)
    if args.record_reference:
        if not args.reference_src:
            p.error("--record-reference needs --reference-src (the unzipped wheel)")
        record_reference(args.reference_src, args.record_reference)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
