"""The PyTorch MTCNN port against the reference implementation's recorded outputs (facenet-pytorch
2.6.0, default settings; recorded once by scripts/convert_mtcnn.py --record-reference)."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from fer.errors import CheckpointError
from fer.face.mtcnn import MTCNN, NMS_NUMPY_MAX, WEIGHTS_PATH, _nms_min, _nms_union, get_mtcnn

pytestmark = pytest.mark.usefixtures("one_torch_thread")


REFERENCE = Path(__file__).parent / "data" / "mtcnn_reference.json"


def _image(name: str, astronaut) -> np.ndarray:
    if name == "astronaut.png":
        return astronaut
    spec = importlib.util.find_spec("insightface")
    if spec is None:
        pytest.skip("insightface (holder of the sample photo t1.jpg) is not installed")
    from PIL import Image

    path = Path(spec.origin).parent / "data" / "images" / name
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.mark.parametrize("name", [r["image"] for r in json.loads(REFERENCE.read_text())["images"]])
def test_matches_reference_within_1px(name, astronaut):
    rec = next(r for r in json.loads(REFERENCE.read_text())["images"] if r["image"] == name)
    rgb = _image(name, astronaut)
    assert list(rgb.shape) == rec["shape"]
    det = get_mtcnn().detect(rgb)
    ref_boxes, ref_points = np.array(rec["boxes"]), np.array(rec["points"])
    assert len(det.boxes) == len(ref_boxes) >= 1
    # pair each reference face with our nearest box (the reference orders by area; ties are possible)
    for rb, rp, rs in zip(ref_boxes, ref_points, rec["scores"]):
        k = int(np.argmin(np.abs(det.boxes - rb).max(1)))
        assert np.abs(det.boxes[k] - rb).max() <= 1.0
        assert np.abs(det.points[k] - rp).max() <= 1.0
        assert abs(float(det.scores[k]) - rs) <= 1e-3


def test_weights_are_the_converted_ones():
    from safetensors import safe_open

    with safe_open(str(WEIGHTS_PATH), "pt") as f:
        assert f.metadata()["license"] == "MIT"
        keys = set(f.keys())
    assert keys == set(MTCNN().state_dict().keys())  # every parameter comes from the file


def test_missing_or_broken_weights_raise_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        MTCNN().load_weights(tmp_path / "absent.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(WEIGHTS_PATH.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="cannot be loaded"):
        MTCNN().load_weights(bad)


def test_pyramid_scales():
    m = MTCNN(min_face=20, factor=0.709)
    s = m.scales(480, 640)
    assert s[0] == pytest.approx(0.6)
    assert all(b == pytest.approx(a * 0.709) for a, b in zip(s, s[1:]))
    assert 480 * s[-1] >= 12 > 480 * s[-1] * 0.709  # smallest level still holds one 12x12 window


def test_min_nms_removes_box_inside_box():
    boxes = np.array([[0, 0, 99, 99], [10, 10, 39, 39], [200, 200, 260, 260]], float)
    keep = _nms_min(boxes, np.array([0.9, 0.95, 0.8]), 0.7)
    assert sorted(keep.tolist()) == [1, 2]  # the big box is dropped: the small one lies fully inside it


@pytest.mark.parametrize("n", [0, 1, 7, 60, 300, NMS_NUMPY_MAX, NMS_NUMPY_MAX + 40])
def test_union_nms_keeps_what_torchvision_keeps(n):
    from torchvision.ops import nms

    g = torch.Generator().manual_seed(n)
    for trial in range(12):
        xy = torch.rand(n, 2, generator=g) * 300
        boxes = torch.cat([xy, xy + 5 + torch.rand(n, 2, generator=g) * 60], 1)
        scores = torch.rand(n, generator=g)
        if trial % 3 == 0:
            scores = (scores * 8).round() / 8  # ties: kept in input order by both
        if trial % 4 == 1 and n:
            boxes[: n // 4, 2:] = boxes[: n // 4, :2]  # empty boxes: 0/0 overlap, never suppressing
        for iou in (0.3, 0.5, 0.7):
            expected = nms(boxes, scores, iou)
            got = _nms_union(boxes, scores, iou)
            assert got.dtype == torch.int64 and torch.equal(got, expected), (n, trial, iou)
    if n >= 60:
        assert len(nms(boxes, scores, 0.3)) < n  # the boxes do overlap: something was suppressed


def test_nets_output_shapes():
    m = get_mtcnn()
    with torch.inference_mode():
        reg, prob = m.pnet(torch.zeros(1, 3, 12, 12))
        assert reg.shape == (1, 4, 1, 1) and prob.shape == (1, 2, 1, 1)
        reg, prob = m.rnet(torch.zeros(2, 3, 24, 24))
        assert reg.shape == (2, 4) and torch.allclose(prob.sum(1), torch.ones(2))
        reg, marks, prob = m.onet(torch.zeros(2, 3, 48, 48))
        assert reg.shape == (2, 4) and marks.shape == (2, 10)


def test_blank_image_gives_no_detections():
    det = get_mtcnn().detect(np.full((120, 160, 3), 128, np.uint8))
    assert det.boxes.shape == (0, 4) and det.points.shape == (0, 5, 2)
