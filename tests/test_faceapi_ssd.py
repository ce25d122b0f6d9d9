"""fer.face.faceapi_ssd: face-api's detector, ported, against face-api's own recorded output; its use as the
`faceapi_ssd` backend and as the face-api model's own detector."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from fer.face import faceapi_ssd as ssd

pytestmark = pytest.mark.usefixtures("one_torch_thread")
DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))


def _recordings():
    from convert_faceapi_ssd import inputs, pixels_digest

    shots = dict(inputs())
    ref = json.loads((DATA / "faceapi_ssd_reference.json").read_text())
    return [(rec, shots.get(rec["input"]), pixels_digest) for rec in ref["records"]]


def test_network_matches_faceapi_recording():
    checked = 0
    for rec, rgb, digest in _recordings():
        if rgb is None:
            continue  # insightface's t1.jpg is not installed here
        assert digest(rgb) == rec["pixels_sha256"], f"{rec['input']}: not the recorded pixels"
        boxes, scores, _ = ssd.raw_outputs(rgb)
        idx = np.asarray(rec["top_indices"])
        assert np.abs(scores[idx] - rec["top_scores"]).max() < 1e-4, rec["input"]
        assert np.abs(boxes[idx] - rec["top_boxes"]).max() < 1e-4, rec["input"]
        checked += 1
    assert checked >= 2


def test_detections_match_faceapi_recording():
    for rec, rgb, _ in _recordings():
        if rgb is None:
            continue
        found = ssd.detect(rgb)
        assert len(found) == len(rec["detections"]) >= 1, rec["input"]
        for (box, score), theirs in zip(found, rec["detections"]):
            assert np.abs(box - theirs["box"]).max() < 0.01, rec["input"]
            assert abs(score - theirs["score"]) < 1e-4


def test_suppression_is_faceapis_rule():
    boxes = np.array([[0, 0, 1, 1], [0, 0, 1, 0.9], [0, 0, 1, 0.4], [0.5, 0.5, 0.9, 0.9], [0, 0, 0.2, 0.2]], float)
    scores = np.array([0.9, 0.95, 0.8, 0.6, 0.4])
    # 1 beats 0 (IoU 0.9); 2 overlaps 1 by 0.44 <= 0.5: kept; 4 is under the confidence
    assert ssd.suppress(boxes, scores) == [1, 2, 3]
    assert ssd.suppress(boxes, scores, max_results=2) == [1, 2]
    assert ssd.suppress(boxes, scores, min_confidence=0.95) == []


def test_weights_are_the_quantised_originals():
    from safetensors.numpy import load_file

    raw = load_file(str(ssd.WEIGHTS_PATH))
    codes = [k for k, v in raw.items() if v.dtype == np.uint8]
    assert len(codes) > 100 and all(k + ".scale" in raw and k + ".min" in raw for k in codes)
    assert ssd.WEIGHTS_PATH.stat().st_size < 6_000_000
    tensors = ssd.read_weights()
    assert tensors["Output/extra_dim"].shape == (1, 5118, 4)
    assert all(v.dtype == np.float32 for v in tensors.values())


def test_backend_gives_faceapis_points_and_checks_its_faces():
    from skimage import data

    from fer.face import detect
    from fer.face import faceapi_landmarks as fl
    from fer.face.landmarks68 import summary5

    rgb = data.astronaut()
    (face,) = detect(rgb, backend="faceapi_ssd")
    (box, score), = ssd.detect(rgb)
    assert np.allclose(face.box, box) and face.score == pytest.approx(score)
    assert np.allclose(face.landmarks68, fl.landmarks68(rgb, [box])[0])
    assert np.allclose(face.landmarks, summary5(face.landmarks68))
    cat = data.chelsea()  # face-api's detector calls the cat a face (0.93); O-Net does not (0.50)
    assert len(detect(cat, backend="faceapi_ssd", max_disagreement=None)) == 1
    assert detect(cat, backend="faceapi_ssd") == []


def test_backend_falls_back_to_mtcnn_when_it_finds_no_face():
    from fer.face import detect

    rgb = np.zeros((200, 200, 3), np.uint8)
    assert detect(rgb, backend="faceapi_ssd") == []
    from fer.occlusion.sheet import sample_photos

    tight = dict(sample_photos()).get("Tom_Hanks_54745")  # a 112 px face crop face-api's detector misses
    if tight is None:
        pytest.skip("insightface's sample photos are not installed")
    assert ssd.detect(tight) == []
    faces = detect(tight, backend="faceapi_ssd")
    assert len(faces) == 1 and faces[0].landmarks68 is not None


def test_the_faceapi_model_gets_faceapis_detector():
    from fer import Predictor
    from fer.face.crop import detector_for

    p = Predictor("faceapi_expression")
    assert p.detector == "faceapi_ssd"
    assert "faceapi_ssd" in p.crop_description
    assert Predictor("faceapi_expression", detector="mtcnn").detector == "mtcnn"
    other = Predictor("mini_xception_fer2013")
    assert other.detector == "auto" and detector_for(other.config, None) == "auto"


def test_faces_say_which_detector_found_them():
    from skimage import data

    from fer.face import detect

    assert [f.detector for f in detect(data.astronaut(), backend="faceapi_ssd")] == ["faceapi_ssd"]
    assert [f.detector for f in detect(data.astronaut(), backend="mtcnn")] == ["mtcnn"]
    from fer.occlusion.sheet import sample_photos

    tight = dict(sample_photos()).get("Tom_Hanks_54745")
    if tight is not None:  # face-api's detector finds nothing there: MTCNN's face, and it says so
        assert [f.detector for f in detect(tight, backend="faceapi_ssd")] == ["mtcnn"]


def test_carry_moves_and_scales_a_box_with_its_reference():
    from fer.live.tracker import _carry

    box = np.array([10.0, 20, 50, 80])
    ref = np.array([12.0, 30, 48, 66])
    assert np.allclose(_carry(box, ref, ref), box)
    assert np.allclose(_carry(box, ref, ref + [5, -3, 5, -3]), box + [5, -3, 5, -3])
    doubled = _carry(box, ref, np.array([12.0 - 18, 30 - 18, 48 + 18, 66 + 18]))  # same centre, twice the size
    assert np.allclose(doubled[2:] - doubled[:2], 2 * (box[2:] - box[:2]))


def test_the_live_tracker_keeps_faceapi_boxes_between_detections():
    from skimage import data

    from fer.face import detect
    from fer.face.compare import landmark_error
    from fer.live import FaceTracker
    from fer.live.clip import moving_clip

    tracker = FaceTracker("faceapi_ssd", detect_every=50, landmarks68=False)
    frames = moving_clip(data.astronaut(), 6)
    for i, frame in enumerate(frames):
        face = tracker.update(frame)
        assert face is not None and face.detector == "faceapi_ssd" and face.landmarks68 is not None
        (full,) = detect(frame, backend="faceapi_ssd")
        error = landmark_error(face.landmarks68, full.landmarks68)
        assert error < (1e-9 if i == 0 else 0.05), (i, error)  # frame 0 is a detection: face-api's own points
    assert tracker.detections == 1
