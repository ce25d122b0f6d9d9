"""PyTorch port of face-api's expression network (FaceExpressionNet, @vladmandic/face-api).

Architecture (from the package's `src/faceFeatureExtractor` and `src/faceProcessor`): four
"dense blocks" of 3x3 convolutions with TF "same" padding, then 7x7 average pooling (global at
the 112x112 input) and a fully connected layer 256 -> 7.

    dense block: out1 = relu(conv0(x))            # stride 2; plain conv in block 0, separable after
                 out2 = sep1(out1)
                 out3 = sep2(relu(out1 + out2))
                 out4 = sep3(relu(out1 + out2 + out3))
                 return relu(out1 + out2 + out3 + out4)

Input: RGB in [0, 255], minus the mean RGB (122.782, 117.001, 104.298), divided by 255.
Channels 3 -> 32 -> 64 -> 128 -> 256; spatial 112 -> 56 -> 28 -> 14 -> 7.

As a project model, the 7x7x256 map is split into four regions (see `reference_regions`) and
the same fc layer is applied to each region's pooled features: those are the four heads.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fer.models.base import FERModel, ModelConfig
from fer.models.reference_layers import SameConv2d, SeparableConv2d
from fer.models.reference_regions import SPLIT_MODE, ReferenceOutput, pool_regions
from fer.regions import split_slices

CHANNELS = (32, 64, 128, 256)


class DenseBlock(nn.Module):
    def __init__(self, cin: int, cout: int, first: bool) -> None:
        super().__init__()
        self.conv0 = SameConv2d(cin, cout, 3, stride=2) if first else SeparableConv2d(cin, cout, stride=2)
        self.conv1 = SeparableConv2d(cout, cout)
        self.conv2 = SeparableConv2d(cout, cout)
        self.conv3 = SeparableConv2d(cout, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out1 = F.relu(self.conv0(x))
        out2 = self.conv1(out1)
        out3 = self.conv2(F.relu(out1 + out2))
        out4 = self.conv3(F.relu(out1 + out2 + out3))
        return F.relu(out1 + out2 + out3 + out4)


class FaceApiExpressionNet(FERModel):
    """face-api's FaceExpressionNet, exposed as a four-region model (heads share its fc layer)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config, num_region_heads=4)
        cins = (3,) + CHANNELS[:-1]
        self.dense = nn.Sequential(*(DenseBlock(i, o, first=k == 0) for k, (i, o) in enumerate(zip(cins, CHANNELS))))
        self.fc = nn.Linear(CHANNELS[-1], config.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.shared_tap(self.dense(x))

    def region_slices(self, h: int, w: int) -> list[tuple[slice, slice]]:
        """Cells of the (h, w) shared map each head pools (for Grad-CAM region boxes)."""
        return split_slices(h, w, SPLIT_MODE)

    def forward(self, x: torch.Tensor) -> ReferenceOutput:
        fmap = self.features(x)
        head_logits = self.fc(pool_regions(fmap, self.region_taps))
        whole_logits = self.fc(fmap.mean(dim=(2, 3)))
        return ReferenceOutput(head_logits=head_logits, whole_logits=whole_logits)
