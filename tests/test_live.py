"""The live lab's engine (fer.live): tracking between detections, the per-frame predictor, the clip tools."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fer.face import detect
from fer.io import load_image
from fer.live import FaceTracker, LiveEngine, Occluder
from fer.live.clip import moving_clip, write_y4m

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def predictor(one_torch_thread):
    from fer import Predictor

    return Predictor("faceapi_expression")


@pytest.fixture(scope="module")
def clip():
    return moving_clip(load_image(EXAMPLES / "astronaut.jpg"), 10)


def test_tracker_follows_the_face_with_few_detections(clip, one_torch_thread):
    tracker = FaceTracker("mtcnn", detect_every=100)
    for frame in clip:
        face = tracker.update(frame)
        full = detect(frame, backend="mtcnn")[0]
        assert face is not None
        assert np.abs(face.landmarks - full.landmarks).max() < 4.0  # within a few pixels of a fresh detection
        assert face.landmarks68 is not None and face.landmarks68.shape == (68, 2)
    assert tracker.detections == 1 and tracker.frames == len(clip)


def test_tracker_redetects_when_the_face_leaves_and_on_schedule(clip, one_torch_thread):
    tracker = FaceTracker("mtcnn", detect_every=3)
    for frame in clip[:6]:
        tracker.update(frame)
    assert tracker.detections == 2  # frames 1 and 5 (every 3 tracked frames)
    blank = np.full_like(clip[0], 118)
    assert tracker.update(blank) is None  # O-Net sees no face: lost, the full detector finds none either
    assert tracker.face is None
    assert tracker.update(clip[0]) is not None


def test_tracker_recheck_looks_for_faces_of_the_tracked_size_and_falls_back(clip, one_torch_thread, monkeypatch):
    import fer.face

    calls, real = [], fer.face.detect
    monkeypatch.setattr(fer.face, "detect", lambda rgb, **kw: calls.append(kw.get("min_size")) or real(rgb, **kw))
    tracker = FaceTracker("mtcnn", detect_every=2)
    for frame in clip[:4]:
        tracker.update(frame)
    side = min(tracker.face.width, tracker.face.height)
    assert calls[0] is None and calls[1] is not None and calls[1] >= 0.4 * side  # first: the whole pyramid
    assert tracker.detections == 2
    monkeypatch.setattr(fer.face, "detect", lambda rgb, **kw: calls.append(kw.get("min_size")) or
                        ([] if kw.get("min_size") else real(rgb, **kw)))
    tracker.since_detect = tracker.detect_every  # a re-check now, which finds nothing at the tracked size
    assert tracker.update(clip[5]) is not None and calls[-2:][1] is None  # then the whole pyramid found it


def test_tracker_select_picks_the_clicked_face(one_torch_thread):
    photo = load_image(EXAMPLES / "astronaut_two_faces.jpg")
    faces = detect(photo, backend="mtcnn")
    assert len(faces) >= 2
    tracker = FaceTracker("mtcnn")
    assert np.allclose(tracker.update(photo).box, faces[0].box)  # the largest by default
    other = faces[1]
    tracker.select((other.box[0] + other.box[2]) / 2, (other.box[1] + other.box[3]) / 2)
    assert np.allclose(tracker.update(photo).box, other.box)
    assert np.abs(tracker.update(photo).landmarks - other.landmarks).max() < 4.0  # and keeps it


def test_engine_matches_the_predictor_and_annotates(predictor, clip):
    engine = LiveEngine(predictor)
    for frame in clip[:4]:
        result = engine.process(frame)
        full = predictor(frame)[0]
        assert result.label == full.label == "happiness"
        assert np.abs(result.probs - np.array([full.probs[c] for c in result.class_names])).max() < 0.05
        assert list(result.votes()) == ["top-left", "top-right", "bottom-left", "bottom-right"]
        assert result.image.shape == frame.shape and result.image.dtype == np.uint8
        assert np.abs(result.image.astype(int) - frame).mean() > 0.5  # something was drawn
    assert engine.tracker.detections == 1
    assert len(engine.history) == 4 and result.seconds > 0


def test_engine_reuses_its_input_buffer(predictor, clip):
    engine = LiveEngine(predictor)
    engine.process(clip[0])
    buffer = engine._input.data_ptr()
    result = engine.process(clip[1])
    assert engine._input.data_ptr() == buffer
    # the buffer holds exactly the library's own transform of the crop (one preprocessing path)
    assert torch.equal(engine._input[0], predictor.config.preprocess.to_tensor(result.aligned.image))


def test_virtual_occluder_is_drawn_on_the_live_face(predictor, clip):
    engine = LiveEngine(predictor, draw=False)
    plain = engine.process(clip[0])
    covered = engine.process(clip[0], Occluder("surgical_mask", 0.8))
    diff = np.abs(covered.image.astype(int) - plain.image).sum(2) > 30
    x1, y1, x2, y2 = plain.face.box
    ys, xs = np.nonzero(diff)
    assert diff.sum() > 500
    assert ys.mean() > (y1 + y2) / 2 and x1 - 20 < xs.mean() < x2 + 20  # the lower half of this face
    assert not np.allclose(covered.probs, plain.probs)


def test_no_face_frame_is_an_annotated_message(predictor):
    engine = LiveEngine(predictor)
    result = engine.process(np.full((480, 640, 3), 90, np.uint8))
    assert result.label is None and result.votes() == {} and "no face" in result.message
    assert result.image.shape == (480, 640, 3)


def test_cam_runs_in_the_background_and_is_shown_later(predictor, clip):
    engine = LiveEngine(predictor)
    first = engine.process(clip[0])
    engine.request_cam()
    engine.process(clip[1])  # submits the map, does not wait for it
    cam = engine.wait_for_cam()
    assert cam is not None and cam.shape[2] == 3
    later = engine.process(clip[2])
    assert later.cam is cam
    assert first.cam is None


def test_moving_clip_and_y4m(tmp_path):
    photo = load_image(EXAMPLES / "astronaut.jpg")
    frames = moving_clip(photo, 5)
    assert all(f.shape == (480, 640, 3) for f in frames)
    assert np.abs(frames[0].astype(int) - frames[2]).mean() > 1  # it moves
    path = write_y4m(frames, tmp_path / "clip.y4m", fps=10)
    data = path.read_bytes()
    assert data.startswith(b"YUV4MPEG2 W640 H480 F10:1")
    assert data.count(b"FRAME\n") == 5
    assert len(data) > 5 * 640 * 480 * 3 // 2


def test_68_points_only_when_the_crop_or_an_occluder_reads_them(predictor, clip, monkeypatch):
    """The 68-point net runs on a tracked face for face-api's crop (it is cut from the 68 points) and
    for a virtual occluder; a 5-point crop without an occluder skips it. A face from face-api's detector
    gets them from the tracker itself (`follow`), an MTCNN face from `add_landmarks68`."""
    import importlib

    from fer import Predictor

    detect_module = importlib.import_module("fer.face.detect")  # the module (fer.face.detect is also a function)
    calls = []
    real = detect_module.add_landmarks68
    monkeypatch.setattr(detect_module, "add_landmarks68", lambda *a, **k: calls.append(1) or real(*a, **k))
    faceapi = LiveEngine(predictor, draw=False)
    assert faceapi.crop_needs68
    faceapi.process(clip[0])
    calls.clear()
    tracked = faceapi.process(clip[1])  # followed on face-api's detector's box: the net's points, no box mapping
    assert not tracked.detected and tracked.face.detector == "faceapi_ssd" and tracked.face.landmarks68 is not None
    mapped = LiveEngine(Predictor("faceapi_expression", detector="mtcnn"), draw=False)
    mapped.process(clip[0])
    calls.clear()
    assert mapped.process(clip[1]).face.landmarks68 is not None and calls  # MTCNN's face: detect's rule

    five = LiveEngine(Predictor("alfj_resnet18"), draw=False)
    assert not five.crop_needs68
    five.process(clip[0])
    calls.clear()
    tracked = five.process(clip[1])
    assert not tracked.detected and tracked.face.landmarks68 is None and not calls
    covered = five.process(clip[2], Occluder("surgical_mask", 0.8))
    assert covered.face.landmarks68 is not None and calls
