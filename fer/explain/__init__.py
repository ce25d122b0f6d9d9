"""Grad-CAM++ explanations (pytorch-grad-cam) of the fused decision and of each region head.

    from fer.explain import explain, head_overlay
    expl = explain(model, aligned_face)          # fused + one map per head, in [0, 1]
    picture = head_overlay(expl, 0)              # RGB uint8: head 0's map, its region outlined

The public face is what this package exports: `explain` and its `Explanation`, the overlays, and
`to_input_tensor` (the tensor the model sees). The machinery behind them stays in its modules:
`fer.explain.engine` (`compute_maps`, the CAM class), `fer.explain.targets` (what is explained),
`fer.explain.direct` (the library's own maps, for comparison) and `fer.explain.photo` (maps on the photo).
"""

from fer.explain.explanation import Explanation, explain
from fer.explain.overlay import (
    draw_regions,
    fused_overlay,
    head_overlay,
    heatmap_on_image,
    montage,
    panel_titles,
    photo_overlay,
)
from fer.explain.preprocess import to_input_tensor

__all__ = [
    "Explanation",
    "draw_regions",
    "explain",
    "fused_overlay",
    "head_overlay",
    "heatmap_on_image",
    "montage",
    "panel_titles",
    "photo_overlay",
    "to_input_tensor",
]
