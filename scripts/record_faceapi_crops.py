#!/usr/bin/env python
"""Record the crops face-api's own code cuts for given 68-point landmarks (tests/data/faceapi_crops.*).

One-off; needs node + npm (fetches @vladmandic/face-api and @tensorflow/tfjs into a temporary folder).

    python scripts/record_faceapi_crops.py [--package-dir DIR]

On the astronaut photo (scikit-image, public domain) and three landmark sets — the 68 points our
pipeline gives the face, the same shape moved over the top-left corner (the box is clipped and
zero-padded), and squeezed sideways (a tall box, padded left and right) — face-api's code runs
`FaceLandmarks68.align()` -> `extractFaceTensors` -> `toBatchTensor(112, true)` and its expression
net. The crops (rounded to uint8, one PNG strip) and the net's probabilities are written beside
the landmarks; tests/test_face_crop.py checks `fer.face.crop`'s `faceapi` recipe against them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

TEST_DATA = REPO / "tests" / "data"
RECORDER = TEST_DATA / "faceapi_crop_recorder.mjs"
OUT_JSON = TEST_DATA / "faceapi_crops.json"
OUT_PNG = TEST_DATA / "faceapi_crops.png"


def landmark_sets(photo: np.ndarray) -> list[np.ndarray]:
    from fer.face import detect

    pts = detect(photo, backend="mtcnn")[0].landmarks68
    centre = pts.mean(0)
    corner = pts - pts.min(0) - (12.0, 20.0)  # the padded box runs past the photo's top-left corner
    squeezed = (pts - centre) * (0.6, 1.0) + centre
    return [pts, corner, squeezed]


def main() -> None:
    from convert_faceapi import PACKAGE, node_env, npm_pack
    from PIL import Image
    from skimage import data

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--package-dir", type=Path, help="an unpacked @vladmandic/face-api package (skips npm pack)")
    args = ap.parse_args()
    photo = data.astronaut()
    sets = landmark_sets(photo)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        package = args.package_dir or npm_pack(PACKAGE, scratch)
        env = node_env(package, scratch)
        (env / RECORDER.name).write_text(RECORDER.read_text())
        photo.tofile(scratch / "photo.u8")
        (scratch / "landmarks.json").write_text(json.dumps([p.tolist() for p in sets]))
        cmd = ["node", RECORDER.name, str(package), str(scratch / "photo.u8"), str(photo.shape[1]), str(photo.shape[0]),
               str(scratch / "landmarks.json")]
        out = subprocess.run(cmd, cwd=env, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout[out.stdout.index("{"):])
    crops = [np.asarray(r.pop("crop"), np.float32).reshape(112, 112, 3) for r in result["records"]]
    for rec, pts, crop in zip(result["records"], sets, crops):
        rec["landmarks68"] = np.round(pts, 4).tolist()
        rec["crop_fraction_max"] = float(np.abs(crop - np.rint(crop)).max())
    result["photo"] = "skimage.data.astronaut()"
    Image.fromarray(np.hstack([np.clip(np.rint(c), 0, 255).astype(np.uint8) for c in crops])).save(OUT_PNG)
    OUT_JSON.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {OUT_JSON} and {OUT_PNG}: {result['runtime']}")


if __name__ == "__main__":
    main()
