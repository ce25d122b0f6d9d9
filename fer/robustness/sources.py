"""Where a sweep's models and aligned crops come from (used by the CLI; handy in notebooks).

* models: a registered name or a checkpoint path, through `fer.predictor.get_model` (safe loading,
  cached).
* crops: a `fer.data` data set (its images are taken as aligned crops and resized; occluders use
  the canonical template), SynthFER with each face's own landmarks, or a folder of unlabelled
  photos (largest face detected and aligned; the sweep then uses pseudo-labels).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fer.errors import DatasetError, InputError
from fer.robustness.samples import Samples

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


def photo_samples(
    folder: str | Path,
    crop_size: int = 112,
    face_scale: float = 1.0,
    limit: int | None = None,
    detector: str = "auto",
) -> tuple[Samples, list[str]]:
    """The largest face of each photo in `folder`, aligned; returns (samples, skipped messages).

    Photos that cannot be read, or where no face is found, are skipped and listed.
    """
    from fer.face import align, detect
    from fer.io import load_image

    root = Path(folder)
    if not root.is_dir():
        raise DatasetError(f"not a folder of photos: {root}")
    paths = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
    if not paths:
        raise DatasetError(f"no photos ({', '.join(PHOTO_SUFFIXES)}) in {root}")
    crops, lms, lm68s, names, skipped = [], [], [], [], []
    for p in paths:
        if limit is not None and len(crops) >= limit:
            break
        try:
            rgb = load_image(p)
        except InputError as exc:
            skipped.append(f"{p.name}: {exc}")
            continue
        faces = detect(rgb, backend=detector, max_faces=1)
        if not faces:
            skipped.append(f"{p.name}: no face found")
            continue
        a = align(rgb, faces[0], size=crop_size, face_scale=face_scale)
        crops.append(a.image)
        lms.append(a.landmarks)
        lm68s.append(a.landmarks68)
        names.append(str(p.relative_to(root)))
    if not crops:
        raise DatasetError(f"no face found in any photo of {root} ({len(skipped)} skipped)")
    lm68 = np.stack(lm68s) if all(x is not None for x in lm68s) else None
    samples = Samples(np.stack(crops), np.stack(lms), None, (), lm68, f"photos in {root}", names)
    return samples, skipped
