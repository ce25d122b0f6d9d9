"""Where each region head's part of the face lies: cells of the shared map, then input pixels.

Models split the shared map their own way (ALFJ-Net: 7 -> 4 + 3 or overlapping 4 + 4; the
reference models: overlapping halves). A model may say so itself with a method
`region_slices(h, w) -> [(rows, cols)] * 4`; otherwise the split is read off autograd once per
model and map size: region k's cells are the bounding box of the shared-map cells its tap's
output depends on (the gradient of the tap's output is exactly zero outside its slice).
"""

from __future__ import annotations

import weakref

import torch

from fer.models.base import FERModel

Box = tuple[int, int, int, int]  # x1, y1, x2, y2 (exclusive)

_CELL_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _declared_cells(model: FERModel, h: int, w: int) -> list[Box] | None:
    declare = getattr(model, "region_slices", None)
    if not callable(declare):
        return None
    cells = []
    for rows, cols in declare(h, w):
        r0, r1, _ = rows.indices(h)
        c0, c1, _ = cols.indices(w)
        cells.append((c0, r0, c1, r1))
    return cells


def _traced_cells(shared: torch.Tensor, regional: list[torch.Tensor]) -> list[Box] | None:
    """None when a tap's output does not depend on the shared map here (e.g. all its ReLUs are off)."""
    cells = []
    for out in regional:
        (grad,) = torch.autograd.grad(out, shared, torch.ones_like(out), retain_graph=True, allow_unused=True)
        support = None if grad is None else grad[0].abs().sum(0) > 0
        if support is None or not bool(support.any()):
            return None
        rows = torch.nonzero(support.any(1)).flatten()
        cols = torch.nonzero(support.any(0)).flatten()
        cells.append((int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1))
    return cells


def even_cells(h: int, w: int) -> list[Box]:
    """The plain 2×2 split of an (h, w) map, the middle row/column going to the top/left regions."""
    r, c = (h + 1) // 2, (w + 1) // 2
    return [(0, 0, c, r), (c, 0, w, r), (0, r, c, h), (c, r, w, h)]


def region_cells(model: FERModel, shared: torch.Tensor, regional: list[torch.Tensor]) -> list[Box]:
    """Each head's (c0, r0, c1, r1) cells of the shared map (B, C, h, w), from live graph tensors."""
    h, w = (int(s) for s in shared.shape[-2:])
    per_model = _CELL_CACHE.setdefault(model, {})
    if (h, w) not in per_model:
        cells = _declared_cells(model, h, w) or _traced_cells(shared, regional)
        if cells is None:  # cannot tell on this input: the plain split, not remembered
            return even_cells(h, w)
        per_model[(h, w)] = cells
    return per_model[(h, w)]


def cells_to_pixels(cells: list[Box], feature_hw: tuple[int, int], height: int, width: int) -> list[Box]:
    """Cells of an (fh, fw) map → boxes of input pixels (the map covers the input uniformly)."""
    fh, fw = feature_hw
    return [
        (round(c0 * width / fw), round(r0 * height / fh), round(c1 * width / fw), round(r1 * height / fh))
        for c0, r0, c1, r1 in cells
    ]


def region_boxes(height: int, width: int, feature_hw: tuple[int, int] = (2, 2)) -> list[Box]:
    """The plain 2×2 grid (see `even_cells`) of an (fh, fw) map in input pixels, TL, TR, BL, BR."""
    return cells_to_pixels(even_cells(*feature_hw), feature_hw, height, width)
