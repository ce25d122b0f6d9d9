"""Face detection behind one interface: `detect(image, backend="auto") -> list[Face]`, largest first.

Backends:
- "mtcnn": this project's PyTorch MTCNN with bundled weights; always available, offline.
- "insightface": SCRFD + 68 3-D landmarks from insightface's buffalo_l pack, when the pack is on
  disk (or a download is allowed: `allow_download=True` or env FER_ALLOW_DOWNLOAD=1).
- "faceapi_ssd": face-api's own detector (SSD MobileNet v1, `fer.face.faceapi_ssd`) with face-api's
  68-point net on its boxes: face-api's pipeline exactly, for models cut by face-api's rule. Offline.
  Each face's 5 points are the eye centres, nose tip and mouth corners of its 68 (`summary5`).
- "auto": insightface when its models are already on disk, else MTCNN. Never downloads. (A
  `Predictor` resolves "auto" per model first: `fer.face.crop.detector_for`.)

68-point landmarks (`landmarks68=`):
- "net" (default): insightface's own points when that backend ran; for MTCNN's faces, face-api's
  68-point net (`fer.face.faceapi_landmarks.for_detections`: the detector's box mapped to the box
  face-api's detector would give, then once more on the box of those points), all faces in one batch.
  Falls back to "fit" (with a warning) when the net's weights cannot be loaded.
- "fit": the mean-shape fit `fer.face.landmarks68.fit_landmarks68(landmarks5)` (no expression, no
  jaw or brow detail; cheaper), when that module is present, else None.

False positives (MTCNN, "net" landmarks): a candidate whose 5 MTCNN points and the 68-point net's
eyes, nose tip and mouth corners disagree by more than `max_disagreement` inter-ocular distances
(mean over the 5 points) is dropped. Two independent landmark models agree on a real face and not
on hair, a hand or a wheel; measured figures in docs/face.md ("Detection precision"). face-api's
detector's faces are checked the same way, with the 5 points of MTCNN's O-Net run on their box (and
O-Net's face probability >= MIN_CHECK_SCORE); when it finds no face, MTCNN's faces are returned.

Large photos are downscaled for detection only (longest side `max_side`); boxes and points are
mapped back to the full-resolution photo.
"""

from __future__ import annotations

import logging

import numpy as np

from fer.errors import CheckpointError, FERError, InputError, ModelNotFoundError
from fer.face.types import Face
from fer.io import is_rgb_uint8, load_image

BACKENDS = ("auto", "mtcnn", "insightface", "faceapi_ssd")
DEFAULT_MIN_SIZE = 20  # pixels: the shorter side of the smallest face returned (MTCNN's usual minimum)
DEFAULT_MAX_SIDE = 1600  # pixels: photos with a longer side are shrunk for detection
LANDMARK_SOURCES = ("net", "fit")
# Mean distance (inter-ocular distances) between MTCNN's 5 points and the 68-point net's, above which a
# candidate is not a face. Measured on every real photo available offline (docs/face.md): real faces
# <= 0.22, false positives >= 0.59.
DEFAULT_MAX_DISAGREEMENT = 0.4
# O-Net's face probability on a face-api detection's box under which it is not a face (docs/face.md: faces
# >= 0.69, the cat, cheetah and lion faces face-api's detector reports <= 0.50).
MIN_CHECK_SCORE = 0.6

log = logging.getLogger(__name__)


def resolve_backend(backend: str = "auto", allow_download: bool | None = None) -> str:
    """The concrete backend ("mtcnn", "insightface" or "faceapi_ssd") that `detect` would use."""
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
    landmarks68: str = "net",
    max_disagreement: float | None = DEFAULT_MAX_DISAGREEMENT,
) -> list[Face]:
    """All faces in `image` (anything `fer.io.load_image` accepts), largest first.

    min_size: faces whose box is narrower or shorter than this many photo pixels are dropped.
    max_faces: keep at most this many (the largest).
    landmarks68: "net" (face-api's 68-point net; insightface's points on that backend) or "fit"
    (the mean shape through the 5 points). face-api's detector always gets the net's points (its 5
    points are made from them).
    max_disagreement: drop MTCNN candidates whose 5 points and the net's disagree by more than this
    (inter-ocular distances); None keeps every candidate (face-api's own output, for "faceapi_ssd").
    Only with landmarks68="net".
    """
    source = str(landmarks68).lower()
    if source not in LANDMARK_SOURCES:
        raise InputError(f"landmarks68 must be one of {', '.join(LANDMARK_SOURCES)}, not {landmarks68!r}.")
    rgb = _as_rgb(image)
    which = resolve_backend(backend, allow_download)
    if which == "faceapi_ssd":  # face-api resizes the whole photo to 512 itself: no shrinking here
        faces = [f for f in _detect_faceapi_ssd(rgb, max_disagreement) if min(f.width, f.height) >= float(min_size)]
        if faces:
            faces.sort(key=lambda f: f.area, reverse=True)
            return faces if max_faces is None else faces[: max(0, int(max_faces))]
        # none: MTCNN's (face-api's detector misses tight face crops and drawn faces; docs/face.md)
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
    by_mtcnn = faces is None
    if by_mtcnn:
        faces = _detect_mtcnn(small, max(8.0, float(min_size) * shrink))

    if shrink < 1.0:
        faces = [_rescale(f, 1.0 / shrink) for f in faces]
    faces = [f for f in faces if min(f.width, f.height) >= float(min_size)]
    faces = add_landmarks68(rgb, faces, source, max_disagreement if by_mtcnn else None)  # measured for MTCNN
    faces.sort(key=lambda f: f.area, reverse=True)
    if max_faces is not None:
        faces = faces[: max(0, int(max_faces))]
    return faces


