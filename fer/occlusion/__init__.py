"""Synthetic occluders placed from face landmarks: masks, eyewear, hands, headwear, blocks, user masks.

    from fer.occlusion import apply, list_occluders, region_coverage
    out = apply(photo, face, "surgical_mask", severity=0.5, seed=0)   # out.image, out.mask
    region_coverage(apply(None, aligned, "sunglasses").mask)          # [TL, TR, BL, BR] fractions

See docs/occlusion.md for each occluder, what severity means, and how they were checked.
"""

from fer.occlusion import blocks, eyewear, hands, headwear, masks, objects, scarf, user  # noqa: F401  (register)
from fer.occlusion.api import (
    OccluderInfo,
    apply,
    apply_batch,
    face_region_boxes,
    list_occluders,
    occluder_info,
    region_coverage,
    template_face,
)
from fer.occlusion.base import FaceGeometry, Occluded

__all__ = [
    "FaceGeometry", "Occluded", "OccluderInfo", "apply", "apply_batch", "face_region_boxes",
    "list_occluders", "occluder_info", "region_coverage", "template_face",
]
