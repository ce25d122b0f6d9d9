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

Each model's face crop is its own recipe (`ModelConfig.crop`, `fer.face.crop`). Models come from
one bounded LRU cache (`fer.models.cache`, per source and device); a Predictor built from a source
asks the cache on each use and holds no model itself, so an evicted model's memory is released.
Inference on a built model is read-only, so one Predictor serves concurrent calls.

`infer_batches` is the one batch loop: the Predictor, `fer.evaluate` and `fer.robustness` all run
their tensors through it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer.errors import InputError, ModelNotFoundError
from fer.face.types import AlignedFace, Face
from fer.io import is_rgb_uint8, load_image
from fer.models.base import FERModel, ModelOutput
from fer.models.cache import clear_model_cache, get_model, resolve_device
from fer.models.finite import check_finite_output
from fer.regions import REGION_NAMES, head_names

__all__ = [
    "DEFAULT_MODEL", "BatchOutput", "FacePrediction", "Predictor", "clear_model_cache", "fusion_rule", "get_model",
    "infer_batches", "infer_crops",
]

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
    crop_recipe: str = ""  # the `fer.face.crop` recipe that cut `aligned` (the model's own)

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
        if self.crop_recipe:
            out["crop_recipe"] = self.crop_recipe
        if self.face is not None:
            out["box"] = [round(float(v), 2) for v in self.face.box]
            out["score"] = round(float(self.face.score), 6)
            out["landmarks"] = np.round(np.asarray(self.face.landmarks, float), 2).tolist()
        if self.warning:
            out["warning"] = self.warning
        return out


# ----------------------------------------------------------------------------- the batch loop


@dataclass
class BatchOutput:
    """Stacked model outputs: head logits / probabilities (N, R, C), fused probabilities (N, C)."""

    head_logits: np.ndarray
    head_probs: np.ndarray
    probs: np.ndarray
    fusion: str


@torch.inference_mode()
def infer_batches(model: FERModel, batches: Iterable[torch.Tensor], channels_last: bool = False) -> BatchOutput:
    """Run `model` over input tensors (each (B, C, S, S), already preprocessed) on the model's device."""
    device = next(iter(model.parameters()), torch.empty(0)).device
    logits, head_probs, fused = [], [], []
    fusion = FUSION_HEAD_MEAN
    for x in batches:
        x = x.to(device)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        output = model(x)
        check_finite_output(output.head_logits, output.probs, model=repr(model.config.name))
        fusion = fusion_rule(output)
        logits.append(output.head_logits.float().cpu().numpy())
        head_probs.append(output.head_probs.float().cpu().numpy())
        fused.append(output.probs.float().cpu().numpy())
    if not logits:
        c = model.config.num_classes
        empty = np.zeros((0, model.num_heads, c), np.float32)
        return BatchOutput(empty, empty.copy(), np.zeros((0, c), np.float32), fusion)
    return BatchOutput(np.concatenate(logits), np.concatenate(head_probs), np.concatenate(fused), fusion)


def infer_crops(model: FERModel, crops: Sequence, batch_size: int = 32) -> BatchOutput:
    """`infer_batches` over RGB uint8 crops (AlignedFace or arrays), preprocessed by the model's `Preprocess`."""
    arrays = [_crop_array(c, i) for i, c in enumerate(crops)]
    pp, step = model.config.preprocess, max(1, int(batch_size))
    return infer_batches(model, (pp.batch(arrays[i : i + step]) for i in range(0, len(arrays), step)))


# ----------------------------------------------------------------------------- fusion


def fusion_rule(output: ModelOutput) -> str:
    return FUSION_WHOLE if getattr(output, "whole_logits", None) is not None else FUSION_HEAD_MEAN


# ----------------------------------------------------------------------------- predictor


