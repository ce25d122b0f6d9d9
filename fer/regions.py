"""The four face regions of the project's models: their names, the 2x2 split rule and its geometry.

Everything that names a region head, splits a map or a crop into four, or places a head's region
on an input image uses this module (models, explain, occlusion, robustness, the demo). It imports
nothing from the project and nothing but the standard library, so every floor may use it.

* Head order is top-left, top-right, bottom-left, bottom-right (`REGION_NAMES`); occluder
  parameters use the short codes `REGION_CODES` (TL, TR, BL, BR).
* A one-head model's head is called `SINGLE_HEAD_NAME` ("whole-face"): `head_names(n)`.
* The split rule (`split_bounds`): an even axis splits exactly; an odd one gives its middle cell to
  the top/left half ("first_larger", the paper's non-overlapping 7 -> 4 + 3) or to both halves
  ("overlap", 7 -> 4 + 4).
* A region is a box (x1, y1, x2, y2), end-exclusive, in cells of a feature map or in pixels. A
  feature map covers the input uniformly, so cell boxes scale to pixel boxes (`cells_to_pixels`);
  each model says which input pixels each head is meant to see with `FERModel.input_regions`.
"""

from __future__ import annotations

from collections.abc import Sequence

REGION_NAMES: tuple[str, ...] = ("top-left", "top-right", "bottom-left", "bottom-right")
REGION_CODES: tuple[str, ...] = ("TL", "TR", "BL", "BR")
SINGLE_HEAD_NAME = "whole-face"
ODD_SPLIT_MODES = ("first_larger", "overlap")

Box = tuple[int, int, int, int]  # x1, y1, x2, y2 (end-exclusive)
Slices = tuple[slice, slice]  # (rows, cols)


def head_names(num_heads: int) -> tuple[str, ...]:
    """The names of a model's heads: the four regions, or `SINGLE_HEAD_NAME` for a one-head model."""
    if num_heads == len(REGION_NAMES):
        return REGION_NAMES
    if num_heads == 1:
        return (SINGLE_HEAD_NAME,)
    raise ValueError(f"a model has {len(REGION_NAMES)} region heads or one head, not {num_heads}")


def split_bounds(size: int, mode: str = "first_larger") -> tuple[slice, slice]:
    """Index ranges of the first (top/left) and second (bottom/right) half of an axis of `size` cells.

    Even sizes split exactly. For odd sizes, "first_larger" gives the middle cell to the first half
    (non-overlapping, as the paper requires: 7 -> 4 + 3); "overlap" gives it to both halves
    (equal sizes 4 + 4, so regions can be batched, at the cost of one shared row/column).
    """
    if mode not in ODD_SPLIT_MODES:
        raise ValueError(f"split mode must be one of {ODD_SPLIT_MODES}, got {mode!r}")
    if size < 2:
        raise ValueError(f"cannot split a feature map axis of size {size} into two regions; use a larger input")
    first_end = (size + 1) // 2
    second_start = size // 2 if mode == "overlap" else first_end
    return slice(0, first_end), slice(second_start, size)


def split_slices(h: int, w: int, mode: str = "first_larger") -> list[Slices]:
    """The 2x2 split of an (h, w) map: (rows, cols) of each region, in head order."""
    rows, cols = split_bounds(h, mode), split_bounds(w, mode)
    return [(r, c) for r in rows for c in cols]


def slices_to_cells(slices: Sequence[Slices], h: int, w: int) -> list[Box]:
    """(rows, cols) slices of an (h, w) map -> cell boxes (c0, r0, c1, r1)."""
    cells = []
    for rows, cols in slices:
        r0, r1, _ = rows.indices(h)
        c0, c1, _ = cols.indices(w)
        cells.append((c0, r0, c1, r1))
    return cells


def cells_to_pixels(cells: Sequence[Box], feature_hw: tuple[int, int], height: int, width: int) -> list[Box]:
    """Cells of an (fh, fw) map -> boxes of input pixels (the map covers the input uniformly)."""
    fh, fw = feature_hw
    return [
        (round(c0 * width / fw), round(r0 * height / fh), round(c1 * width / fw), round(r1 * height / fh))
        for c0, r0, c1, r1 in cells
    ]


def split_boxes(
    height: int, width: int, feature_hw: tuple[int, int] = (2, 2), mode: str = "first_larger"
) -> list[Box]:
    """The 2x2 split of an (fh, fw) map, in pixels of a (height, width) input, in head order.

    With the default 2x2 map: the input's own quadrants.
    """
    fh, fw = feature_hw
    return cells_to_pixels(slices_to_cells(split_slices(fh, fw, mode), fh, fw), feature_hw, height, width)


def scale_boxes(boxes: Sequence[Box], from_hw: tuple[int, int], to_box: Sequence[float]) -> list[Box]:
    """Boxes in an (h, w) image -> pixel boxes inside the rectangle `to_box` (x1, y1, x2, y2) of another image.

    Used to place a model's input regions on a crop of another size, or on a face box in a photo.
    Coordinates are rounded to whole pixels and never negative.
    """
    h, w = from_hw
    x1, y1, x2, y2 = (float(v) for v in to_box)
    sx, sy = (x2 - x1) / w, (y2 - y1) / h
    return [
        (max(0, round(x1 + a * sx)), max(0, round(y1 + b * sy)), max(0, round(x1 + c * sx)), max(0, round(y1 + d * sy)))
        for a, b, c, d in boxes
    ]
