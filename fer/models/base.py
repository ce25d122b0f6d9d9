"""The output and configuration contract every model of the project follows.

* `model(x)` returns `ModelOutput(head_logits)` with `head_logits` of shape (B, R, C):
  R = 4 region heads in the order top-left, top-right, bottom-left, bottom-right, or R = 1
  for single-head models. `probs` is the model's fused decision. For ALFJ-Net and every
  model trained with heads it is `head_mean_probs = softmax(head_logits, -1).mean(1)` (the
  paper's decision-level fusion: the sum of the heads' probabilities, normalised). A model
  whose heads are a decomposition of one classifier (the reference models) overrides it with
  that classifier's own output, so every front end reports the same fused numbers.
* `model.config` is a `ModelConfig`: everything needed to rebuild the model and to
  preprocess a face for it; it is stored in the checkpoint's metadata.
* `model.shared_tap` (an `nn.Identity`) sees the last feature map shared by all heads (for
  ALFJ-Net: the ECA-enhanced map before the split); `model.region_taps[k]` (an `nn.Identity`
  each, empty for single-head models) sees head k's own local feature map. Grad-CAM hooks
  these modules, so a shared stage-4 module called four times is still told apart.
* `model.region_slices(h, w)`: the cells of the shared map each head sees (default: the standard
  2x2 split of `fer.regions`); `model.input_regions(height, width)`: the input pixels each head is
  meant to see (default: those cells mapped onto the input). Explain, occlusion coverage and the
  locality measurement read these; a model whose heads see something else overrides them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fer.errors import FERError
from fer.labels import class_names
from fer.regions import (
    Box,
    Slices,
    cells_to_pixels,
    slices_to_cells,
    split_slices,
)

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ModelOutput:
    """What every model returns: per-head logits, and the fused probabilities derived from them."""

    head_logits: torch.Tensor  # (B, R, C)

    @property
    def head_probs(self) -> torch.Tensor:  # (B, R, C)
        return F.softmax(self.head_logits, dim=-1)

    @property
    def head_mean_probs(self) -> torch.Tensor:  # (B, C)
        return self.head_probs.mean(dim=1)

    @property
    def probs(self) -> torch.Tensor:  # (B, C): the fused decision
        return self.head_mean_probs

    @property
    def num_heads(self) -> int:
        return self.head_logits.shape[1]


@dataclass
class Preprocess:
    """How an aligned RGB uint8 face crop becomes the model's input tensor.

    x = (rgb / 255 - mean) / std, after conversion to one grey channel when `grayscale`.
    `face_scale` is passed to `fer.face.align`: the size of the face in the crop relative to
    the project's canonical template (1.0 = the template; < 1 = looser crop, more context).
    """

    input_size: int = 224
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    grayscale: bool = False
    face_scale: float = 1.0

    def to_tensor(self, crop: np.ndarray) -> torch.Tensor:
        """RGB uint8 H×W×3 crop → normalised C×S×S tensor (a plain resize when it is not S×S):
        the one evaluation transform, used by the Predictor, evaluation, explain and robustness."""
        s = self.input_size
        if crop.shape[0] != s or crop.shape[1] != s:
            import cv2

            interp = cv2.INTER_AREA if crop.shape[0] > s else cv2.INTER_LINEAR
            crop = cv2.resize(crop, (s, s), interpolation=interp)
        x = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1).float().div_(255.0)
        return self.normalise(x)

    def batch(self, crops, out: torch.Tensor | None = None) -> torch.Tensor:
        """A sequence (or (N, H, W, 3) stack) of crops → the (N, C, S, S) input tensor (written into
        `out` when given, e.g. a video's one reused input buffer)."""
        tensors = [self.to_tensor(c) for c in crops]
        return torch.stack(tensors) if out is None else torch.stack(tensors, out=out)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """(3, H, W) float RGB in [0, 1] → the model's channels: grey first when `grayscale`, then (x - mean) / std."""
        if self.grayscale:
            x = 0.299 * x[0:1] + 0.587 * x[1:2] + 0.114 * x[2:3]
        c = x.shape[0]
        mean = torch.tensor((tuple(self.mean) * c)[:c]).view(-1, 1, 1)
        std = torch.tensor((tuple(self.std) * c)[:c]).view(-1, 1, 1)
        return (x - mean) / std


CROP_RECIPES = ("similarity5", "faceapi", "fer_box", "rafdb")  # implemented in fer.face.crop
CROP_COLOURS = ("rgb", "grey")
LEGACY_CROP_RECIPE = "similarity5"  # what every model got before crops were recorded


@dataclass
class CropSpec:
    """How a face is cut from the photo for this model (the recipes: `fer.face.crop`).

    The output is always an input_size × input_size RGB uint8 crop (grey in all three channels when
    `colour` is "grey"); each recipe reads only its own fields:
    similarity5 / rafdb: `face_scale` (the 5-point template's size; < 1 = looser); faceapi: `padding`
    (fraction of the 68-point box added, half on each side); fer_box: `margin_px` (pixels each side).
    """

    recipe: str = LEGACY_CROP_RECIPE
    face_scale: float = 1.0
    padding: float = 0.2
    margin_px: int = 10
    colour: str = "rgb"

    def validate(self) -> CropSpec:
        from fer.errors import CheckpointError

        if self.recipe not in CROP_RECIPES:
            raise CheckpointError(f"unknown crop recipe {self.recipe!r}; known: {', '.join(CROP_RECIPES)}")
        if self.colour not in CROP_COLOURS:
            raise CheckpointError(f"crop colour must be one of {CROP_COLOURS}, not {self.colour!r}")
        if not 0.05 <= float(self.face_scale) <= 5:
            raise CheckpointError(f"crop face_scale must be in [0.05, 5], got {self.face_scale}")
        if not 0 <= float(self.padding) <= 3:
            raise CheckpointError(f"crop padding must be in [0, 3], got {self.padding}")
        if not 0 <= int(self.margin_px) <= 1000 or int(self.margin_px) != self.margin_px:
            raise CheckpointError(f"crop margin_px must be a whole number in [0, 1000], got {self.margin_px}")
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CropSpec:
        from fer.errors import CheckpointError

        if not isinstance(data, dict):
            raise CheckpointError(f"the crop recipe must be a mapping, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CheckpointError(f"unknown crop recipe fields {unknown}; known: {sorted(known)}")
        try:
            return cls(**data).validate()
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"the crop recipe {data} is malformed: {exc}") from None


@dataclass
class ModelConfig:
    """Everything that defines a predictor: rebuilt from a checkpoint's metadata."""

    name: str
    num_classes: int = 7
    class_names: tuple[str, ...] = ()
    preprocess: Preprocess = field(default_factory=Preprocess)
    arch: dict[str, Any] = field(default_factory=dict)  # architecture options given to create_model
    trained: bool = False  # True only for weights really trained on expression data
    provenance: str = "randomly initialised; not trained on expression data"
    crop: CropSpec | None = field(default_factory=CropSpec)  # None: an old checkpoint that recorded none

    def __post_init__(self) -> None:
        if not self.class_names:
            self.class_names = class_names(self.num_classes)
        self.class_names = tuple(self.class_names)
        if isinstance(self.preprocess, dict):
            pp = dict(self.preprocess)
            for key in ("mean", "std"):
                if key in pp:
                    pp[key] = tuple(pp[key])
            self.preprocess = Preprocess(**pp)
        if isinstance(self.crop, dict):
            self.crop = CropSpec.from_dict(self.crop)

    def crop_recipe(self) -> CropSpec:
        """The crop this model was made for; for an old checkpoint without one, today's rule (`crop_note` says so)."""
        if self.crop is not None:
            return self.crop
        return CropSpec(LEGACY_CROP_RECIPE, face_scale=float(self.preprocess.face_scale))

    @property
    def crop_note(self) -> str | None:
        """A plain sentence when the crop was not recorded (old checkpoint), else None."""
        if self.crop is not None:
            return None
        return (
            f"no crop recipe recorded for {self.name!r} (older checkpoint): using the project's default, "
            f"5-point similarity alignment at face_scale {float(self.preprocess.face_scale):g}"
        )

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        data = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        config = cls(**{k: v for k, v in data.items() if k in known and not (k == "crop" and v is None)})
        if data.get("crop") is None:
            config.crop = None
            log.info("%s", config.crop_note)
        return config


class FERModel(nn.Module):
    """Base class: holds the config and the Grad-CAM taps; subclasses implement `forward`."""

    def __init__(self, config: ModelConfig, num_region_heads: int) -> None:
        super().__init__()
        self.config = config
        self.shared_tap = nn.Identity()
        self.region_taps = nn.ModuleList(nn.Identity() for _ in range(num_region_heads))
        self._region_cache: dict = {}  # (kind, h, w) -> boxes, see region_cells / input_regions

    @property
    def num_heads(self) -> int:
        return max(1, len(self.region_taps))

    def region_slices(self, h: int, w: int) -> list[Slices]:
        """(rows, cols) of the shared map (h, w) each head sees, in head order; [] for one-head models.

        Default: the standard 2x2 split (`fer.regions.split_slices`). A subclass that overrides this
        declares its split; without an override the cells are read off the graph where possible
        (see `region_cells`), so a model that splits its map another way is still placed right.
        """
        return split_slices(h, w) if self.region_taps else []

    def region_cells(self, shared: torch.Tensor, regional: list[torch.Tensor]) -> list[Box]:
        """Each head's (c0, r0, c1, r1) cells of the shared map, from one forward pass's tap outputs.

        A declared `region_slices` is used as given. Otherwise region k's cells are the bounding box
        of the shared-map cells its tap's output depends on (the gradient is exactly zero outside
        them); when that cannot be told on this input (e.g. all ReLUs off), the standard split.
        Remembered per map size, except the fallback.
        """
        h, w = (int(s) for s in shared.shape[-2:])
        if not self.region_taps:
            return []
        key = ("cells", h, w)
        if key not in self._region_cache:
            declared = type(self).region_slices is not FERModel.region_slices
            cells = None if declared else _traced_cells(shared, regional)
            if cells is None and not declared:
                return slices_to_cells(self.region_slices(h, w), h, w)
            self._region_cache[key] = cells or slices_to_cells(self.region_slices(h, w), h, w)
        return self._region_cache[key]

    def input_regions(self, height: int, width: int) -> list[Box]:
        """Pixel boxes (x1, y1, x2, y2) of the (height, width) input each head is meant to see; [] for one head.

        Default: the head's `region_cells` mapped onto the input (the shared map covers the input
        uniformly), found with one probe forward pass per input size. A model whose heads see exact
        input regions (e.g. each quadrant through its own trunk) overrides this.
        """
        if not self.region_taps:
            return []
        key = ("input", int(height), int(width))
        if key not in self._region_cache:
            shared, regional = self._probe_taps(int(height), int(width))
            cells = self.region_cells(shared, regional)
            self._region_cache[key] = cells_to_pixels(cells, tuple(shared.shape[-2:]), int(height), int(width))
        return list(self._region_cache[key])

    def _probe_taps(self, height: int, width: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The tap outputs of one eval-mode forward pass on a fixed random input of the given size."""
        param = next(iter(self.parameters()), None)
        channels = 1 if self.config.preprocess.grayscale else 3
        gen = torch.Generator().manual_seed(0)
        x = torch.rand(1, channels, height, width, generator=gen)
        if param is not None:
            x = x.to(device=param.device, dtype=param.dtype if param.is_floating_point() else x.dtype)
        seen: dict[int, torch.Tensor] = {}
        thread = threading.get_ident()

        def keeper(i: int):
            def keep(_module, _inputs, out):
                if threading.get_ident() == thread:  # a server may run another request meanwhile
                    seen.setdefault(i, out)

            return keep

        taps = [self.shared_tap, *self.region_taps]
        handles = [tap.register_forward_hook(keeper(i)) for i, tap in enumerate(taps)]
        was_training = self.training
        try:
            self.eval()
            with torch.enable_grad():
                self(x.requires_grad_(True))
        finally:
            for handle in handles:
                handle.remove()
            self.train(was_training)
        if len(seen) != len(taps):
            raise FERError(f"{type(self).__name__} did not pass its features through shared_tap/region_taps")
        return seen[0], [seen[i] for i in range(1, len(taps))]

    def forward(self, x: torch.Tensor) -> ModelOutput:  # pragma: no cover - abstract
        raise NotImplementedError


def _traced_cells(shared: torch.Tensor, regional: list[torch.Tensor]) -> list[Box] | None:
    """None when a tap's output does not depend on the shared map here (e.g. all its ReLUs are off)."""
    cells = []
    for out in regional:
        if not (shared.requires_grad and out.requires_grad):
            return None
        (grad,) = torch.autograd.grad(out, shared, torch.ones_like(out), retain_graph=True, allow_unused=True)
        support = None if grad is None else grad[0].abs().sum(0) > 0
        if support is None or not bool(support.any()):
            return None
        rows = torch.nonzero(support.any(1)).flatten()
        cols = torch.nonzero(support.any(0)).flatten()
        cells.append((int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1))
    return cells
