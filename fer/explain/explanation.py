"""`explain(model, face)`: Grad-CAM++ maps of the fused decision and of each head, on crop and photo."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer.explain.engine import CamMaps, check_model, compute_maps
from fer.explain.photo import crop_footprint, crop_to_photo
from fer.explain.preprocess import check_rgb_image, to_input_tensor
from fer.face.types import AlignedFace
from fer.models.base import FERModel
from fer.regions import Box, head_names


@dataclass
class Explanation:
    """Grad-CAM++ maps of one face. Maps are float32 in [0, 1] at the model's input size."""

    image: np.ndarray  # the face crop the maps were computed on (RGB uint8, as given)
    fused: np.ndarray  # (S, S): the fused decision (log-odds of `fused_class`)
    heads: np.ndarray  # (R, S, S): head k's logit of `head_classes[k]`
    fused_class: int
    head_classes: tuple[int, ...]
    class_names: tuple[str, ...]
    probs: np.ndarray  # (C,) fused probabilities
    head_probs: np.ndarray  # (R, C)
    layer: str  # where the head maps come from: "local" (region taps) or "shared"
    head_target: str  # "fused" or "own"
    region_boxes: list[Box]  # input pixels of each head's region; [] for single-head models
    aligned: AlignedFace | None = None  # the alignment, when the face came from a photo
    photo_fused: np.ndarray | None = None  # (H, W) on the photo, when photo_shape was given
    photo_heads: np.ndarray | None = None  # (R, H, W)

    @property
    def num_heads(self) -> int:
        return int(self.heads.shape[0])

    @property
    def input_size(self) -> int:
        return int(self.fused.shape[0])

    @property
    def fused_label(self) -> str:
        return self.class_names[self.fused_class]

    @property
    def head_labels(self) -> tuple[str, ...]:
        return tuple(self.class_names[c] for c in self.head_classes)

    @property
    def head_names(self) -> tuple[str, ...]:
        return head_names(len(self.region_boxes) or 1)

    def boxes_on(self, height: int, width: int) -> list[Box]:
        """The region boxes scaled from input pixels to an image of the given size."""
        s = float(self.input_size)
        return [
            (round(x1 * width / s), round(y1 * height / s), round(x2 * width / s), round(y2 * height / s))
            for x1, y1, x2, y2 in self.region_boxes
        ]

    def to_photo(self, cam: np.ndarray, photo_shape: tuple[int, ...]) -> np.ndarray:
        """A map of this explanation (e.g. `fused`, `heads[k]`) on the photo the face came from."""
        if self.aligned is None:
            raise ValueError("this explanation was computed on a bare crop: there is no photo to map back to")
        return crop_to_photo(cam, self.aligned, photo_shape)

    def photo_footprint(self, photo_shape: tuple[int, ...]) -> np.ndarray:
        """(H, W) bool: where the aligned crop (and so every map pasted back) lies on the photo."""
        if self.aligned is None:
            raise ValueError("this explanation was computed on a bare crop: there is no photo")
        return crop_footprint(self.aligned, photo_shape, self.input_size)


def explain(
    model: FERModel,
    face: AlignedFace | np.ndarray,
    target: int | str | None = None,
    head_target: str = "fused",
    layer: str = "local",
    photo_shape: tuple[int, ...] | None = None,
) -> Explanation:
    """Grad-CAM++ for the fused decision and for each head of `model`, on one face.

    face: an `AlignedFace` (from `fer.face.align`) or an RGB uint8 crop already aligned.
    target: class index or name for the fused map (None: the predicted class).
    head_target: "fused" = each head explains the fused class; "own" = its own top class.
    layer: "local" = head k at its region tap, pasted into region k (zero elsewhere);
    "shared" = head k at the shared map before the split (what it draws on through its
    receptive field). Single-head models always use the shared tap.
    photo_shape: the (H, W[, 3]) of the photo an AlignedFace came from; when given, the maps
    are also mapped back onto it (`photo_fused`, `photo_heads`).
    """
    model = check_model(model)
    aligned = face if isinstance(face, AlignedFace) else None
    image = check_rgb_image(face.image if aligned else face)
    x = to_input_tensor(image, model.config.preprocess)
    maps: CamMaps = compute_maps(model, x, target=target, head_target=head_target, layer=layer)
    result = Explanation(
        image=image,
        fused=maps.fused,
        heads=maps.heads,
        fused_class=maps.fused_class,
        head_classes=maps.head_classes,
        class_names=tuple(model.config.class_names),
        probs=maps.probs,
        head_probs=maps.head_probs,
        layer=maps.layer,
        head_target=head_target,
        region_boxes=maps.region_boxes,
        aligned=aligned,
    )
    if aligned is not None and photo_shape is not None:
        result.photo_fused = result.to_photo(result.fused, photo_shape)
        result.photo_heads = np.stack([result.to_photo(m, photo_shape) for m in result.heads])
    return result
