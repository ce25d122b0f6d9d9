"""`fer.Predictor`: photo -> faces -> aligned crops -> model -> one `FacePrediction` per face.

    from fer import Predictor
    predictor = Predictor("faceapi_expression")        # a registered model, or a checkpoint path
    for p in predictor("photo.jpg"):                   # largest face first
        print(p.label, p.probs[p.label], p.head_labels, p.box)

The fused prediction (`label`, `probs`):
* project models (ALFJ-Net and kin): the mean of the region heads' probabilities (the paper's
  decision-level fusion; `ModelOutput.probs`);
* reference models (one pretrained classifier decomposed into four regions): softmax of the mean
  of the region logits, which *is* the original classifier's output. The mean of the heads'
  probabilities is kept in `head_mean_probs` for comparison.

Models are cached per (source, device) and shared by every Predictor; building is serialised by
a lock, and inference on a built model is read-only, so one Predictor serves concurrent calls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer.errors import InputError, ModelNotFoundError
from fer.face.types import AlignedFace, Face
from fer.models.base import FERModel, ModelOutput
from fer.models.finite import check_finite_output
from fer.regions import REGION_NAMES, head_names

log = logging.getLogger(__name__)

DEFAULT_MODEL = "faceapi_expression"
FUSION_HEAD_MEAN = "mean of the region heads' probabilities"
FUSION_WHOLE = "the pretrained classifier's own output (softmax of the mean region logits)"
UNTRAINED_WARNING = (
    "Model {name!r} has no trained weights (random initialisation): its predictions are meaningless "
    "and shown only to demonstrate the architecture."
)


@dataclass
class FacePrediction:
    """The prediction for one face. `head_probs` follow REGION_NAMES (TL, TR, BL, BR)."""

    label: str
    probs: dict[str, float]
    head_probs: list[dict[str, float]]
    head_mean_probs: dict[str, float]
    fusion: str
    model_name: str
    provenance: str
    trained: bool
    face: Face | None = None
    aligned: AlignedFace | None = None
    warning: str | None = None
    region_names: tuple[str, ...] = field(default=REGION_NAMES)

    @property
    def confidence(self) -> float:
        return self.probs[self.label]

    @property
    def head_labels(self) -> list[str]:
        return [max(p, key=p.get) for p in self.head_probs]

    @property
    def box(self) -> np.ndarray | None:
        return None if self.face is None else self.face.box

    @property
    def landmarks(self) -> np.ndarray | None:
        return None if self.face is None else self.face.landmarks

    @property
    def crop(self) -> np.ndarray | None:
        return None if self.aligned is None else self.aligned.image

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no images)."""
        out: dict[str, Any] = {
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "probs": {k: round(v, 6) for k, v in self.probs.items()},
            "heads": [
                {"region": r, "label": max(p, key=p.get), "probs": {k: round(v, 6) for k, v in p.items()}}
                for r, p in zip(self.region_names, self.head_probs)
            ],
            "head_mean_probs": {k: round(v, 6) for k, v in self.head_mean_probs.items()},
            "fusion": self.fusion,
            "model": self.model_name,
            "trained": self.trained,
            "provenance": self.provenance,
        }
        if self.face is not None:
            out["box"] = [round(float(v), 2) for v in self.face.box]
            out["score"] = round(float(self.face.score), 6)
            out["landmarks"] = np.round(np.asarray(self.face.landmarks, float), 2).tolist()
        if self.warning:
            out["warning"] = self.warning
        return out


# ----------------------------------------------------------------------------- model cache

_cache: dict[tuple[str, str], FERModel] = {}
_cache_lock = threading.Lock()


def _resolve_device(device: str | torch.device) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"unknown device {device!r} (use 'cpu', 'cuda' or 'cuda:N')") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r} was asked for, but no CUDA GPU is available; use device='cpu'")
    return dev


def _looks_like_path(source: str) -> bool:
    return source.endswith(".safetensors") or "/" in source or "\\" in source or Path(source).is_file()


def _build(source: str, device: torch.device) -> FERModel:
    from fer.models import create_model
    from fer.models.checkpoint import load_checkpoint

    if _looks_like_path(source):
        model = load_checkpoint(source)  # missing, a folder, a name too long: its CheckpointError says so
    else:
        model = create_model(source)
    return model.to(device).eval()


def get_model(source: str, device: str | torch.device = "cpu") -> FERModel:
    """The model for a registered name or checkpoint path, built once per (source, device)."""
    dev = _resolve_device(device)
    key = (str(source), str(dev))
    with _cache_lock:
        model = _cache.get(key)
        if model is None:
            model = _build(str(source), dev)
            _cache[key] = model
        return model


def clear_model_cache() -> None:
    with _cache_lock:
        _cache.clear()


# ----------------------------------------------------------------------------- fusion


def fusion_rule(output: ModelOutput) -> str:
    return FUSION_WHOLE if getattr(output, "whole_logits", None) is not None else FUSION_HEAD_MEAN


# ----------------------------------------------------------------------------- predictor


