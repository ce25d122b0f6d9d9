"""Write the demo's licence-clean example photos into examples/ (small JPEGs, committed).

Source: scikit-image's `data.astronaut()` (Eileen Collins, NASA; public domain). Variants:
  astronaut.jpg            the photo as it is
  astronaut_two_faces.jpg  the photo and a smaller mirrored copy side by side (exercises the face picker)
  astronaut_<kind>.jpg     the photo with an occluder of `fer.occlusion` drawn on the detected face:
                           a surgical mask, sunglasses, a hand over the mouth (those registered)

Run: python scripts/make_examples.py [--out examples]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
KINDS = ("surgical_mask", "sunglasses", "hand_mouth")
QUALITY = 85


def two_faces(photo: np.ndarray) -> np.ndarray:
    """The photo and a 70 % mirrored copy on one canvas."""
    h, w = photo.shape[:2]
    small = np.asarray(Image.fromarray(photo[:, ::-1]).resize((int(w * 0.7), int(h * 0.7)), Image.Resampling.LANCZOS))
    canvas = np.full((h, w + small.shape[1], 3), 235, np.uint8)
    canvas[:, :w] = photo
    canvas[h - small.shape[0] :, w:] = small
    return canvas


def occluded_examples(photo: np.ndarray) -> dict[str, np.ndarray]:
    from fer import occlusion
    from fer.face import detect

    face = detect(photo)[0]
    available = set(occlusion.list_occluders())
    return {kind: occlusion.apply(photo, face, kind, severity=0.6, seed=0).image for kind in KINDS if kind in available}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "examples"))
    args = parser.parse_args(argv)
    from skimage import data

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    photo = np.ascontiguousarray(data.astronaut())
    images = {"astronaut": photo, "astronaut_two_faces": two_faces(photo)}
    images.update({f"astronaut_{kind}": img for kind, img in occluded_examples(photo).items()})
    for name, image in images.items():
        path = out / f"{name}.jpg"
        Image.fromarray(image).save(path, quality=QUALITY, optimize=True)
        print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}  {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
