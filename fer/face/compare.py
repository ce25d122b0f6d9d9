"""Comparing two face pipelines on the same photos: faces matched by box overlap, then agreement.

Used by `benchmarks/faceapi_agreement.py` (face-api's own pipeline against ours); pure NumPy, so
it is tested without the other pipeline.

* `box_iou(a, b)`: intersection over union of two x1, y1, x2, y2 boxes.
* `match_boxes(boxes_a, boxes_b, min_iou)`: one-to-one pairs, highest overlap first (greedy).
* `inter_ocular(points68)`: the distance between the two eye centres (points 36-41 and 42-47).
* `landmark_error(points, reference)`: mean point distance over the reference's inter-ocular distance.
* `agreement(probs_a, probs_b)`: top-1 agreement and probability differences over matched faces.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fer.errors import InputError


def box_iou(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1]) + max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def match_boxes(boxes_a: Sequence, boxes_b: Sequence, min_iou: float = 0.3) -> list[tuple[int, int, float]]:
    """[(index in a, index in b, IoU)] pairing each box at most once, highest IoU first, IoU ≥ `min_iou`."""
    if not 0 <= min_iou <= 1:
        raise InputError(f"min_iou must be within [0, 1], got {min_iou}")
    pairs = sorted(((box_iou(a, b), i, j) for i, a in enumerate(boxes_a) for j, b in enumerate(boxes_b)),
                   key=lambda t: (-t[0], t[1], t[2]))
    used_a, used_b, out = set(), set(), []
    for iou, i, j in pairs:
        if iou < min_iou or iou == 0:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append((i, j, iou))
    return sorted(out)


def inter_ocular(points68) -> float:
    p = np.asarray(points68, np.float64)
    if p.shape != (68, 2):
        raise InputError(f"68-point landmarks must have shape (68, 2), got {p.shape}")
    return float(np.linalg.norm(p[36:42].mean(0) - p[42:48].mean(0)))


def landmark_error(points, reference) -> float:
    """Mean distance between `points` and `reference` (both (68, 2)), in the reference's inter-ocular distances."""
    p, r = np.asarray(points, np.float64), np.asarray(reference, np.float64)
    if p.shape != r.shape:
        raise InputError(f"landmark shapes differ: {p.shape} vs {r.shape}")
    iod = inter_ocular(r)
    if not iod > 0:
        raise InputError("the reference landmarks have no inter-ocular distance")
    return float(np.linalg.norm(p - r, axis=1).mean() / iod)


def agreement(probs_a, probs_b) -> dict:
    """Over N matched faces ((N, C) probabilities in the same class order): the share with the same
    top class, the mean over faces of the largest per-class difference, and of the mean one."""
    a, b = np.asarray(probs_a, np.float64), np.asarray(probs_b, np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise InputError(f"probabilities must be two (N, C) arrays of one shape, got {a.shape} and {b.shape}")
    if len(a) == 0:
        return {"n": 0, "top1": float("nan"), "max_prob_diff": float("nan"), "mean_prob_diff": float("nan")}
    diff = np.abs(a - b)
    return {
        "n": int(len(a)),
        "top1": float((a.argmax(1) == b.argmax(1)).mean()),
        "max_prob_diff": float(diff.max(1).mean()),
        "mean_prob_diff": float(diff.mean()),
    }