class Predictor:
    """End-to-end expression prediction for photos, detected faces, or aligned crops.

    model: a registered model name (`fer models`), a checkpoint path, or an `FERModel`.
    detector: face detector backend for `fer.face.detect` ("auto", "mtcnn", "insightface", "faceapi_ssd");
    "auto" is the model's own when its crop recipe names one (face-api's detector for face-api's rule).
    """

    def __init__(
        self,
        model: str | Path | FERModel = DEFAULT_MODEL,
        detector: str = "auto",
        device: str | torch.device = "cpu",
        max_faces: int | None = None,
        batch_size: int = 32,
    ) -> None:
        self._own_model: FERModel | None = None
        if isinstance(model, FERModel):
            self.device = next(iter(model.parameters()), torch.empty(0)).device
            self._own_model = model.eval()
            self.source = model.config.name
        elif isinstance(model, (str, Path)) and str(model).strip():
            self.device = resolve_device(device)
            self.source = str(model)
            get_model(self.source, self.device)  # load now: a bad name or file fails here, not on first use
        else:
            raise ModelNotFoundError(f"Predictor needs a model name, a checkpoint path or a model, not {model!r}")
        self._detector = detector
        self.max_faces = max_faces
        self.batch_size = max(1, int(batch_size))
        if self.warning:
            log.warning(self.warning)
        if self.config.crop_note:
            log.info(self.config.crop_note)

    # -- model facts ---------------------------------------------------------
    @property
    def model(self) -> FERModel:
        """The model: the one given, or the cache's (reloaded after an eviction; never held here)."""
        return self._own_model if self._own_model is not None else get_model(self.source, self.device)

    @property
    def config(self):
        return self.model.config

    @property
    def detector(self) -> str:
        """The detector backend this predictor finds faces with (`fer.face.crop.detector_for`)."""
        from fer.face.crop import detector_for

        return detector_for(self.config, self._detector)

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
    def crop_description(self) -> str:
        """The crop recipe this model gets, in words (and, for an old checkpoint, that it was not recorded)."""
        from fer.face.crop import describe_config

        return describe_config(self.config)

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
        rgb = load_image(image)
        return self.predict_faces(rgb, self.detect(rgb))

    def detect(self, image) -> list[Face]:
        """The faces in `image`, largest first, with this predictor's detector and `max_faces`."""
        from fer.face import detect

        return detect(image, backend=self.detector, max_faces=self.max_faces)

    def predict_faces(self, image, faces: Sequence[Face]) -> list[FacePrediction]:
        """Predictions for faces already detected in `image` (e.g. the clean photo's detections
        applied to an occluded copy of it, where a detector might fail)."""
        rgb = image if is_rgb_uint8(image) else load_image(image)
        return self.predict_crops([self.align(rgb, f) for f in faces])

    def predict_face(self, image, face: Face) -> FacePrediction:
        """The per-face entry: `face` (detected in this photo, or its clean original) cut and classified."""
        return self.predict_faces(image, [face])[0]

    def align(self, image, face: Face) -> AlignedFace:
        """The crop this model sees: its crop recipe (`config.crop`, `fer.face.crop`) at its input size."""
        from fer.face.crop import cut_for

        return cut_for(image, face, self.config)

    def predict_crops(self, crops: Sequence[AlignedFace | np.ndarray]) -> list[FacePrediction]:
        """Predictions for aligned crops (AlignedFace, or RGB uint8 arrays cut like `align` does)."""
        crops = list(crops)
        model = self.model
        out = infer_crops(model, crops, self.batch_size)
        names, config = tuple(model.config.class_names), model.config
        warning = None if config.trained else UNTRAINED_WARNING.format(name=config.name)
        region_names = head_names(model.num_heads)
        predictions = []
        for i, crop in enumerate(crops):
            aligned = crop if isinstance(crop, AlignedFace) else None
            predictions.append(
                FacePrediction(
                    label=names[int(np.argmax(out.probs[i]))],
                    probs=_as_dict(names, out.probs[i]),
                    head_probs=[_as_dict(names, h) for h in out.head_probs[i]],
                    head_mean_probs=_as_dict(names, out.head_probs[i].mean(0)),
                    fusion=out.fusion,
                    model_name=config.name,
                    provenance=config.provenance,
                    trained=bool(config.trained),
                    face=aligned.face if aligned is not None else None,
                    aligned=aligned,
                    warning=warning,
                    region_names=region_names,
                    crop_recipe=config.crop_recipe().recipe,
                )
            )
        return predictions

    def predict_arrays(self, crops: Sequence[AlignedFace | np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Fast path for sweeps: (fused probs (N, C), head probs (N, R, C)) as float32 arrays."""
        out = infer_crops(self.model, list(crops), self.batch_size)
        return out.probs, out.head_probs


def _crop_array(crop, index: int) -> np.ndarray:
    image = crop.image if isinstance(crop, AlignedFace) else crop
    if not is_rgb_uint8(image):
        what = f"shape {image.shape}, dtype {image.dtype}" if isinstance(image, np.ndarray) else type(image).__name__
        raise InputError(f"crop {index} must be an AlignedFace or an (H, W, 3) uint8 RGB array, got {what}")
    if min(image.shape[:2]) < 8:
        raise InputError(f"crop {index} is too small ({image.shape[1]}x{image.shape[0]} pixels; at least 8x8 needed)")
    return np.ascontiguousarray(image)


def _as_dict(names: Sequence[str], values: np.ndarray) -> dict[str, float]:
    return {n: float(v) for n, v in zip(names, values)}
