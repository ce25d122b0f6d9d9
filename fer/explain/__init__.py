"""Grad-CAM++ explanations (pytorch-grad-cam) of the fused decision and of each region head.

    from fer.explain import explain, head_overlay
    expl = explain(model, aligned_face)          # fused + one map per head, in [0, 1]
    picture = head_overlay(expl, 0)              # RGB uint8: head 0's map, its region outlined
"""

from fer.explain.engine import CamMaps, CapturedGradCAMPlusPlus, compute_maps
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
from fer.explain.targets import FusedLogOdds, FusedLogOddsTarget, HeadLogitTarget, HeadsAndFused, SingleHead

__all__ = [
    "CamMaps",
    "CapturedGradCAMPlusPlus",
    "Explanation",
    "FusedLogOddsTarget",
    "FusedLogOdds",
    "HeadLogitTarget",
    "HeadsAndFused",
    "SingleHead",
    "compute_maps",
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