class Predictor:
    """End-to-end expression prediction for photos, detected faces, or aligned crops.

    model: a registered model name (`fer models`), a checkpoint path, or an `FERModel`.
    detector: face detector backend for `fer.face.detect` ("auto", "mtcnn", "insightface").
    """

    def __init__(
        self,
        model: str | Path | FERModel = DEFAULT_MODEL,
        detector: str = "auto",
        device: str | torch.device = "cpu",
        max_faces: int | None = None,
        batch_size: int = 32,
    ) -> None:
        if isinstance(model, FERModel):
            self.device = next(iter(model.parameters()), torch.empty(0)).device
            self.model = model.eval()
            self.source = model.config.name
        elif isinstance(model, (str, Path)) and str(model).strip():
            self.device = _resolve_device(device)
            self.source = str(model)
            self.model = get_model(self.source, self.device)
        else:
            raise ModelNotFoundError(f"Predictor needs a model name, a checkpoint path or a model, not {model!r}")
        self.detector = detector
        self.max_faces = max_faces
        self.batch_size = max(1, int(batch_size))
        if self.warning:
            log.warning(self.warning)

    # -- model facts ---------------------------------------------------------
    @property
    def config(self):
        return self.model.config

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.config.class_names)

    @property
    def trained(self) -> bool:
        return bool(self.config.trained)

    @property
    def provenance(self) -> str:
        return self.config.provenance

    @property
    def warning(self) -> str | None:
        """A plain warning for people when the model has no trained weights, else None."""
        return None if self.trained else UNTRAINED_WARNING.format(name=self.config.name)

    @property
    def region_names(self) -> tuple[str, ...]:
        return head_names(self.model.num_heads)

    # -- entry points --------------------------------------------------------
    def __call__(self, image) -> list[FacePrediction]:
        """One prediction per detected face, largest face first ([] when no face is found)."""
        from fer.face import detect
        from fer.io import load_image

        rgb = load_image(image)
        faces = detect(rgb, backend=self.detector, max_faces=self.max_faces)
        return self.predict_faces(rgb, faces)

    def predict_faces(self, image, faces: Sequence[Face]) -> list[FacePrediction]:
        """Predictions for faces already detected in `image` (e.g. the clean photo's detections
        applied to an occluded copy of it, where a detector might fail)."""
        from fer.io import load_image

        rgb = image if _is_rgb_uint8(image) else load_image(image)
        return self.predict_crops([self.align(rgb, f) for f in faces])

    def predict_face(self, image, face: Face) -> FacePrediction:
        return self.predict_faces(image, [face])[0]

    def align(self, image, face: Face) -> AlignedFace:
        """The aligned crop this model expects (its input size and face_scale)."""
        from fer.face import align

        pp = self.config.preprocess
        return align(image, face, size=pp.input_size, face_scale=pp.face_scale)

    def predict_crops(self, crops: Sequence[AlignedFace | np.ndarray]) -> list[FacePrediction]:
        """Predictions for aligned crops (AlignedFace, or RGB uint8 arrays aligned like `align` does)."""
        crops = list(crops)
        arrays = [_crop_array(c, i) for i, c in enumerate(crops)]
        fused, heads, fusion = self._infer(arrays)
        names = self.class_names
        out = []
        for i, crop in enumerate(crops):
            aligned = crop if isinstance(crop, AlignedFace) else None
            probs = _as_dict(names, fused[i])
            out.append(
                FacePrediction(
                    label=names[int(np.argmax(fused[i]))],
                    probs=probs,
                    head_probs=[_as_dict(names, h) for h in heads[i]],
                    head_mean_probs=_as_dict(names, heads[i].mean(0)),
                    fusion=fusion,
                    model_name=self.config.name,
                    provenance=self.provenance,
                    trained=self.trained,
                    face=aligned.face if aligned is not None else None,
                    aligned=aligned,
                    warning=self.warning,
                    region_names=self.region_names,
                )
            )
        return out

    def predict_arrays(self, crops: Sequence[AlignedFace | np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Fast path for sweeps: (fused probs (N, C), head probs (N, R, C)) as float32 arrays."""
        fused, heads, _ = self._infer([_crop_array(c, i) for i, c in enumerate(crops)])
        return fused, heads

    # -- internals -----------------------------------------------------------
    @torch.inference_mode()
    def _infer(self, arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, str]:
        from fer.data.transforms import eval_transform

        n_cls, n_heads = len(self.class_names), self.model.num_heads
        fused = np.zeros((0, n_cls), np.float32)
        heads = np.zeros((0, n_heads, n_cls), np.float32)
        fusion = FUSION_HEAD_MEAN
        pp = self.config.preprocess
        for start in range(0, len(arrays), self.batch_size):
            batch = torch.stack([eval_transform(a, pp) for a in arrays[start : start + self.batch_size]])
            output = self.model(batch.to(self.device))
            check_finite_output(output.head_logits, output.probs, model=repr(self.config.name))
            fusion = fusion_rule(output)
            fused = np.concatenate([fused, output.probs.float().cpu().numpy()])
            heads = np.concatenate([heads, output.head_probs.float().cpu().numpy()])
        return fused, heads, fusion


def _is_rgb_uint8(image) -> bool:
    return isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


def _crop_array(crop, index: int) -> np.ndarray:
    image = crop.image if isinstance(crop, AlignedFace) else crop
    if not _is_rgb_uint8(image):
        what = f"shape {image.shape}, dtype {image.dtype}" if isinstance(image, np.ndarray) else type(image).__name__
        raise InputError(f"crop {index} must be an AlignedFace or an (H, W, 3) uint8 RGB array, got {what}")
    if min(image.shape[:2]) < 8:
        raise InputError(f"crop {index} is too small ({image.shape[1]}x{image.shape[0]} pixels; at least 8x8 needed)")
    return np.ascontiguousarray(image)


def _as_dict(names: Sequence[str], values: np.ndarray) -> dict[str, float]:
    return {n: float(v) for n, v in zip(names, values)}
