"""MTCNN's false positives and misses on the real photos available offline, with and without the
68-point disagreement filter (`fer.face.detect(..., max_disagreement=...)`, docs/face.md).

Photos and how many faces each holds (counted by eye): face-api's demo sample1..6.jpg (when its npm
package is in ~/.cache/alfj-fer/faceapi-node, see faceapi_agreement.py), insightface's t1.jpg and
Tom_Hanks_54745.png, scikit-image's astronaut and camera, matplotlib's grace_hopper.jpg, and photos
without a face from scikit-image and gradio's sample media; gradio's Groot (a drawn face) is reported
on its own. A photo's false positives are the detections beyond its face count and its misses the
faces short of it (counts, not box matches; with --per-face each detection's score and disagreement are
printed, so the count can be checked; the summary takes a photo's n best-agreeing detections as its faces).

    PYTHONPATH=. python benchmarks/detection_precision.py [--per-face] [--threshold 0.4]
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


def main(threshold: float = 0.4, per_face: bool = False) -> list[dict]:
    from _timing import row

    from fer.face import detect
    from fer.face.faceapi_landmarks import disagreement

    groups: dict[str, list[int]] = {}  # group -> [photos, faces, found, fp, fp filtered, missed filtered]
    real, false = [], []
    for group, name, rgb, n in photos():
        faces = detect(rgb, backend="mtcnn", max_disagreement=None)
        d = sorted(disagreement(f.landmarks, f.landmarks68) for f in faces)
        kept = sum(v <= threshold for v in d)
        g = groups.setdefault(group, [0] * 6)
        for k, v in enumerate((1, n, min(n, len(d)), max(0, len(d) - n), max(0, kept - n), max(0, n - kept))):
            g[k] += v
        real += d[:n]  # the n detections the two landmark models agree on best are taken as the faces
        false += d[n:]
        if per_face:
            print(f"{name}: {n} faces, {len(d)} found, {kept} kept; score/disagreement: "
                  + ", ".join(f"{f.score:.3f}/{disagreement(f.landmarks, f.landmarks68):.3f}" for f in faces))
    rows = []
    for group, (k, n, found, fp, fp_kept, missed) in groups.items():
        print(f"{group:14s} {k:2d} photos, {n:2d} faces: found {found}, false positives {fp} -> {fp_kept} with "
              f"max_disagreement {threshold}, missed with it {missed}")
        rows += [row("detection_precision", f"{group}: false positives with max_disagreement {threshold}", fp_kept,
                     "0"),
                 row("detection_precision", f"{group}: faces missed with max_disagreement {threshold}", missed, "0")]
    if real and false:
        print(f"disagreement: faces <= {max(real):.3f} ({len(real)}), the detections beyond the counts >= "
              f"{min(false):.3f} ({len(false)})")
    return rows


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threshold", type=float, default=0.4, help="max_disagreement to count with (default 0.4)")
    p.add_argument("--per-face", action="store_true", help="one line per photo: each detection's score/disagreement")
    args = p.parse_args()
    main(args.threshold, args.per_face)
