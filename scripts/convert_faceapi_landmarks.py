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

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from convert_faceapi import PACKAGE, _t, dense_state, npm_pack, prepare_node_env, read_tfjs_weights  # noqa: E402

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


def record_reference(package: Path, scratch: Path, node_dir: Path | None = None) -> None:
    from PIL import Image

    env = prepare_node_env(package, node_dir or scratch / "tfjs")
    recorder = env / RECORDER.name
    recorder.write_text(RECORDER.read_text())
    args = []
    for name in INPUTS:
        rgb = np.asarray(Image.open(TEST_DATA / name).convert("RGB"), np.uint8)
        path = scratch / (Path(name).stem + ".u8")
        rgb.tofile(path)
        args.append(f"{path}:{rgb.shape[0]}:{rgb.shape[1]}")
    out = subprocess.run(["node", str(recorder), str(package), *args], cwd=env, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout[out.stdout.index("{"):])
    for rec, name in zip(result["records"], INPUTS):
        rec["input"] = name
    REFERENCE.write_text(json.dumps(result) + "\n")
    print(f"wrote {REFERENCE}: {result['runtime']}")


def self_check() -> None:
    """Compare the converted net (with this project's pre/post-processing) with the recording."""
    from PIL import Image

    from fer.face.faceapi_landmarks import landmarks68

    if not REFERENCE.is_file():
        print("no recorded reference yet; run with --record-reference")
        return
    for rec in json.loads(REFERENCE.read_text())["records"]:
        rgb = np.asarray(Image.open(TEST_DATA / rec["input"]).convert("RGB"), np.uint8)
        pts = landmarks68(rgb, [np.array([0, 0, rgb.shape[1], rgb.shape[0]], float)])[0]
        err = np.abs(pts - np.asarray(rec["points"])).max()
        print(f"{rec['input']}: max |point difference| vs original runtime = {err:.2e} px")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--package-dir", type=Path, help="an unpacked @vladmandic/face-api package (skips npm pack)")
    ap.add_argument("--record-reference", action="store_true", help="re-record tests/data/faceapi_landmarks_reference.json")
    ap.add_argument("--node-dir", type=Path, help="a folder to install tfjs into (or where it already is)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        package = args.package_dir or npm_pack(PACKAGE, scratch)
        convert(package)
        if args.record_reference:
            make_inputs()
            record_reference(package, scratch, args.node_dir)
    self_check()


if __name__ == "__main__":
    main()
