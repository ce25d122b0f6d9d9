#!/usr/bin/env python
"""Convert face-api's 68-point landmark net (npm @vladmandic/face-api) to fer/weights/faceapi_landmark68.safetensors.

One-off; needs `npm` (registry access) unless --package-dir points at an unpacked package.

    python scripts/convert_faceapi_landmarks.py                    # fetch, convert, self-check
    python scripts/convert_faceapi_landmarks.py --record-reference # also re-record
                                                                   # tests/data/faceapi_landmarks_reference.json
                                                                   # with face-api + tfjs in node

Same decoding and layout rules as scripts/convert_faceapi.py (the feature extractor is the same
four dense blocks); the fc layer (256 -> 136, interleaved x, y of the 68 points) is transposed only.
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
    _t,
    converter_main,
    dense_state,
    read_tfjs_weights,
    recorded,
    run_recorder,
)

MODEL = "face_landmark_68_model"
OUT = REPO / "fer" / "weights" / "faceapi_landmark68.safetensors"
TEST_DATA = REPO / "tests" / "data"
RECORDER = TEST_DATA / "faceapi_landmarks_recorder.mjs"
REFERENCE = TEST_DATA / "faceapi_landmarks_reference.json"
# Face crops as face-api's extractFaceTensors would give them: taller than wide, wider than tall
# (odd difference: the padding is uneven), and seeded noise.
INPUTS = ("faceapi_lm_input_tall.png", "faceapi_lm_input_wide.png", "faceapi_input_noise.png")


def convert(package: Path) -> None:
    from safetensors.torch import save_file

    from fer.face.faceapi_landmarks import FaceApiLandmarkNet

    tf = read_tfjs_weights(package, MODEL)
    state = dense_state(tf)
    state["fc.weight"] = _t(tf["fc/weights"].T)
    state["fc.bias"] = _t(tf["fc/bias"])
    FaceApiLandmarkNet().load_state_dict(state, strict=True)  # every tensor used, shapes right
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((package / "model").glob(f"{MODEL}*"))}
    meta = {"source": f"npm {PACKAGE} model/{MODEL}.bin", "sha256": json.dumps(digest), "licence": "MIT"}
    save_file({k: v.contiguous() for k, v in state.items()}, str(OUT), metadata=meta)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {sum(v.numel() for v in state.values())} parameters)")
    for name, h in digest.items():
        print(f"  {name} sha256 {h}")


def make_inputs() -> None:
    from PIL import Image
    from skimage import data

    a = data.astronaut()
    Image.fromarray(a[30:200, 160:295]).save(TEST_DATA / INPUTS[0])  # 170 x 135
    Image.fromarray(a[60:181, 150:300]).save(TEST_DATA / INPUTS[1])  # 121 x 150


def record_reference(package: Path, env: Path, scratch: Path) -> None:
    """Run face-api's own FaceLandmark68Net (tfjs in node, in `env`) over the fixed inputs."""
    from PIL import Image

    args = []
    for name in INPUTS:
        rgb = np.asarray(Image.open(TEST_DATA / name).convert("RGB"), np.uint8)
        path = scratch / (Path(name).stem + ".u8")
        rgb.tofile(path)
        args.append(f"{path}:{rgb.shape[0]}:{rgb.shape[1]}")
    run_recorder(package, env, RECORDER, args, INPUTS, REFERENCE)


def self_check() -> None:
    """Compare the converted net (with this project's pre/post-processing) with the recording."""
    from PIL import Image

    from fer.face.faceapi_landmarks import landmarks68

    for rec in recorded(REFERENCE):
        rgb = np.asarray(Image.open(TEST_DATA / rec["input"]).convert("RGB"), np.uint8)
        pts = landmarks68(rgb, [np.array([0, 0, rgb.shape[1], rgb.shape[0]], float)])[0]
        err = np.abs(pts - np.asarray(rec["points"])).max()
        print(f"{rec['input']}: max |point difference| vs original runtime = {err:.2e} px")


def main() -> None:
    converter_main(__doc__, REFERENCE, convert, make_inputs, record_reference, self_check)


if __name__ == "__main__":
    main()
