"""Face detection behind one interface: `detect(image, backend="auto") -> list[Face]`, largest first.

Backends:
- "mtcnn": this project's PyTorch MTCNN with bundled weights; always available, offline.
- "insightface": SCRFD + 68 3-D landmarks from insightface's buffalo_l pack, when the pack is on
  disk (or a download is allowed: `allow_download=True` or env FER_ALLOW_DOWNLOAD=1).
- "auto": insightface when its models are already on disk, else MTCNN. Never downloads.

68-point landmarks: insightface's own when that backend ran; otherwise the mean-shape fit of
`fer.face.landmarks68.fit_landmarks68(landmarks5)` when that module is present, else None.

Large photos are downscaled for detection only (longest side `max_side`); boxes and points are
mapped back to the full-resolution photo.
"""

from __future__ import annotations

import logging

import numpy as np

from fer.errors import FERError, ModelNotFoundError
from fer.face.types import Face
from fer.io import is_rgb_uint8, load_image

BACKENDS = ("auto", "mtcnn", "insightface")
DEFAULT_MIN_SIZE = 20  # pixels: the shorter side of the smallest face returned (MTCNN's usual minimum)
DEFAULT_MAX_SIDE = 1600  # pixels: photos with a longer side are shrunk for detection

log = logging.getLogger(__name__)


def resolve_backend(backend: str = "auto", allow_download: bool | None = None) -> str:
    """The concrete backend ("mtcnn" or "insightface") that `detect` would use."""
    from fer.face import insightface_backend as ifb

    name = (backend or "auto").lower()
    if name not in BACKENDS:
        raise ModelNotFoundError(f"Unknown face detector backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    if name == "auto":
        return "insightface" if ifb.models_available() and ifb.package_available() else "mtcnn"
    if name == "insightface":
        ifb.require(allow_download)  # raises ModelNotFoundError with the reason
    return name


def detect(
    image,
    backend: str = "auto",
    min_size: float = DEFAULT_MIN_SIZE,
    max_faces: int | None = None,
    max_side: int = DEFAULT_MAX_SIDE,
    allow_download: bool | None = None,
) -> list[Face]:
    """All faces in `image` (anything `fer.io.load_image` accepts), largest first.

    min_size: faces whose box is narrower or shorter than this many photo pixels are dropped.
    max_faces: keep at most this many (the largest).
    """
    rgb = _as_rgb(image)
    which = resolve_backend(backend, allow_download)
    h, w = rgb.shape[:2]
    shrink = min(1.0, float(max_side) / max(h, w))
    small = _resize(rgb, shrink) if shrink < 1.0 else rgb

    faces = None
    if which == "insightface":
        from fer.face import insightface_backend as ifb

        try:
            faces = ifb.detect(small, allow_download=allow_download)
        except ModelNotFoundError as exc:
            if (backend or "auto").lower() != "auto":
                raise
            log.warning("%s; falling back to MTCNN", exc)  # "auto" promises a working detector
    if faces is None:
        faces = _detect_mtcnn(small, max(8.0, float(min_size) * shrink))

    if shrink < 1.0:
        faces = [_rescale(f, 1.0 / shrink) for f in faces]
    faces = [f for f in faces if min(f.width, f.height) >= float(min_size)]
    faces.sort(key=lambda f: f.area, reverse=True)
    if max_faces is not None:
        faces = faces[: max(0, int(max_faces))]
    for f in faces:
        if f.landmarks68 is None:
            f.landmarks68 = _fit68(f.landmarks)
    return faces


def _as_rgb(image) -> np.ndarray:
    if is_rgb_uint8(image):
        return image  # already what load_image returns; detection never writes into it
    return load_image(image)


def _resize(rgb: np.ndarray, factor: float) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _rescale(face: Face, k: float) -> Face:
    return Face(
        box=face.box * k,
        score=face.score,
        landmarks=face.landmarks * k,
        landmarks68=None if face.landmarks68 is None else face.landmarks68 * k,
    )


def _detect_mtcnn(rgb: np.ndarray, min_face: float) -> list[Face]:
    from fer.face.mtcnn import get_mtcnn

    det = get_mtcnn().detect(rgb, min_face=min_face)
    return [
        Face(box=b.astype(np.float64), score=float(s), landmarks=p.astype(np.float64))
        for b, s, p in zip(det.boxes, det.scores, det.points)
    ]


def _fit68(landmarks5: np.ndarray) -> np.ndarray | None:
    try:
        from fer.face.landmarks68 import fit_landmarks68
    except ImportError:  # fer.face.landmarks68 is optional here: without it, faces carry no 68 points
        return None
    try:
        pts = np.asarray(fit_landmarks68(np.asarray(landmarks5, dtype=np.float64)), dtype=np.float64)
    except FERError as exc:  # e.g. degenerate points: the face stays usable, without 68 points
        log.warning("no 68-point shape for this face: %s", exc)
        return None
    if pts.shape != (68, 2):
        log.warning("fit_landmarks68 returned shape %s, expected (68, 2); ignoring it", pts.shape)
        return None
    return pts
