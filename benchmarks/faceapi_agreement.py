"""Agreement with face-api's own pipeline: its detector + 68-point net + expression net, run by
face-api itself in node (TensorFlow.js pure-JS CPU backend), against ours (`fer.Predictor` with
`faceapi_expression`: its own detector, face-api's SSD ported, or MTCNN with its box mapped; the ported
68-point net, the `faceapi` crop recipe, the ported expression net) on the same pixels of real photos
that ship in packages.

Prints: faces found by each, faces matched (box IoU >= --min-iou), top-1 agreement and the
probability differences on matched faces, the 68-point error in inter-ocular distances (face-api's
points as reference), and, to tell landmark error from everything else, our crop recipe + net fed
face-api's own 68 points. Goal (issue 13): top-1 agreement >= 90 %, 68-point error <= 0.06 IOD.

    PYTHONPATH=. python benchmarks/faceapi_agreement.py [--package-dir DIR] [--work DIR] [--per-face]

Needs node and npm (the first run fetches `@vladmandic/face-api` and `@tensorflow/tfjs` with npm
into --work, default ~/.cache/alfj-fer/faceapi-node; later runs are offline). Without them it
prints why and exits 0. Photos: face-api's demo/sample1..6.jpg (npm package, MIT), scikit-image's
astronaut (public domain), insightface's t1.jpg and Tom_Hanks_54745.png (when installed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

RUNNER = Path(__file__).resolve().parent / "faceapi_pipeline.mjs"
DEFAULT_WORK = Path.home() / ".cache" / "alfj-fer" / "faceapi-node"
FACEAPI_TO_CANONICAL = {"neutral": "neutral", "happy": "happiness", "sad": "sadness", "angry": "anger",
                        "fearful": "fear", "disgusted": "disgust", "surprised": "surprise"}


def photos(package: Path) -> list[tuple[str, np.ndarray]]:
    from fer.io import load_image
    from fer.occlusion.sheet import sample_photos

    return [(p.name, load_image(p)) for p in sorted((package / "demo").glob("sample*.jpg"))] + sample_photos()


def faceapi_run(package: Path, env: Path, shots: list[tuple[str, np.ndarray]], timeout: float) -> dict:
    """face-api's results on `shots`; kept in env keyed by the photos' pixels, the package and the runner,
    so a rerun that changes only our side does not wait for node again."""
    from fer.atomic import atomic_write_bytes

    key = hashlib.sha256(RUNNER.read_bytes() + (package / "package.json").read_bytes())
    for _, rgb in shots:
        key.update(np.ascontiguousarray(rgb).tobytes())
    cached = env / f"results-{key.hexdigest()[:16]}.json"
    if cached.is_file():
        print(f"face-api's results from {cached}")
        return json.loads(cached.read_text())
    shutil.copy(RUNNER, env / RUNNER.name)
    args = []
    for k, (_, rgb) in enumerate(shots):
        raw = env / f"photo{k}.u8"
        np.ascontiguousarray(rgb).tofile(raw)
        args.append(f"{raw}:{rgb.shape[0]}:{rgb.shape[1]}")
    out = subprocess.run(["node", RUNNER.name, str(package), *args], cwd=env, check=True, capture_output=True,
                         text=True, timeout=timeout)
    result = json.loads(out.stdout[out.stdout.index("{"):])
    atomic_write_bytes(cached, json.dumps(result).encode())
    return result


def _probs(expressions: dict, order: list[str]) -> np.ndarray:
    by_name = {FACEAPI_TO_CANONICAL[k]: v for k, v in expressions.items()}
    return np.array([by_name[c] for c in order], np.float64)


def compare(predictor, name: str, rgb: np.ndarray, theirs: list[dict], min_iou: float) -> tuple[int, list[dict]]:
    """(faces we found, one record per matched face)."""
    from fer.face.compare import landmark_error, match_boxes
    from fer.face.landmarks68 import summary5
    from fer.face.types import Face

    ours = predictor(rgb)
    order = list(predictor.config.class_names)
    rows = []
    for i, j, iou in match_boxes([p.box for p in ours], [f["box"] for f in theirs], min_iou):
        mine, ref = ours[i], theirs[j]
        pts = np.asarray(ref["landmarks68"], np.float64)
        their_face = Face(np.asarray(ref["box"], np.float64), float(ref["score"]), summary5(pts), pts)
        on_their_points = predictor.predict_face(rgb, their_face)
        rows.append({
            "photo": name, "ours": i + 1, "theirs": j + 1, "iou": iou,
            "p_ours": np.array([mine.probs[c] for c in order]), "p_theirs": _probs(ref["expressions"], order),
            "p_their_points": np.array([on_their_points.probs[c] for c in order]), "classes": order,
            "lm_error": (None if mine.face.landmarks68 is None
                         else landmark_error(mine.face.landmarks68, pts)),
        })
    return len(ours), rows


def report(predictor, shots: list[tuple[str, np.ndarray]], result: dict, args) -> None:
    """Our pipeline with `predictor` against face-api's recorded `result` on `shots`, printed."""
    from fer.face.compare import agreement

    found_ours = found_theirs = 0
    rows = []
    print(f"\n== ours: {predictor.config.name}, detector {predictor.detector}, crop "
          f"{predictor.config.crop_recipe().recipe}")
    for (name, rgb), res in zip(shots, result["results"]):
        n, matched = compare(predictor, name, rgb, res["faces"], args.min_iou)
        found_ours += n
        found_theirs += len(res["faces"])
        rows += matched
        print(f"{name}: {len(res['faces'])} faces by face-api, {n} by ours, {len(matched)} matched")
    print(f"faces found: face-api {found_theirs}, ours {found_ours}; matched {len(rows)} (IoU >= {args.min_iou})")
    if not rows:
        return
    theirs = np.stack([r["p_theirs"] for r in rows])
    for label, key in (("whole pipeline", "p_ours"), ("our crop + net on face-api's 68 points", "p_their_points")):
        a = agreement(np.stack([r[key] for r in rows]), theirs)
        print(f"{label}: top-1 agreement {a['top1']:.1%} ({round(a['top1'] * a['n'])}/{a['n']}), mean max |dp| "
              f"{a['max_prob_diff']:.4f}, mean |dp| {a['mean_prob_diff']:.4f}")
    errs = np.array([r["lm_error"] for r in rows if r["lm_error"] is not None])
    if len(errs):
        print(f"68-point error vs face-api's: mean {errs.mean():.4f} IOD, median {np.median(errs):.4f}, "
              f"max {errs.max():.4f} ({len(errs)} faces)")
    if args.per_face:
        for r in rows:
            cls = r["classes"]
            print(f"  {r['photo']} ours#{r['ours']} theirs#{r['theirs']} IoU {r['iou']:.2f}: face-api "
                  f"{cls[r['p_theirs'].argmax()]} {r['p_theirs'].max():.3f}, ours {cls[r['p_ours'].argmax()]} "
                  f"{r['p_ours'].max():.3f}, on their points {cls[r['p_their_points'].argmax()]}; "
                  f"68-pt error {r['lm_error'] if r['lm_error'] is None else round(r['lm_error'], 4)} IOD")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--package-dir", type=Path, help="an unpacked @vladmandic/face-api 1.7.15 (skips npm pack)")
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK, help="folder for the node environment")
    ap.add_argument("--min-iou", type=float, default=0.3, help="box overlap for two faces to be one (default 0.3)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed for face-api's run")
    ap.add_argument("--per-face", action="store_true", help="print one line per matched face")
    ap.add_argument("--detectors", default="auto,mtcnn",
                    help="our detectors to compare, comma-separated (default auto,mtcnn: the model's own, face-api's "
                    "detector, then MTCNN with its box mapped)")
    args = ap.parse_args()
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        print(f"skipped: {' and '.join(missing)} not found; face-api's own pipeline runs in node")
        return 0
    from convert_faceapi import PACKAGE, npm_pack, prepare_node_env

    from fer import Predictor

    try:
        args.work.mkdir(parents=True, exist_ok=True)
        package = args.package_dir or args.work / "package"
        if not (package / "model").is_dir():
            package = npm_pack(PACKAGE, args.work)
        env = prepare_node_env(package, args.work / "tfjs")
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"skipped: face-api or tfjs could not be installed with npm (offline?): {exc}")
        return 0
    shots = photos(package)
    result = faceapi_run(package, env, shots, args.timeout)
    print(f"face-api: {result['runtime']}")
    for detector in args.detectors.split(","):
        report(Predictor("faceapi_expression", detector=detector.strip()), shots, result, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
