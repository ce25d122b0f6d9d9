"""Where a sweep's models and aligned crops come from (used by the CLI; handy in notebooks).

* models: a registered name or a checkpoint path, through `fer.predictor.get_model` (safe loading,
  cached).
* crops: a `fer.data` data set (its images are taken as aligned crops and resized; occluders use
  the canonical template), SynthFER with each face's own landmarks, or a folder of unlabelled
  photos (largest face detected; the sweep then uses pseudo-labels). Photos become *scenes*: a
  window of the photo around the face (`face_scene`), on which the occluders are drawn from the
  face's landmarks before each model cuts its own crop from it with its crop recipe.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fer.errors import DatasetError, InputError
from fer.robustness.samples import Samples

SCENE_CONTEXT = 3.0  # a scene is this many times the longer side of the face's detection box
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")


def load_model(spec: str, device: str = "cpu"):
    from fer.predictor import get_model

    return get_model(str(spec), device)


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    import cv2

    if img.shape[0] == size and img.shape[1] == size:
        return np.ascontiguousarray(img)
    interp = cv2.INTER_AREA if img.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(img), (size, size), interpolation=interp)


def synthfer_samples(split: str = "test", n: int = 700, crop_size: int = 112, seed: int = 0) -> Samples:
    """`n` SynthFER images of `split`, rendered at `crop_size`, with their own landmarks."""
    from fer.data.synthetic import SPLITS, SynthFER

    if split not in SPLITS:
        raise DatasetError(f"SynthFER has splits {list(SPLITS)}, not {split!r}")
    gen = SynthFER(crop_size, seed)
    items = [gen.sample(split, i) for i in range(int(n))]
    return Samples(
        crops=np.stack([s.image for s in items]) if items else np.zeros((0, crop_size, crop_size, 3), np.uint8),
        landmarks=np.stack([s.landmarks for s in items]) if items else None,
        labels=np.array([s.label for s in items], np.int64),
        class_names=gen.class_names,
        source=f"SynthFER (synthetic) {split}, seed {seed}, {crop_size} px",
        names=[f"synthfer/{split}/{i:06d}" for i in range(int(n))],
    )


def dataset_samples(dataset, crop_size: int = 112, limit: int | None = None) -> Samples:
    """A `fer.data.LabeledSet` of aligned face images as a stack of `crop_size` crops."""
    n = len(dataset) if limit is None else min(len(dataset), int(limit))
    crops = np.zeros((n, crop_size, crop_size, 3), np.uint8)
    for i in range(n):
        crops[i] = _resize(dataset.image(i), crop_size)
    return Samples(
        crops=crops,
        landmarks=None,
        labels=np.asarray(dataset.labels[:n], np.int64),
        class_names=tuple(dataset.class_names),
        source=f"{dataset.name} {dataset.split}",
        names=list(dataset.keys[:n]),
    )


def face_scene(rgb: np.ndarray, face, size: int, context: float = SCENE_CONTEXT):
    """(size×size window of `rgb` centred on `face`'s box, black outside the photo; the face in the
    window's coordinates). At the photo's own scale when the window holds `context` box sides; larger
    faces are shrunk until it does. Only a shift (and maybe a scale): every crop recipe cuts the same
    face from the window as from the photo, exactly so at the photo's scale, except where its cut
    runs past the photo's border (black here, clipped there) and `fer_box`'s padding grey (taken from
    the window's bottom rows)."""
    from fer.face.align import transform_points
    from fer.face.types import Face

    x1, y1, x2, y2 = (float(v) for v in face.box)
    side = max(int(size), int(np.ceil(context * max(x2 - x1, y2 - y1, 1.0))))
    x0, y0 = int(np.floor((x1 + x2 - side) / 2)), int(np.floor((y1 + y2 - side) / 2))
    window = np.zeros((side, side, 3), np.uint8)
    h, w = rgb.shape[:2]
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if sx1 > sx0 and sy1 > sy0:
        window[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    scene = _resize(window, size)
    k = size / side
    matrix = np.array([[k, 0, (0.5 - x0) * k - 0.5], [0, k, (0.5 - y0) * k - 0.5]])  # pixel-centre convention
    corners = transform_points(np.array([[x1, y1], [x2, y2]]), matrix)
    lm68 = None if face.landmarks68 is None else transform_points(face.landmarks68, matrix)
    return scene, Face(corners.reshape(4), float(face.score), transform_points(face.landmarks, matrix), lm68)


def photo_samples(
    folder: str | Path,
    crop_size: int = 112,
    limit: int | None = None,
    detector: str = "auto",
    scene_size: int | None = None,
) -> tuple[Samples, list[str]]:
    """The largest face of each photo in `folder` as a scene (`face_scene`, `scene_size` pixels,
    default 4 × `crop_size`, at most 1024); returns (samples, skipped messages). Each model of a sweep cuts its
    own crop from the (occluded) scene with its crop recipe.

    Photos that cannot be read, or where no face is found, are skipped and listed.
    """
    from fer.face import detect
    from fer.io import load_image

    root = Path(folder)
    if not root.is_dir():
        raise DatasetError(f"not a folder of photos: {root}")
    paths = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
    if not paths:
        raise DatasetError(f"no photos ({', '.join(PHOTO_SUFFIXES)}) in {root}")
    size = int(scene_size or min(1024, 4 * crop_size))
    if not 16 <= size <= 4096:
        raise InputError(f"the scene size must be between 16 and 4096 pixels, got {size}")
    scenes, faces, names, skipped = [], [], [], []
    for p in paths:
        if limit is not None and len(scenes) >= limit:
            break
        try:
            rgb = load_image(p)
        except InputError as exc:
            skipped.append(f"{p.name}: {exc}")
            continue
        found = detect(rgb, backend=detector, max_faces=1)
        if not found:
            skipped.append(f"{p.name}: no face found")
            continue
        scene, face = face_scene(rgb, found[0], size)
        scenes.append(scene)
        faces.append(face)
        names.append(str(p.relative_to(root)))
    if not scenes:
        raise DatasetError(f"no face found in any photo of {root} ({len(skipped)} skipped)")
    lm68 = np.stack([f.landmarks68 for f in faces]) if all(f.landmarks68 is not None for f in faces) else None
    samples = Samples(np.stack(scenes), np.stack([f.landmarks for f in faces]), None, (), lm68,
                      f"photos in {root} (each model cuts its own crop)", names, faces)
    return samples, skipped
