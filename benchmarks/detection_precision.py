"""MTCNN's (or face-api's detector's) false positives and misses on the real photos available offline,
with and without the landmark disagreement filter (`fer.face.detect(..., max_disagreement=...)`,
docs/face.md; for face-api's detector also O-Net's face probability, and MTCNN when nothing is left).

Photos and how many faces each holds (counted by eye): face-api's demo sample1..6.jpg (when its npm
package is in ~/.cache/alfj-fer/faceapi-node, see faceapi_agreement.py), insightface's t1.jpg and
Tom_Hanks_54745.png, scikit-image's astronaut and camera, matplotlib's grace_hopper.jpg, and photos
without a face from scikit-image and gradio's sample media; gradio's Groot (a drawn face) is reported
on its own. A photo's false positives are the detections beyond its face count and its misses the
faces short of it (counts, not box matches; with --per-face each detection's score and disagreement are
printed, so the count can be checked; the summary takes a photo's n best-agreeing detections as its faces).

    PYTHONPATH=. python benchmarks/detection_precision.py [--per-face] [--threshold 0.4] [--backend faceapi_ssd]
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np

FACEAPI_SAMPLES = {"sample1.jpg": 3, "sample2.jpg": 3, "sample3.jpg": 3, "sample4.jpg": 4, "sample5.jpg": 5,
                   "sample6.jpg": 4}
SKIMAGE_NO_FACE = ("brick", "cat", "chelsea", "clock", "coffee", "coins", "colorwheel", "grass", "gravel", "horse",
                   "hubble_deep_field", "logo", "moon", "rocket", "text")
GRADIO_NO_FACE = ("bus.png", "cheetah.jpg", "cheetah1.jpg", "lion.jpg", "tower.jpg")


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    return Path(next(iter(spec.submodule_search_locations))) if spec and spec.submodule_search_locations else None


def photos() -> list[tuple[str, str, np.ndarray, int]]:
    """(group, name, RGB photo, faces in it)."""
    from skimage import data

    from fer.io import load_image
    from fer.occlusion.sheet import sample_photos

    out = []
    demo = Path.home() / ".cache" / "alfj-fer" / "faceapi-node" / "package" / "demo"
    for name, n in FACEAPI_SAMPLES.items():
        if (demo / name).is_file():
            out.append(("face-api demo", name, load_image(demo / name), n))
    counts = {"astronaut": 1, "Tom_Hanks_54745": 1, "t1": 6}
    for name, rgb in sample_photos():
        out.append(("t1 (group)" if name == "t1" else "portraits", name, rgb, counts[name]))
    out.append(("portraits", "camera", np.repeat(data.camera()[..., None], 3, 2), 1))
    mpl = _package_dir("matplotlib")
    if mpl is not None and (mpl / "mpl-data" / "sample_data" / "grace_hopper.jpg").is_file():
        out.append(("portraits", "grace_hopper", load_image(mpl / "mpl-data" / "sample_data" / "grace_hopper.jpg"), 1))
    for name in SKIMAGE_NO_FACE:
        img = getattr(data, name)()
        img = np.repeat(img[..., None], 3, 2) if img.ndim == 2 else img[..., :3]
        out.append(("no face", name, np.ascontiguousarray(img), 0))
    media = _package_dir("gradio")
    media = media / "media_assets" / "images" if media is not None else None
    for name in GRADIO_NO_FACE:
        if media is not None and (media / name).is_file():
            out.append(("no face", name, load_image(media / name), 0))
    if media is not None and (media / "groot.jpeg").is_file():
        out.append(("drawn face", "groot.jpeg", load_image(media / "groot.jpeg"), 1))
    return out


def _checks(rgb: np.ndarray, backend: str) -> tuple[list, list[tuple[float, float, float]]]:
    """(every candidate, its (score, disagreement, check probability)) before any filter. MTCNN: its 5 points
    against the 68-point net's (probability 1: no second check); face-api's detector: O-Net's 5 points and
    face probability on its box (`fer.face.detect` for "faceapi_ssd")."""
    from fer.face import detect
    from fer.face.detect import onet_check
    from fer.face.faceapi_landmarks import disagreement

    if backend == "mtcnn":
        faces = detect(rgb, backend="mtcnn", max_disagreement=None)
        return faces, [(f.score, disagreement(f.landmarks, f.landmarks68), 1.0) for f in faces]
    faces = [f for f in detect(rgb, backend=backend, max_disagreement=None) if f.detector == backend]
    rows = []
    for f in faces:
        probability, dis = onet_check(rgb, f)
        rows.append((f.score, dis, probability))
    return faces, rows


def main(threshold: float = 0.4, per_face: bool = False, backend: str = "mtcnn") -> list[dict]:
    from _timing import row

    from fer.face import detect
    from fer.face.detect import MIN_CHECK_SCORE

    groups: dict[str, list[int]] = {}  # group -> [photos, faces, found, fp, fp filtered, missed filtered]
    real, false = [], []
    for group, name, rgb, n in photos():
        faces, checks = _checks(rgb, backend)
        d = sorted(dis if p >= MIN_CHECK_SCORE else max(dis, 10.0) for _, dis, p in checks)
        if backend == "mtcnn":
            kept = sum(v <= threshold for v in d)
        else:  # what detect returns: the checked faces, else MTCNN's
            kept = len(detect(rgb, backend=backend, max_disagreement=threshold))
        g = groups.setdefault(group, [0] * 6)
        for k, v in enumerate((1, n, min(n, len(d)), max(0, len(d) - n), max(0, kept - n), max(0, n - kept))):
            g[k] += v
        real += d[:n]  # the n detections the two landmark models agree on best are taken as the faces
        false += d[n:]
        if per_face:
            print(f"{name}: {n} faces, {len(d)} found, {kept} kept; score/disagreement/check: "
                  + ", ".join(f"{s:.3f}/{dis:.3f}/{p:.3f}" for s, dis, p in checks))
    rows = []
    label = "" if backend == "mtcnn" else f" ({backend})"
    for group, (k, n, found, fp, fp_kept, missed) in groups.items():
        print(f"{group:14s} {k:2d} photos, {n:2d} faces: found {found}, false positives {fp} -> {fp_kept} with "
              f"max_disagreement {threshold}, missed with it {missed}")
        rows += [row("detection_precision", f"{group}{label}: false positives with max_disagreement {threshold}",
                     fp_kept, "0"),
                 row("detection_precision", f"{group}{label}: faces missed with max_disagreement {threshold}",
                     missed, "0")]
    if real and false:
        print(f"disagreement (10 = failed O-Net's check): faces <= {max(real):.3f} ({len(real)}), the detections "
              f"beyond the counts >= {min(false):.3f} ({len(false)})")
    return rows


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threshold", type=float, default=0.4, help="max_disagreement to count with (default 0.4)")
    p.add_argument("--per-face", action="store_true", help="one line per photo: each detection's score/disagreement")
    p.add_argument("--backend", choices=("mtcnn", "faceapi_ssd"), default="mtcnn", help="the detector measured")
    args = p.parse_args()
    main(args.threshold, args.per_face, args.backend)
