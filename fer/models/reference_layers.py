"""Layers shared by the ports of TensorFlow models: TF "same" padding, separable convolutions.

TensorFlow's "same" padding puts the odd pixel of padding at the bottom/right (a 3x3 stride-2
convolution of an even-sized input pads 0 on top and 1 at the bottom); PyTorch's symmetric
`padding=` cannot express that, so the padding is applied explicitly before a "valid" op.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def tf_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of one axis, as TensorFlow's "same" computes it."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_same(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    top, bottom = tf_same_padding(x.shape[-2], kernel, stride)
    left, right = tf_same_padding(x.shape[-1], kernel, stride)
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


class SameConv2d(nn.Conv2d):
    """`nn.Conv2d` with TensorFlow "same" padding (square kernel and stride)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["padding"] = 0
        super().__init__(*args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, stride = self.kernel_size[0], self.stride[0]
        top, bottom = tf_same_padding(x.shape[-2], k, stride)
        left, right = tf_same_padding(x.shape[-1], k, stride)
        if top == bottom and left == right:  # symmetric (every stride-1 conv): the conv's own zero padding
            return F.conv2d(x, self.weight, self.bias, self.stride, (top, left), self.dilation, self.groups)
        return super().forward(F.pad(x, (left, right, top, bottom)))


class SameMaxPool2d(nn.Module):
    """Max pooling with TensorFlow "same" padding (padded cells never win: they are -inf)."""

    def __init__(self, kernel: int, stride: int) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = pad_same(x, self.kernel, self.stride, value=float("-inf"))
        return F.max_pool2d(x, self.kernel, self.stride)


class SeparableConv2d(nn.Module):
    """Depthwise 3x3 (stride applied here) then pointwise 1x1, as `tf.separableConv2d`."""

    def __init__(self, cin: int, cout: int, stride: int = 1, bias: bool = True) -> None:
        super().__init__()
        self.depthwise = SameConv2d(cin, cin, 3, stride=stride, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))
