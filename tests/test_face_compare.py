"""fer.face.compare: the pure parts of benchmarks/faceapi_agreement.py (no node needed)."""

from __future__ import annotations

import numpy as np
import pytest

from fer.errors import InputError
from fer.face.compare import agreement, box_iou, inter_ocular, landmark_error, match_boxes


def test_box_iou():
    assert box_iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert box_iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(50 / 150)
    assert box_iou([0, 0, 10, 10], [20, 20, 30, 30]) == 0.0
    assert box_iou([0, 0, 0, 0], [0, 0, 0, 0]) == 0.0  # empty boxes overlap nothing


def test_match_boxes_is_one_to_one_best_first():
    a = [[0, 0, 10, 10], [100, 100, 120, 120], [300, 300, 310, 310]]
    b = [[101, 101, 121, 121], [1, 0, 11, 10], [2, 0, 12, 10], [500, 500, 510, 510]]
    pairs = match_boxes(a, b, min_iou=0.3)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1), (1, 0)]  # b[2] overlaps a[0] too, but less than b[1]
    assert all(iou >= 0.3 for _, _, iou in pairs)
    assert match_boxes(a, b, min_iou=0.9) == []
    assert match_boxes([], b) == [] and match_boxes(a, []) == []
    with pytest.raises(InputError, match="min_iou"):
        match_boxes(a, b, min_iou=2)


def _shape(iod: float = 40.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 100, (68, 2))
    pts[36:42] = (30.0, 50.0)
    pts[42:48] = (30.0 + iod, 50.0)
    return pts


def test_landmark_error_is_in_inter_ocular_distances():
    ref = _shape(40.0)
    assert inter_ocular(ref) == pytest.approx(40.0)
    assert landmark_error(ref, ref) == 0.0
    assert landmark_error(ref + (3.0, 4.0), ref) == pytest.approx(5 / 40)  # every point 5 px off
    assert landmark_error(ref * 2 + (6.0, 8.0), ref * 2) == pytest.approx(10 / 80)  # scale-free
    with pytest.raises(InputError, match="shapes differ"):
        landmark_error(ref[:5], ref)
    with pytest.raises(InputError, match=r"\(68, 2\)"):
        inter_ocular(ref[:60])


def test_agreement_counts_top1_and_probability_differences():
    a = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    b = np.array([[0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.3, 0.3, 0.4]])
    r = agreement(a, b)
    assert r["n"] == 3 and r["top1"] == pytest.approx(2 / 3)
    assert r["max_prob_diff"] == pytest.approx((0.1 + 0.4 + 0.0) / 3)
    assert r["mean_prob_diff"] == pytest.approx(np.abs(a - b).mean())
    assert np.isnan(agreement(np.zeros((0, 3)), np.zeros((0, 3)))["top1"])
    with pytest.raises(InputError, match="one shape"):
        agreement(a, b[:, :2])
