"""insightface backend: SCRFD detection (5 points) + 68 3-D landmarks from the buffalo_l model pack.

Optional. Used only when the pack is on disk (`<root>/models/buffalo_l/*.onnx`, root = env
FER_INSIGHTFACE_ROOT or ~/.insightface) or when a download is allowed (`allow_download=True` or env
FER_ALLOW_DOWNLOAD=1; insightface then fetches the pack itself on first use). Nothing here runs
when neither holds, and importing this module does not import insightface.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import numpy as np

from fer.errors import ModelNotFoundError
from fer.face.types import Face

PACK = "buffalo_l"
MODULES = ["detection", "landmark_3d_68"]  # skip recognition / gender-age: not needed, saves time
DET_SIZE = (640, 640)

_APPS: dict[tuple[str, str], object] = {}
_FAILED: dict[tuple[str, str], str] = {}  # packs that could not be loaded: not retried on every call
_LOCK = threading.Lock()


def root() -> Path:
    return Path(os.environ.get("FER_INSIGHTFACE_ROOT", "~/.insightface")).expanduser()


def pack_dir(name: str = PACK) -> Path:
    return root() / "models" / name


def package_available() -> bool:
    return importlib.util.find_spec("insightface") is not None and importlib.util.find_spec("onnxruntime") is not None


def models_available(name: str = PACK) -> bool:
    """True when the pack's detector is on disk (a download would not be needed) and has not
    already failed to load in this process."""
    if (str(root()), name) in _FAILED:
        return False
    d = pack_dir(name)
    return d.is_dir() and (any(d.glob("det_*.onnx")) or (d / "manifest.json").is_file())


def download_allowed(allow_download: bool | None = None) -> bool:
    if allow_download is not None:
        return bool(allow_download)
    return os.environ.get("FER_ALLOW_DOWNLOAD", "").strip().lower() in ("1", "true", "yes")


def require(allow_download: bool | None = None) -> None:
    """Raise ModelNotFoundError unless the insightface backend can run now."""
    if not package_available():
        raise ModelNotFoundError("The insightface backend needs the `insightface` and `onnxruntime` packages.")
    if (str(root()), PACK) in _FAILED:
        raise ModelNotFoundError(_FAILED[(str(root()), PACK)])
    if not models_available() and not download_allowed(allow_download):
        raise ModelNotFoundError(
            f"insightface's {PACK} models are not in {pack_dir()}; allow a download with "
            "FER_ALLOW_DOWNLOAD=1 (or allow_download=True), or use backend='mtcnn'."
        )


def _app():
    key = (str(root()), PACK)
    app = _APPS.get(key)
    if app is None:
        with _LOCK:
            app = _APPS.get(key)
            if key in _FAILED:
                raise ModelNotFoundError(_FAILED[key])
            if app is None:
                from insightface.app import FaceAnalysis

                try:
                    app = FaceAnalysis(
                        name=PACK, root=str(root()), allowed_modules=MODULES, providers=["CPUExecutionProvider"]
                    )
                    app.prepare(ctx_id=-1, det_size=DET_SIZE)
                except Exception as exc:  # download failure, broken pack
                    _FAILED[key] = f"insightface's {PACK} models in {pack_dir()} could not be loaded: {exc}"
                    raise ModelNotFoundError(_FAILED[key]) from None
                _APPS[key] = app
    return app


def detect(rgb: np.ndarray, allow_download: bool | None = None) -> list[Face]:
    require(allow_download)
    bgr = np.ascontiguousarray(rgb[..., ::-1])  # insightface expects OpenCV's BGR order
    return [to_face(f) for f in _app().get(bgr)]


def to_face(found) -> Face:
    """insightface's Face (a dict with bbox, kps, det_score, landmark_3d_68) -> fer.face.types.Face."""
    lm68 = found.get("landmark_3d_68")
    if lm68 is not None:
        lm68 = np.asarray(lm68, dtype=np.float64)[:, :2]
    return Face(
        box=np.asarray(found["bbox"], dtype=np.float64)[:4],
        score=float(found["det_score"]),
        landmarks=np.asarray(found["kps"], dtype=np.float64).reshape(5, 2),
        landmarks68=lm68,
        detector="insightface",
    )
