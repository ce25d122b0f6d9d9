"""fer.face.faceapi_landmarks: the ported face-api 68-point net against face-api's own recorded output."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer.face import faceapi_landmarks as fl

pytestmark = pytest.mark.usefixtures("one_torch_thread")
DATA = Path(__file__).parent / "data"


def test_matches_faceapi_recording():
    ref = json.loads((DATA / "faceapi_landmarks_reference.json").read_text())
    assert len(ref["records"]) == 3
    for rec in ref["records"]:
        rgb = np.asarray(Image.open(DATA / rec["input"]).convert("RGB"), np.uint8)
        pts = fl.landmarks68(rgb, [np.array([0, 0, rgb.shape[1], rgb.shape[0]], float)])[0]
        assert pts.shape == (68, 2)
        assert np.abs(pts - np.asarray(rec["points"])).max() < 1e-4, rec["input"]


def test_crop_box_clips_and_floors():
    assert fl.crop_box(np.array([-5.5, 10.7, 50.2, 300.0]), (200, 100, 3)) == (0, 10, 50, 189)


def test_points_follow_the_box_offset():
    rgb = np.asarray(Image.open(DATA / "faceapi_lm_input_tall.png").convert("RGB"), np.uint8)
    canvas = np.zeros((400, 400, 3), np.uint8)
    canvas[100:100 + rgb.shape[0], 50:50 + rgb.shape[1]] = rgb
    a = fl.landmarks68(rgb, [np.array([0, 0, rgb.shape[1], rgb.shape[0]], float)])[0]
    b = fl.landmarks68(canvas, [np.array([50, 100, 50 + rgb.shape[1], 100 + rgb.shape[0]], float)])[0]
    assert np.abs(b - a - [50, 100]).max() < 1e-3
