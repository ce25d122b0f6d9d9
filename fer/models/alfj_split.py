"""Where ALFJ-Net splits: the trunk cut into stages, and the per-region part before stage 4.

The paper splits the ECA-enhanced stage-3 map 2x2 (`split_at=3`). Its cells already see the whole
face (docs/locality.md), so the heads are not local in the image. Splitting earlier makes them more
local: with `split_at=s` in (1, 2) the trunk runs up to stage s on the whole face, the stage-s map is
cut 2x2 and stages s+1..3 run on each region alone; with `split_at=0` (the input split, "patch")
each image quadrant passes through the whole trunk alone, so a head depends on its quadrant's
pixels only (exactly: its cross-talk with the other quadrants is zero).

Either way each region's stage-3 map gets the ECA gate on its own (a global pool over the whole
face would mix the regions again), and the four maps are put back side by side into one mosaic
(TL TR / BL BR): that mosaic is the model's `shared_tap` (what the fused Grad-CAM++ map is drawn
on, covering the face like the paper's stage-3 map) and is cut again into the regions that go on to
stage 4, CBAM and the heads as in the paper.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

SPLIT_POINTS = (0, 1, 2, 3)  # 0: the input image; s: after stage s (3: the paper)


def trunk_stages(trunk: nn.Module) -> list[nn.Module]:
    """[stem, stage 1, stage 2, stage 3] of a ResNet or IR-50 trunk (views of its own modules)."""
    if hasattr(trunk, "layer1"):
        stem = nn.Sequential(trunk.conv1, trunk.bn1, trunk.relu, trunk.maxpool)
        return [stem, trunk.layer1, trunk.layer2, trunk.layer3]
    if hasattr(trunk, "body"):
        from fer.models.backbones import IR50_UNITS

        b1, b2 = IR50_UNITS[0], IR50_UNITS[0] + IR50_UNITS[1]
        body = list(trunk.body)
        return [trunk.input_layer, nn.Sequential(*body[:b1]), nn.Sequential(*body[b1:b2]), nn.Sequential(*body[b2:])]
    raise TypeError(f"cannot cut a {type(trunk).__name__} into stages")


def trunk_tail(trunk: nn.Module, split_at: int) -> nn.Sequential:
    """The stages of `trunk` that run per region when splitting at `split_at` (shares the modules)."""
    return nn.Sequential(*trunk_stages(trunk)[split_at:])


def separate_tails(trunk: nn.Module, split_at: int, copies: int = 3) -> nn.ModuleList:
    """Own copies of the per-region stages for regions 2..4 (region 1 uses the trunk's own)."""
    return nn.ModuleList(copy.deepcopy(trunk_tail(trunk, split_at)) for _ in range(copies))


def run_shared(trunk: nn.Module, x: torch.Tensor, split_at: int) -> torch.Tensor:
    """The part of the trunk all regions share (the identity for the input split)."""
    for stage in trunk_stages(trunk)[:split_at]:
        x = stage(x)
    return x


def run_tails(tails: list[nn.Module], regions: list[torch.Tensor]) -> list[torch.Tensor]:
    """Each region through its tail; one batched call when the tail is shared and sizes agree."""
    if len(tails) == 1 and all(r.shape == regions[0].shape for r in regions):
        return list(tails[0](torch.cat(regions, dim=0)).chunk(len(regions), dim=0))
    if len(tails) == 1:
        tails = tails * len(regions)
    return [tail(r) for tail, r in zip(tails, regions)]


def mosaic(regions: list[torch.Tensor]) -> torch.Tensor:
    """[TL, TR, BL, BR] maps side by side: (B, C, h_top + h_bottom, w_left + w_right)."""
    tl, tr, bl, br = regions
    if tl.shape[-2] != tr.shape[-2] or bl.shape[-2] != br.shape[-2] or tl.shape[-1] != bl.shape[-1]:
        raise ValueError(f"region maps do not tile: {[tuple(r.shape[-2:]) for r in regions]}")
    return torch.cat([torch.cat([tl, tr], dim=-1), torch.cat([bl, br], dim=-1)], dim=-2)
