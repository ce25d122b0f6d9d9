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
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from fer.labels import class_names

REGION_NAMES: tuple[str, ...] = ("top-left", "top-right", "bottom-left", "bottom-right")

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

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        data = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class FERModel(nn.Module):
    """Base class: holds the config and the Grad-CAM taps; subclasses implement `forward`."""

    def __init__(self, config: ModelConfig, num_region_heads: int) -> None:
        super().__init__()
        self.config = config
        self.shared_tap = nn.Identity()
        self.region_taps = nn.ModuleList(nn.Identity() for _ in range(num_region_heads))

    @property
    def num_heads(self) -> int:
        return max(1, len(self.region_taps))

    def forward(self, x: torch.Tensor) -> ModelOutput:  # pragma: no cover - abstract
        raise NotImplementedError
