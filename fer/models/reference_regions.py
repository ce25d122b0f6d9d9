"""Four-region decomposition of a global-average-pooled classifier.

A classifier that ends in global average pooling (GAP) followed by an affine map (or an
affine map followed by GAP) has whole-face logits equal to the mean of per-region logits,
as long as the regions' pooling weights add up to one at every cell and every region carries
the same total weight. `quadrant_weights` builds such weights for any grid size:

* even side: plain halves;
* odd side (face-api's 7x7 map): the middle row/column is shared, each half counting it with
  weight 0.5, so each region still carries exactly a quarter of the map.

Region k's *slice* is the rectangle of cells where its weight is non-zero (4x4 on a 7x7 map,
2x2 on a 4x4 map): `fer.regions.split_slices(h, w, "overlap")`; its weighted mean over that slice
is its pooled feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from fer.models.base import ModelOutput
from fer.regions import split_slices

SPLIT_MODE = "overlap"  # the odd middle row/column belongs to both halves (weight 0.5 in each)


def _half_weights(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """1-D weights of the first and second half of a side of length n (they sum to 1 per cell)."""
    first = torch.zeros(n)
    first[: n // 2] = 1.0
    if n % 2:
        first[n // 2] = 0.5
    return first, 1.0 - first


def quadrant_weights(h: int, w: int) -> torch.Tensor:
    """(4, h, w) pooling weights for TL, TR, BL, BR; each sums to h*w/4, together to 1 per cell."""
    top, bottom = _half_weights(h)
    left, right = _half_weights(w)
    rows = (top, top, bottom, bottom)
    cols = (left, right, left, right)
    return torch.stack([r[:, None] * c[None, :] for r, c in zip(rows, cols)])


def pool_regions(fmap: torch.Tensor, region_taps: nn.ModuleList) -> torch.Tensor:
    """Weighted mean of each region of `fmap` (B, C, H, W) -> (B, 4, C).

    Each region's slice passes through its own tap (an `nn.Identity` Grad-CAM hooks), so a
    region head's gradient reaches only the cells that region pools. The mean of the four
    results equals `fmap.mean((2, 3))` exactly (up to float rounding).
    """
    h, w = fmap.shape[-2:]
    weights = quadrant_weights(h, w).to(fmap)
    quarter = h * w / 4.0
    pooled = []
    for k, (rows, cols) in enumerate(split_slices(h, w, SPLIT_MODE)):
        part = region_taps[k](fmap[..., rows, cols])
        pooled.append((part * weights[k, rows, cols]).sum(dim=(-2, -1)) / quarter)
    return torch.stack(pooled, dim=1)


@dataclass
class ReferenceOutput(ModelOutput):
    """`ModelOutput` plus the original classifier's own whole-face logits (B, C).

    The heads are a decomposition of one pretrained classifier, so the fused decision `probs`
    is that classifier's own output: `whole_probs` = softmax(mean of the heads' logits).
    `head_mean_probs` (the mean of the four heads' softmaxes, ALFJ-Net's fusion rule) is kept
    for comparison; the two agree on confident faces and differ in general.
    """

    whole_logits: torch.Tensor | None = None

    @property
    def whole_probs(self) -> torch.Tensor:
        return F.softmax(self.whole_logits, dim=-1)

    @property
    def probs(self) -> torch.Tensor:
        return self.whole_probs
