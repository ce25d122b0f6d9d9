"""A contact sheet: every occluder on real photos, one tile per (photo, occluder), for eyeballing."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fer.errors import InputError
from fer.face.types import Face
from fer.occlusion.api import apply, list_occluders
from fer.occlusion.masks import texture_dir


def sample_photos() -> list[tuple[str, np.ndarray]]:
    """The astronaut (scikit-image) and insightface's bundled photos when installed."""
    from skimage import data

    photos = [("astronaut", data.astronaut())]
    d = texture_dir()
    for name in ("Tom_Hanks_54745.png", "t1.jpg"):
        if d is not None and (d / name).is_file():
            bgr = cv2.imread(str(d / name), cv2.IMREAD_COLOR)
            if bgr is not None:
                photos.append((Path(name).stem, np.ascontiguousarray(bgr[:, :, ::-1])))
    return photos


def _tile(image: np.ndarray, face: Face, size: int, label: str) -> np.ndarray:
    x1, y1, x2, y2 = face.box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 - 0.05 * (y2 - y1)
    half = 0.95 * max(x2 - x1, y2 - y1)
    m = np.array([[size / (2 * half), 0, size / 2 - cx * size / (2 * half)],
                  [0, size / (2 * half), size / 2 - cy * size / (2 * half)]])
    t = cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_AREA if half * 2 > size else cv2.INTER_CUBIC,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=(40, 40, 40))
    cv2.rectangle(t, (0, 0), (size, 18), (0, 0, 0), -1)
    cv2.putText(t, label, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return t


def contact_sheet(photos: list[tuple[str, np.ndarray]] | None = None, kinds: list[str] | None = None,
                  severity: float = 0.5, seed: int = 0, tile: int = 200, max_faces: int = 2) -> np.ndarray:
    """An RGB sheet: one row per detected face, one column per occluder (first column: no occluder)."""
    from fer.face import detect

    photos = sample_photos() if photos is None else photos
    kinds = [k for k in (kinds or list_occluders()) if k != "user"]
    rows = []
    for name, img in photos:
        for i, face in enumerate(detect(img, max_faces=max_faces)):
            tiles = [_tile(img, face, tile, f"{name} #{i}")]
            for k in kinds:
                tiles.append(_tile(apply(img, face, k, severity=severity, seed=seed).image, face, tile, k))
            rows.append(np.hstack(tiles))
    if not rows:
        raise InputError("no face found on the contact-sheet photos")
    return np.vstack(rows)


def save_contact_sheet(path, **kwargs) -> Path:
    sheet = contact_sheet(**kwargs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), sheet[:, :, ::-1]):
        raise InputError(f"could not write {path} (use a .png or .jpg name in a writable folder)")
    return path
