"""Attention modules used by ALFJ-Net: ECA (global enhancement) and CBAM (per-region mixed attention).

Both are written from their papers' definitions:

* ECA (Wang et al., CVPR 2020): global average pool -> 1-D convolution across the channel axis
  (odd kernel k, no bias, zero padding (k-1)/2) -> sigmoid -> scale the input.
* CBAM (Woo et al., ECCV 2018): channel gate (a shared two-layer MLP with reduction r applied to
  the average- and the max-pooled channel vectors, the two outputs summed, sigmoid), then the
  spatial gate (channel-wise max and mean maps -> 7x7 conv + BN -> sigmoid).

All operations keep the memory format of their input (channels_last works unchanged).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def eca_kernel_size(channels: int, gamma: float = 2.0, b: float = 1.0) -> int:
    """The ECA paper's adaptive kernel size: k = |log2(C)/gamma + b/gamma|, rounded down, made odd.

    C=256 -> 5, C=512 -> 5, C=1024 -> 5, C=2048 -> 7.
    """
    if channels < 1:
        raise ValueError(f"channels must be positive, got {channels}")
    t = int(abs(math.log2(channels) / gamma + b / gamma))
    return t if t % 2 else t + 1


class ECA(nn.Module):
    """Efficient Channel Attention: a cheap channel gate with local cross-channel interaction."""

    def __init__(self, channels: int, kernel_size: int | None = None, gamma: float = 2.0, b: float = 1.0) -> None:
        super().__init__()
        k = eca_kernel_size(channels, gamma, b) if kernel_size is None else int(kernel_size)
        if k < 1 or k % 2 == 0:
            raise ValueError(f"ECA kernel size must be a positive odd integer, got {k}")
        self.channels = channels
        self.kernel_size = k
        self.conv = nn.Conv1d(1, 1, kernel_size=k, padding=(k - 1) // 2, bias=False)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """The per-channel weights in (0, 1), shape (B, C, 1, 1)."""
        y = x.mean(dim=(2, 3))  # (B, C)
        y = self.conv(y.unsqueeze(1)).squeeze(1)  # 1-D conv along the channel axis
        return torch.sigmoid(y)[:, :, None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class ChannelGate(nn.Module):
    """CBAM channel attention: shared MLP over avg- and max-pooled descriptors, summed, sigmoid."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels))

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        # both descriptors through the shared MLP in one call, then summed
        both = self.mlp(torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=0))
        avg, mx = both.chunk(2, dim=0)
        return torch.sigmoid(avg + mx)[:, :, None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class SpatialGate(nn.Module):
    """CBAM spatial attention: [channel max, channel mean] -> kxk conv + BN -> sigmoid."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"spatial kernel size must be odd, got {kernel_size}")
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=(kernel_size - 1) // 2, bias=False)
        self.bn = nn.BatchNorm2d(1)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.bn(self.conv(pooled)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class CBAM(nn.Module):
    """Convolutional Block Attention Module: channel gate followed by spatial gate."""

    def __init__(self, channels: int, reduction: int = 16, spatial_kernel: int = 7) -> None:
        super().__init__()
        self.channel = ChannelGate(channels, reduction)
        self.spatial = SpatialGate(spatial_kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial(self.channel(x))
