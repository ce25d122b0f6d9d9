"""Follow one face through a video without running the full detector on every frame.

A full detection (`fer.face.detect`: MTCNN's image pyramid, or insightface) costs most of a
frame's budget. Between two detections the face moves a few pixels, so the tracker only asks
MTCNN's last stage (O-Net, one 48×48 crop per candidate) to re-fit the previous box and its
five landmarks: one tiny forward pass instead of a pyramid. A full detection runs again every
`detect_every` frames, when O-Net's face score drops under `min_score` (the face left, turned
away, or was covered too much), when the face jumps, and after `select()` (a click on another face).
The periodic re-check while a track holds skips the pyramid's finest levels (faces under half the
tracked face's size cannot be the tracked face): the costliest levels of P-Net and most of R-Net's
candidates; when it finds nothing, the full pyramid runs.
"""

from __future__ import annotations

import threading

import numpy as np

from fer.face.detect import DEFAULT_MIN_SIZE
from fer.face.types import Face

DETECT_EVERY = 12  # frames between two full detections while tracking holds
MIN_SCORE = 0.8  # O-Net face probability under which the track is lost
GROW = (1.0, 1.12)  # candidate boxes: the previous face's square box, and one a little larger
RECHECK_MIN_FRACTION = 0.5  # a re-check while tracking looks for faces at least this fraction of the tracked one


class FaceTracker:
    """One face over a sequence of frames: `update(frame) -> Face | None` (photo coordinates).

    detector: the backend of the full detections ("auto", "mtcnn", "insightface", "faceapi_ssd"); the
    refinement between them is always MTCNN's O-Net. A face found by face-api's detector keeps a box of
    that detector's kind between detections (`follow`), so its 68 points stay face-api's. Not thread-safe
    by design: one tracker per video stream (per browser session).
    """

    def __init__(self, detector: str = "auto", detect_every: int = DETECT_EVERY, min_score: float = MIN_SCORE,
                 landmarks68: bool = True) -> None:
        self.detector = detector
        self.landmarks68 = bool(landmarks68)  # refined faces get the 68-point net's points (else None)
        self.detect_every = max(1, int(detect_every))
        self.min_score = float(min_score)
        self.face: Face | None = None
        self.faces_seen = 0  # faces found by the last full detection
        self.since_detect = 0
        self.detections = 0  # full detections run so far (for benchmarks and the status line)
        self.frames = 0
        self._point: tuple[float, float] | None = None
        self._anchor: np.ndarray | None = None  # O-Net's box of a face-api-detected face in the last frame
        self._lock = threading.Lock()

    def select(self, x: float, y: float) -> None:
        """Follow the face under (x, y) from the next frame on (or the nearest face)."""
        self._point = (float(x), float(y))

    def reset(self) -> None:
        self.face, self.since_detect, self._point, self._anchor = None, 0, None, None

    def update(self, rgb: np.ndarray) -> Face | None:
        """The tracked face in this frame (RGB uint8), or None when there is no face."""
        with self._lock:
            self.frames += 1
            if self.face is not None and self._point is None and self.since_detect < self.detect_every:
                if self._anchor is not None:
                    face, self._anchor = follow(rgb, self.face, self._anchor, self.min_score)
                else:
                    face = refine(rgb, self.face, self.min_score, self.landmarks68)
                if face is not None and _iou(face.box, self.face.box) > 0.3:
                    self.face, self.since_detect = face, self.since_detect + 1
                    return face
            return self._detect(rgb)

    def _detect(self, rgb: np.ndarray) -> Face | None:
        from fer.face import detect

        faces = []
        if self.face is not None and self._point is None:  # re-check of a held track: faces of about its size
            side = min(self.face.width, self.face.height)
            faces = detect(rgb, backend=self.detector, min_size=max(DEFAULT_MIN_SIZE, RECHECK_MIN_FRACTION * side))
        if not faces:  # no track, a click on another face, or the face changed size a lot: the whole pyramid
            faces = detect(rgb, backend=self.detector)
        self.detections += 1
        self.since_detect = 0
        self.faces_seen = len(faces)
        if not faces:
            self.face = None
            return None
        if self._point is not None:
            face = _face_at(faces, self._point)
        elif self.face is not None:  # keep following the same person when several are in view
            face = max(faces, key=lambda f: _iou(f.box, self.face.box) + 1e-6 * f.area)
            if _iou(face.box, self.face.box) < 0.1:
                face = faces[0]
        else:
            face = faces[0]  # the largest
        self._point = None
        self.face = face
        self._anchor = None
        if face.detector == "faceapi_ssd":
            from fer.face.mtcnn import refit

            self._anchor = refit(rgb, face.box, GROW)[0]
        return face


def refine(rgb: np.ndarray, previous: Face, min_score: float = MIN_SCORE, landmarks68: bool = True) -> Face | None:
    """Re-fit `previous` (box + 5 landmarks) in a new frame with MTCNN's O-Net; None when lost. With
    `landmarks68`, the face also gets `detect`'s 68 points (the net's, about a third of the cost)."""
    from fer.face.detect import add_landmarks68
    from fer.face.mtcnn import refit

    new_box, score, points = refit(rgb, previous.box, GROW)
    if score < min_score:
        return None
    face = Face(box=new_box, score=score, landmarks=points)
    return add_landmarks68(rgb, [face])[0] if landmarks68 else face  # the same 68 points as `detect`


def follow(rgb: np.ndarray, previous: Face, anchor: np.ndarray,
           min_score: float = MIN_SCORE) -> tuple[Face | None, np.ndarray | None]:
    """Re-fit a face found by face-api's detector in a new frame: O-Net re-fits `anchor` (its own box of the
    face in the last frame), `previous.box` moves and scales with it (so it stays a face-api box), and the
    68-point net runs on that box (face-api's rule, no box mapping). (face, O-Net's new box), or (None, None)
    when lost."""
    from fer.errors import InputError
    from fer.face import faceapi_landmarks as fl
    from fer.face.landmarks68 import summary5
    from fer.face.mtcnn import refit

    new, score, _ = refit(rgb, anchor, GROW)
    if score < min_score:
        return None, None
    box = _carry(previous.box, anchor, new)
    try:
        points = fl.landmarks68(rgb, [box])[0]
    except InputError:  # the box left the frame
        return None, None
    return Face(box=box, score=score, landmarks=summary5(points), landmarks68=points,
                detector=previous.detector), new


def _carry(box: np.ndarray, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """`box` moved and scaled (uniformly) as the reference box moved from `old` to `new`."""
    def centre_size(b):
        return np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]), np.array([b[2] - b[0], b[3] - b[1]])

    (co, so), (cn, sn), (cb, sb) = centre_size(old), centre_size(new), centre_size(box)
    k = float(np.mean(sn / np.maximum(so, 1e-6)))
    c = cn + (cb - co) * k
    return np.r_[c - sb * k / 2, c + sb * k / 2]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _face_at(faces: list[Face], point: tuple[float, float]) -> Face:
    """The face whose box contains `point` (the smallest such), else the one with the nearest centre."""
    x, y = point
    inside = [f for f in faces if f.box[0] <= x <= f.box[2] and f.box[1] <= y <= f.box[3]]
    if inside:
        return min(inside, key=lambda f: f.area)
    return min(faces, key=lambda f: (x - (f.box[0] + f.box[2]) / 2) ** 2 + (y - (f.box[1] + f.box[3]) / 2) ** 2)