def add_landmarks68(rgb: np.ndarray, faces: list[Face], source: str = "net",
                    max_disagreement: float | None = None) -> list[Face]:
    """Give every face without 68 points the net's ("net", one batch) or the mean-shape fit ("fit", also
    the fallback). With max_disagreement, candidates the two landmark models disagree on are dropped.
    The one rule for 68 points, used by `detect` and by the live tracker."""
    if str(source).lower() == "net":
        faces = _net68(rgb, faces, max_disagreement)
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
        detector=face.detector,
    )


def _detect_mtcnn(rgb: np.ndarray, min_face: float) -> list[Face]:
    from fer.face.mtcnn import get_mtcnn

    det = get_mtcnn().detect(rgb, min_face=min_face)
    return [
        Face(box=b.astype(np.float64), score=float(s), landmarks=p.astype(np.float64), detector="mtcnn")
        for b, s, p in zip(det.boxes, det.scores, det.points)
    ]


def _detect_faceapi_ssd(rgb: np.ndarray, max_disagreement: float | None) -> list[Face]:
    """face-api's `detectAllFaces(photo).withFaceLandmarks()`: its detector's boxes, its 68-point net on them.
    With max_disagreement, each face is checked by MTCNN's O-Net on its box (`fer.face.mtcnn.refit`): kept when
    O-Net calls it a face (>= MIN_CHECK_SCORE) and O-Net's 5 points and the net's disagree by at most that."""
    from fer.face import faceapi_landmarks as fl
    from fer.face import faceapi_ssd
    from fer.face.landmarks68 import summary5

    found = [(box, score) for box, score in faceapi_ssd.detect(rgb) if min(box[2] - box[0], box[3] - box[1]) >= 2]
    points = fl.landmarks68(rgb, [box for box, _ in found])
    faces = [Face(box=box, score=score, landmarks=summary5(pts), landmarks68=pts, detector="faceapi_ssd")
             for (box, score), pts in zip(found, points)]
    if max_disagreement is None:
        return faces
    kept = []
    for f in faces:
        probability, disagreement = onet_check(rgb, f)
        if probability >= MIN_CHECK_SCORE and disagreement <= float(max_disagreement):
            kept.append(f)
    return kept


def onet_check(rgb: np.ndarray, face: Face) -> tuple[float, float]:
    """The check of a face-api detection: (MTCNN's O-Net's face probability on its box, the disagreement of
    O-Net's 5 points with its 68 points, in inter-ocular distances)."""
    from fer.face.faceapi_landmarks import disagreement
    from fer.face.mtcnn import refit

    _, probability, five = refit(rgb, face.box)
    return probability, disagreement(five, face.landmarks68)


_NET_FAILED: list[str] = []  # the net's load error, said once per process


def _net68(rgb: np.ndarray, faces: list[Face], max_disagreement: float | None) -> list[Face]:
    """Faces without 68 points get the net's (one batch); with max_disagreement, the candidates the two
    landmark models disagree on are dropped. Without the net's weights: the faces unchanged (-> "fit")."""
    todo = [f for f in faces if f.landmarks68 is None]
    if not todo or _NET_FAILED:
        return faces
    from fer.face import faceapi_landmarks as fl

    try:
        points = fl.for_detections(rgb, [f.box for f in todo])
    except CheckpointError as exc:
        _NET_FAILED.append(str(exc))
        log.warning("%s; using the mean-shape 68 points instead", exc)
        return faces
    except InputError as exc:  # a box outside the photo (cannot happen for MTCNN's): the mean shape
        log.warning("68-point net skipped: %s", exc)
        return faces
    dropped = set()
    for f, pts in zip(todo, points):
        f.landmarks68 = pts
        if max_disagreement is not None and fl.disagreement(f.landmarks, pts) > float(max_disagreement):
            dropped.add(id(f))
    return [f for f in faces if id(f) not in dropped]


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
