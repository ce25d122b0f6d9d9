"""fer.regions: one home for region names, head naming, the 2x2 split and each head's input region."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fer.models import create_model
from fer.occlusion import face_region_boxes, region_coverage
from fer.regions import REGION_NAMES, SINGLE_HEAD_NAME, head_names, scale_boxes, split_boxes, split_slices
from fer.robustness.occlude import coverage

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_head_names_one_rule():
    assert head_names(4) == REGION_NAMES == ("top-left", "top-right", "bottom-left", "bottom-right")
    assert head_names(1) == (SINGLE_HEAD_NAME,) == ("whole-face",)
    with pytest.raises(ValueError, match="4 region heads or one"):
        head_names(2)


def test_split_rule_on_maps_and_pixels():
    assert split_slices(7, 7)[3] == (slice(4, 7), slice(4, 7))
    assert split_slices(7, 7, "overlap")[3] == (slice(3, 7), slice(3, 7))
    assert split_boxes(224, 224) == [(0, 0, 112, 112), (112, 0, 224, 112), (0, 112, 112, 224), (112, 112, 224, 224)]
    assert split_boxes(112, 112, (7, 7))[0] == (0, 0, 64, 64)  # 7 -> 4 + 3 cells of 16 px
    assert scale_boxes([(0, 0, 64, 64)], (112, 112), (10, 20, 66, 76)) == [(10, 20, 42, 52)]
    with pytest.raises(ValueError, match="split mode"):
        split_slices(4, 4, "thirds")


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return {
        "alfj": create_model("alfj_resnet18", input_size=112),  # 7x7 stage-3 map: 4 + 3 cells
        "faceapi": create_model("faceapi_expression"),  # 7x7 map at 112 px, overlapping halves
        "base": create_model("base_resnet18", input_size=80),
    }


def test_default_region_slices_and_input_regions(models):
    assert models["base"].region_slices(7, 7) == [] and models["base"].input_regions(80, 80) == []
    assert models["alfj"].input_regions(112, 112) == [(0, 0, 64, 64), (64, 0, 112, 64), (0, 64, 64, 112),
                                                       (64, 64, 112, 112)]  # fmt: skip
    assert models["faceapi"].input_regions(112, 112) == [(0, 0, 64, 64), (48, 0, 112, 64), (0, 48, 64, 112),
                                                          (48, 48, 112, 112)]  # fmt: skip


def test_coverage_is_measured_on_the_cells_each_head_sees(models):
    mask = np.zeros((112, 112), np.float32)
    mask[:, 48:64] = 1.0  # a band the faceapi model's TL and TR heads both see
    assert region_coverage(mask) == pytest.approx([8 / 56, 8 / 56, 8 / 56, 8 / 56])  # plain quadrants
    regions = models["faceapi"].input_regions(112, 112)
    assert region_coverage(mask, regions=regions, regions_hw=(112, 112)) == pytest.approx([0.25] * 4)
    alfj = coverage(mask[None], models["alfj"])[0]  # TL sees columns 0..64, TR 64..112
    assert alfj == pytest.approx([0.25, 0.0, 0.25, 0.0])
    assert coverage(mask[None], models["base"])[0] == pytest.approx([8 / 56] * 4)  # one head: quadrants
    # the same regions on a crop of another size, and on a face box in a photo
    assert face_region_boxes((224, 224), regions=regions, regions_hw=(112, 112))[1] == (96, 0, 224, 128)
    assert face_region_boxes((100, 100), box=(50, 50, 150, 150))[3] == (100, 100, 100, 100)  # clipped
