#!/usr/bin/env python
"""Convert face-api's face detector (npm @vladmandic/face-api) to fer/weights/faceapi_ssd_mobilenetv1.safetensors.

One-off; needs `npm` (registry access) unless --package-dir points at an unpacked package.

    python scripts/convert_faceapi_ssd.py                    # fetch, convert, self-check
    python scripts/convert_faceapi_ssd.py --record-reference # also re-record tests/data/faceapi_ssd_reference.json
                                                             # with face-api + tfjs in node

The detector's tensors are kept as face-api ships them: 8-bit codes with each tensor's scale and
minimum (float64, as the manifest's JSON numbers), so the file is 5.6 MB instead of 22 MB and
expands to exactly the float32 values TensorFlow.js's `decodeWeights` makes (value = q * scale + min).
Names and layouts stay TensorFlow's; `fer.face.faceapi_ssd.to_state_dict` lays them out for PyTorch.
The int32 constants of the exported graph (slice sizes, axes) are not used by face-api and are left out.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from convert_faceapi import (  # noqa: E402
    PACKAGE,
    converter_main,
    read_tfjs_weights,
    recorded,
    run_recorder,
    tfjs_entries,
)

MODEL = "ssd_mobilenetv1_model"
OUT = REPO / "fer" / "weights" / "faceapi_ssd_mobilenetv1.safetensors"
TEST_DATA = REPO / "tests" / "data"
RECORDER = TEST_DATA / "faceapi_ssd_recorder.mjs"
REFERENCE = TEST_DATA / "faceapi_ssd_reference.json"
INPUTS = ("astronaut_wide", "astronaut_tall", "t1")


def quantised_tensors(package: Path) -> dict[str, np.ndarray]:
    """The manifest's float tensors as stored: uint8 codes + `.scale` / `.min` (float64), or float32."""
    out: dict[str, np.ndarray] = {}
    for spec, raw in tfjs_entries(package, MODEL):
        if spec["dtype"] != "float32":
            continue  # graph constants
        out[spec["name"]] = raw
        quant = spec.get("quantization")
        if quant:
            out[spec["name"] + ".scale"] = np.array(quant["scale"], np.float64)
            out[spec["name"] + ".min"] = np.array(quant["min"], np.float64)
    return out


def convert(package: Path) -> None:
    from safetensors.numpy import save_file

    from fer.face.faceapi_ssd import FaceApiSSD, read_weights, to_state_dict

    tensors = quantised_tensors(package)
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((package / "model").glob(f"{MODEL}*"))}
    meta = {"source": f"npm {PACKAGE} model/{MODEL}.bin", "sha256": json.dumps(digest), "licence": "MIT",
            "format": "uint8 codes with <name>.scale and <name>.min (value = q * scale + min), TensorFlow layouts"}
    save_file(tensors, str(OUT), metadata=meta)
    decoded, reference = read_weights(OUT), read_tfjs_weights(package, MODEL)
    for name, value in decoded.items():  # the same floats as the tfjs decoding
        if not np.array_equal(value, reference[name]):
            raise SystemExit(f"{name}: decoded values differ from tf.io.decodeWeights'")
    FaceApiSSD().load_state_dict(to_state_dict(decoded), strict=True)  # every tensor used, shapes right
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {sum(v.size for k, v in decoded.items())} values)")
    for name, h in digest.items():
        print(f"  {name} sha256 {h}")


def inputs() -> list[tuple[str, np.ndarray]]:
    """The fixed photos: the astronaut cut wider than tall and taller than wide (scikit-image), and
    insightface's group photo t1.jpg when installed."""
    from skimage import data

    from fer.occlusion.sheet import sample_photos

    a = data.astronaut()
    shots = [("astronaut_wide", a[:400]), ("astronaut_tall", a[:, 100:400])]
    shots += [(name, rgb) for name, rgb in sample_photos() if name == "t1"]
    return [(n, np.ascontiguousarray(rgb)) for n, rgb in shots]


def pixels_digest(rgb: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(rgb, np.uint8).tobytes()).hexdigest()[:16]


def make_inputs() -> None:
    pass  # the inputs come from installed packages (see `inputs`)


def record_reference(package: Path, env: Path, scratch: Path) -> None:
    """Run face-api's own SsdMobilenetv1 (tfjs in node, in `env`) over the fixed photos."""
    args, names = [], []
    for name, rgb in inputs():
        path = scratch / f"{name}.u8"
        rgb.tofile(path)
        args.append(f"{path}:{rgb.shape[0]}:{rgb.shape[1]}")
        names.append(name)
    run_recorder(package, env, RECORDER, args, names, REFERENCE)
    result = json.loads(REFERENCE.read_text())
    for rec, (_, rgb) in zip(result["records"], inputs()):
        rec["pixels_sha256"] = pixels_digest(rgb)
    REFERENCE.write_text(json.dumps(result) + "\n")


def self_check() -> None:
    """Compare the converted detector (with this project's pre/post-processing) with the recording."""
    from fer.face.faceapi_ssd import detect, raw_outputs

    shots = dict(inputs())
    for rec in recorded(REFERENCE):
        rgb = shots[rec["input"]]
        boxes, scores, _ = raw_outputs(rgb)
        idx = np.asarray(rec["top_indices"])
        found = detect(rgb)
        box_err = max((np.abs(b - np.asarray(r["box"])).max() for (b, _), r in zip(found, rec["detections"])),
                      default=0.0)
        print(f"{rec['input']}: max |score diff| {np.abs(scores[idx] - rec['top_scores']).max():.2e}, "
              f"max |box diff| {np.abs(boxes[idx] - rec['top_boxes']).max():.2e} (fractions); "
              f"{len(found)} faces (face-api {len(rec['detections'])}), max |box diff| {box_err:.2e} px")


def main() -> None:
    converter_main(__doc__, REFERENCE, convert, make_inputs, record_reference, self_check)


if __name__ == "__main__":
    main()
