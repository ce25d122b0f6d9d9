"""The per-frame path of the live lab: frame -> tracked face -> (virtual occluder) -> model -> votes.

    from fer import Predictor
    from fer.live import LiveEngine
    engine = LiveEngine(Predictor("faceapi_expression"))
    for frame in frames:                       # RGB uint8, e.g. 640×480 webcam frames
        result = engine.process(frame)         # LiveFrame: .label, .probs, .head_labels, .image (annotated)

Fast because (1) the face is tracked (`FaceTracker`: a full detection only every few frames; the
68-point net runs on a tracked face only when the model's crop recipe or a virtual occluder needs it),
(2) the crop goes through the library's one path (`Preprocess.batch` -> `fer.predictor.infer_batches`)
into one input buffer reused for every frame, (3) nothing spawns threads:
torch's one intra-op pool does the maths, and Grad-CAM++ (when asked for) runs on a single
background worker whose latest map is drawn on the following frames — a frame never waits for it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch

from fer.face.types import AlignedFace, Face
from fer.live.draw import annotate
from fer.live.tracker import DETECT_EVERY, FaceTracker

HISTORY_S = 10.0  # the rolling plot shows the last seconds
NO_OCCLUDER = "none"
_CAM_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fer-live-cam")  # one for the process


@dataclass
class LiveFrame:
    """What one frame gave. `probs`/`head_probs` are None when no face was found."""

    image: np.ndarray  # the annotated frame (RGB uint8, the input's size)
    class_names: tuple[str, ...]
    region_names: tuple[str, ...]
    face: Face | None = None
    aligned: AlignedFace | None = None  # the crop the model saw (photo <-> crop maps for drawing)
    probs: np.ndarray | None = None  # (C,) fused
    head_probs: np.ndarray | None = None  # (R, C)
    detected: bool = False  # a full detection ran on this frame
    seconds: float = 0.0  # time spent in process()
    cam: np.ndarray | None = None  # the latest Grad-CAM++ overlay of the fused decision, if any
    message: str = ""

    @property
    def label(self) -> str | None:
        return None if self.probs is None else self.class_names[int(np.argmax(self.probs))]

    @property
    def confidence(self) -> float:
        return 0.0 if self.probs is None else float(np.max(self.probs))

    @property
    def head_labels(self) -> list[str]:
        return [] if self.head_probs is None else [self.class_names[int(np.argmax(p))] for p in self.head_probs]

    def confidences(self) -> dict[str, float]:
        return {} if self.probs is None else {n: float(p) for n, p in zip(self.class_names, self.probs)}

    def votes(self) -> dict[str, str]:
        return dict(zip(self.region_names, self.head_labels))


@dataclass
class Occluder:
    kind: str = NO_OCCLUDER
    severity: float = 0.6
    seed: int = 0
    params: dict = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return bool(self.kind) and self.kind != NO_OCCLUDER


class LiveEngine:
    """Per-frame expression analysis of one video stream (one engine per stream / session)."""

    def __init__(self, predictor, detect_every: int = DETECT_EVERY, cam_every: int = 0, draw: bool = True) -> None:
        self.predictor = predictor
        self.model = predictor.model
        self.class_names = tuple(predictor.class_names)
        self.region_names = tuple(predictor.region_names)
        from fer.face.crop import needs_landmarks68

        self.crop_needs68 = needs_landmarks68(self.model.config)
        # the 68-point net (a third of a tracked frame) runs only when the crop or an occluder reads its points
        self.tracker = FaceTracker(predictor.detector, detect_every=detect_every, landmarks68=False)
        self.cam_every = max(0, int(cam_every))
        self.draw = draw
        self.history: deque[tuple[float, np.ndarray]] = deque(maxlen=600)
        pp = self.model.config.preprocess
        channels = 1 if pp.grayscale else 3
        self._input = torch.empty((1, channels, int(pp.input_size), int(pp.input_size)), dtype=torch.float32)
        self._cam_future = None
        self._cam: np.ndarray | None = None
        self._cam_wanted = False
        self._frames = 0
        self._lock = threading.Lock()

    # -- controls -------------------------------------------------------------------------
    def request_cam(self) -> None:
        """Compute Grad-CAM++ on the next frame (in the background)."""
        self._cam_wanted = True

    def select(self, x: float, y: float) -> None:
        self.tracker.select(x, y)

    # -- the per-frame path ----------------------------------------------------------------
    def process(self, frame: np.ndarray, occluder: Occluder | None = None) -> LiveFrame:
        started = time.perf_counter()
        with self._lock:
            self._frames += 1
            detections = self.tracker.detections
            face = self.tracker.update(frame)
            detected = self.tracker.detections != detections
            result = LiveFrame(frame, self.class_names, self.region_names, face=face, detected=detected)
            if face is None:
                result.message = "no face in view"
                self.history.append((started, None))
            else:
                shown = frame
                occluding = occluder is not None and occluder.active
                if face.landmarks68 is None and (self.crop_needs68 or occluding):
                    from fer.face.detect import add_landmarks68

                    face = result.face = add_landmarks68(frame, [face])[0]  # detect's rule: net, else the fit
                if occluding:
                    shown = occlude_near_face(frame, face, occluder)
                aligned = self.predictor.align(shown, face)
                result.probs, result.head_probs = self._infer(aligned.image)
                result.image, result.aligned = shown, aligned
                self.history.append((started, result.probs))
                self._maybe_cam(aligned, int(np.argmax(result.probs)))
            result.cam = self._cam
            if self.draw:
                result.image = annotate(result, self.history, started)
            result.seconds = time.perf_counter() - started
            return result

    def _infer(self, crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The library's one inference path (`Preprocess.batch` -> `infer_batches`), into the reused buffer."""
        from fer.predictor import infer_batches

        pp = self.model.config.preprocess
        out = infer_batches(self.model, [pp.batch([crop], out=self._input)])
        return out.probs[0], out.head_probs[0]

    def _maybe_cam(self, aligned: AlignedFace, target: int) -> None:
        due = self._cam_wanted or (self.cam_every and self._frames % self.cam_every == 0)
        if not due or (self._cam_future is not None and not self._cam_future.done()):
            return  # the worker is busy: this frame goes on without a new map
        self._cam_wanted = False
        snapshot = AlignedFace(aligned.image.copy(), aligned.matrix, aligned.inverse, aligned.face, aligned.landmarks)
        self._cam_future = _CAM_POOL.submit(self._compute_cam, snapshot, target)

    def _compute_cam(self, aligned: AlignedFace, target: int) -> None:
        from fer.explain import explain, heatmap_on_image

        exp = explain(self.model, aligned, target=target)
        self._cam = heatmap_on_image(aligned.image, exp.fused)

    def wait_for_cam(self, timeout: float = 30.0) -> np.ndarray | None:
        """Block until the pending map is ready (tests and benchmarks only; the stream never waits)."""
        if self._cam_future is not None:
            self._cam_future.result(timeout=timeout)
        return self._cam


def occlude_near_face(frame: np.ndarray, face: Face, occluder: Occluder) -> np.ndarray:
    """`frame` with the occluder drawn on `face`, rendered only in a window around the face."""
    from fer import occlusion

    x1, y1, x2, y2 = (float(v) for v in face.box)
    side = max(x2 - x1, y2 - y1)
    h, w = frame.shape[:2]
    ox, oy = max(0, int(x1 - side)), max(0, int(y1 - side))
    ex, ey = min(w, int(x2 + side) + 1), min(h, int(y2 + side) + 1)
    shift = np.array([ox, oy], np.float64)
    local = Face(
        box=face.box - np.tile(shift, 2),
        score=face.score,
        landmarks=face.landmarks - shift,
        landmarks68=None if face.landmarks68 is None else face.landmarks68 - shift,
    )
    window = np.ascontiguousarray(frame[oy:ey, ox:ex])
    out = occlusion.apply(window, local, occluder.kind, severity=occluder.severity, seed=occluder.seed,
                          **occluder.params)
    result = frame.copy()
    result[oy:ey, ox:ex] = out.image
    return result
