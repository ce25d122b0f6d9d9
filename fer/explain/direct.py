"""The slow, obvious way: one plain pytorch-grad-cam call per map (a forward and a full backward each).

This is the reference the fast path in `engine.py` is checked against (tests, benchmarks/cam_speed.py):
each map comes from the library's own `GradCAMPlusPlus.__call__` on a single-output view of the
model with the library's `ClassifierOutputTarget`. Local head maps are resized to the head's
region (the one thing changed: `get_target_width_height`) and pasted in place.
"""

from __future__ import annotations

import numpy as np
import torch
from pytorch_grad_cam import GradCAMPlusPlus
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from fer.explain.targets import FusedLogOdds, SingleHead
from fer.models.base import FERModel
from fer.regions import Box


class RegionSizedGradCAMPlusPlus(GradCAMPlusPlus):
    """The library's whole Grad-CAM++ call, with the map resized to (width, height) instead of the input."""

    def __init__(self, model: torch.nn.Module, target_layers: list[torch.nn.Module], size_wh: tuple[int, int]):
        super().__init__(model=model, target_layers=target_layers)
        self.size_wh = size_wh

    def get_target_width_height(self, input_tensor):  # noqa: ARG002
        return self.size_wh


def library_fused_map(model: FERModel, x: torch.Tensor, category: int) -> np.ndarray:
    """One plain library call: the fused log-odds of `category` at the shared tap."""
    with GradCAMPlusPlus(model=FusedLogOdds(model), target_layers=[model.shared_tap]) as cam:
        return cam(x, [ClassifierOutputTarget(category)])[0]


def library_head_map(model: FERModel, x: torch.Tensor, head: int, category: int, box: Box | None) -> np.ndarray:
    """One plain library call: head `head`'s logit, at its region tap pasted into `box`, or at the shared tap."""
    view = SingleHead(model, head)
    if box is None:
        with GradCAMPlusPlus(model=view, target_layers=[model.shared_tap]) as cam:
            return cam(x, [ClassifierOutputTarget(category)])[0]
    x1, y1, x2, y2 = box
    with RegionSizedGradCAMPlusPlus(view, [model.region_taps[head]], (x2 - x1, y2 - y1)) as cam:
        region = cam(x, [ClassifierOutputTarget(category)])[0]
    full = np.zeros(x.shape[-2:], np.float32)
    full[y1:y2, x1:x2] = region
    return full


def library_maps(
    model: FERModel, x: torch.Tensor, fused_class: int, head_classes: tuple[int, ...], boxes: list[Box] | None
) -> tuple[np.ndarray, np.ndarray]:
    """(fused, heads) with one library call per map; `boxes` None or [] = head maps at the shared tap."""
    fused = library_fused_map(model, x, fused_class)
    heads = [library_head_map(model, x, k, c, boxes[k] if boxes else None) for k, c in enumerate(head_classes)]
    return fused, np.stack(heads)
