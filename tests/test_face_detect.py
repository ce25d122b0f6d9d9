"""fer.face.detect: the astronaut's landmarks, no-face images, backend choice, sizes, orientation."""

import io

import numpy as np
import pytest
from PIL import Image

import fer.face.insightface_backend as ifb
from fer.errors import InputError, ModelNotFoundError
from fer.face import Face, detect, resolve_backend

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# Ground truth measured by eye on an 8x enlarged grid of skimage's astronaut (x, y in photo
# pixels, +-1.5 px): pupil/eye centres, the tip of the nose (the highlight above the nostrils),
# and the outer corners of the lips.
ASTRONAUT_5 = np.array([[203.0, 101.5], [246.0, 103.0], [224.0, 127.0], [203.5, 140.0], [243.0, 141.0]])
# Tolerance: 10 % of the inter-ocular distance (43 px -> 4.3 px), the usual failure threshold of
# landmark benchmarks (normalised mean error > 0.1 counts as a miss), which also absorbs how
# annotators differ on where a "nose tip" or "mouth corner" is (~2 px at this scale).
TOLERANCE = 0.1 * np.linalg.norm(ASTRONAUT_5[1] - ASTRONAUT_5[0])


@pytest.fixture(autouse=True)
def _offline_insightface(tmp_path, monkeypatch):
    """Every test sees an empty insightface folder and no download permission (a fresh offline machine)."""
    monkeypatch.setenv("FER_INSIGHTFACE_ROOT", str(tmp_path / "insightface"))
    monkeypatch.delenv("FER_ALLOW_DOWNLOAD", raising=False)


@pytest.fixture(scope="module")
def astronaut_faces(astronaut):
    return detect(astronaut)


def test_astronaut_one_face_landmarks_on_features(astronaut_faces):
    faces = astronaut_faces
    assert len(faces) == 1
    f = faces[0]
    assert isinstance(f, Face) and f.score > 0.99
    err = np.linalg.norm(f.landmarks - ASTRONAUT_5, axis=1)
    assert err.max() <= TOLERANCE, err
    x1, y1, x2, y2 = f.box
    assert x1 < ASTRONAUT_5[:, 0].min() and x2 > ASTRONAUT_5[:, 0].max()
    assert y1 < ASTRONAUT_5[:, 1].min() and y2 > ASTRONAUT_5[:, 1].max()


def test_accepts_every_source(astronaut, tmp_path):
    half = np.ascontiguousarray(astronaut[::2, ::2])
    path = tmp_path / "a.png"
    Image.fromarray(half).save(path)
    ref = detect(half)[0].box
    for src in (str(path), path.read_bytes(), Image.fromarray(half)):
        assert np.allclose(detect(src)[0].box, ref, atol=1e-3)


def test_no_face_gives_empty_list(astronaut):
    yy, xx = np.mgrid[0:240, 0:320]
    gradient = np.dstack([xx * 255 // 320, yy * 255 // 240, np.full_like(xx, 90)]).astype(np.uint8)
    assert detect(gradient) == []
    assert detect(np.ascontiguousarray(astronaut[300:, 300:])) == []  # the suit and the flag, no face
    assert detect(np.full((1, 1, 3), 7, np.uint8)) == []


def test_bad_input_raises_input_error():
    with pytest.raises(InputError):
        detect(b"not an image")


def test_auto_falls_back_to_mtcnn_offline(astronaut):
    assert not ifb.models_available()
    assert resolve_backend("auto") == "mtcnn"
    assert len(detect(np.ascontiguousarray(astronaut[:256, 128:384]), backend="auto")) == 1


def test_insightface_without_models_or_permission_is_a_clear_error(astronaut):
    with pytest.raises(ModelNotFoundError, match="FER_ALLOW_DOWNLOAD"):
        detect(astronaut, backend="insightface")
    with pytest.raises(ModelNotFoundError, match="Unknown face detector"):
        detect(astronaut, backend="dlib")


def test_auto_picks_insightface_when_its_pack_is_on_disk(tmp_path, monkeypatch):
    pack = tmp_path / "insightface" / "models" / "buffalo_l"
    pack.mkdir(parents=True)
    (pack / "det_10g.onnx").write_bytes(b"")
    monkeypatch.setattr(ifb, "package_available", lambda: True)
    assert ifb.models_available()
    assert resolve_backend("auto") == "insightface"
    assert resolve_backend("mtcnn") == "mtcnn"


def test_insightface_results_are_mapped_to_faces(astronaut, monkeypatch):
    """The backend's output (bbox, kps, det_score, landmark_3d_68; BGR input) becomes Face objects."""
    seen = {}

    class FakeApp:
        def get(self, bgr):
            seen["bgr"] = bgr
            lm = np.zeros((68, 3))
            lm[:, 0], lm[:, 1] = np.linspace(180, 260, 68), 120.0
            return [
                {"bbox": np.array([10, 10, 40, 50.0]), "kps": (ASTRONAUT_5 - 180) / 3 + 10, "det_score": 0.8},
                {"bbox": np.array([180, 60, 270, 175.0]), "kps": np.array(ASTRONAUT_5), "det_score": 0.99,
                 "landmark_3d_68": lm},
            ]

    monkeypatch.setattr(ifb, "require", lambda allow_download=None: None)
    monkeypatch.setattr(ifb, "_app", lambda: FakeApp())
    faces = detect(astronaut, backend="insightface")
    assert np.array_equal(seen["bgr"], astronaut[..., ::-1])
    assert [round(f.score, 2) for f in faces] == [0.99, 0.8]  # largest first
    assert faces[0].landmarks68.shape == (68, 2) and faces[0].landmarks68[0, 1] == 120.0
    assert np.array_equal(faces[0].landmarks, ASTRONAUT_5)


def test_min_size_and_max_faces(astronaut):
    head = np.asarray(Image.fromarray(astronaut[20:230, 140:330]).resize((95, 105), Image.BILINEAR))
    grid = np.concatenate([np.concatenate([head] * 5, 1)] * 4, 0)  # 20 heads, faces ~43 px wide
    small = np.asarray(Image.fromarray(head).resize((60, 66), Image.BILINEAR))  # face ~27 px wide
    canvas = np.full((420, 560, 3), 235, np.uint8)
    canvas[:, :475] = grid
    canvas[40:106, 490:550] = small
    faces = detect(canvas)
    areas = [f.area for f in faces]
    assert areas == sorted(areas, reverse=True)
    assert len(faces) >= 18  # nearly all of the 20 heads, plus the small one
    assert min(f.width for f in faces) < 35  # the small face was found ...
    big = detect(canvas, min_size=35)
    assert all(min(f.width, f.height) >= 35 for f in big) and len(big) == len(faces) - 1  # ... and dropped here
    assert len(detect(canvas, max_faces=3)) == 3


def test_exif_rotated_photo_is_upright(astronaut):
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(astronaut, 1)))
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    stored.save(buf, format="JPEG", quality=92, exif=exif)
    faces = detect(buf.getvalue())
    assert len(faces) == 1
    err = np.linalg.norm(faces[0].landmarks - ASTRONAUT_5, axis=1)
    assert err.max() <= TOLERANCE + 1.0  # + JPEG loss


def test_large_photo_is_detected_at_reduced_size(astronaut):
    big = np.asarray(Image.fromarray(astronaut).resize((1024, 1024), Image.BICUBIC))
    faces = detect(big, max_side=400)  # found on a 400 x 400 copy, reported in the photo's pixels
    assert len(faces) == 1
    assert np.linalg.norm(faces[0].landmarks / 2 - ASTRONAUT_5, axis=1).max() <= TOLERANCE


@pytest.mark.parametrize("source", ["net", "fit"])
def test_landmarks68_on_the_eyes(astronaut, astronaut_faces, source):
    pytest.importorskip("fer.face.landmarks68")
    f = astronaut_faces[0] if source == "net" else detect(astronaut, landmarks68="fit")[0]
    assert f.landmarks68 is not None and f.landmarks68.shape == (68, 2)
    # iBUG order: points 36-41 are the image-left eye, 42-47 the image-right eye
    assert np.linalg.norm(f.landmarks68[36:42].mean(0) - ASTRONAUT_5[0]) < TOLERANCE
    assert np.linalg.norm(f.landmarks68[42:48].mean(0) - ASTRONAUT_5[1]) < TOLERANCE


def test_default_landmarks68_are_the_nets_not_the_mean_shape(astronaut, astronaut_faces):
    from fer.face import faceapi_landmarks as fl
    from fer.face.landmarks68 import fit_landmarks68

    f = astronaut_faces[0]
    net = fl.for_detections(astronaut, [f.box])[0]
    assert np.allclose(f.landmarks68, net)
    fit = fit_landmarks68(f.landmarks)
    iod = np.linalg.norm(ASTRONAUT_5[1] - ASTRONAUT_5[0])
    assert np.linalg.norm(f.landmarks68 - fit, axis=1).mean() > 0.02 * iod  # a different shape, not a copy


def test_landmarks68_falls_back_to_the_fit_without_the_nets_weights(astronaut, monkeypatch):
    import importlib

    from fer.errors import CheckpointError
    from fer.face import faceapi_landmarks as fl
    from fer.face.landmarks68 import fit_landmarks68

    def missing(*args, **kwargs):
        raise CheckpointError("face-api landmark weights x.safetensors could not be loaded: absent")

    detect_module = importlib.import_module("fer.face.detect")
    half = np.ascontiguousarray(astronaut[:256, 128:384])
    monkeypatch.setattr(fl, "for_detections", missing)
    monkeypatch.setattr(detect_module, "_NET_FAILED", [])
    faces = detect(half)
    assert len(faces) == 1 and np.allclose(faces[0].landmarks68, fit_landmarks68(faces[0].landmarks))
    assert detect_module._NET_FAILED  # said once, not retried on every call


def test_unknown_landmarks68_source_is_an_input_error(astronaut):
    with pytest.raises(InputError, match="landmarks68 must be one of net, fit"):
        detect(astronaut, landmarks68="dlib")


def test_concurrent_detection_gives_the_same_faces(astronaut):
    from concurrent.futures import ThreadPoolExecutor

    half = np.ascontiguousarray(astronaut[:256, 128:384])
    ref = detect(half)[0].landmarks
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: detect(half), range(4)))
    assert all(len(r) == 1 and np.allclose(r[0].landmarks, ref, atol=1e-4) for r in results)


def test_cli_detect(astronaut, tmp_path, capsys):
    import json

    from fer.cli import main

    path = tmp_path / "a.png"
    Image.fromarray(np.ascontiguousarray(astronaut[:256, 128:384])).save(path)
    assert main(["detect", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["backend"] == "mtcnn" and doc["width"] == 256 and len(doc["faces"]) == 1
    assert len(doc["faces"][0]["landmarks"]) == 5
    assert doc["faces"][0]["face"] == 1  # faces are numbered from 1 for people
    assert main(["detect", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "1 face(s)" in printed and "  face 1: box" in printed and "face 0" not in printed
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"text, not a picture")
    assert main(["detect", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "text" in err and "Traceback" not in err


def test_landmarks68_optional(astronaut, monkeypatch):
    import sys

    half = np.ascontiguousarray(astronaut[:256, 128:384])
    monkeypatch.setitem(sys.modules, "fer.face.landmarks68", None)  # module absent -> ImportError
    faces = detect(half, landmarks68="fit")
    assert len(faces) == 1 and faces[0].landmarks68 is None
    monkeypatch.delitem(sys.modules, "fer.face.landmarks68")
    lm68 = pytest.importorskip("fer.face.landmarks68")

    def refuse(points):
        raise InputError("degenerate")

    monkeypatch.setattr(lm68, "fit_landmarks68", refuse)
    faces = detect(half, landmarks68="fit")  # a failing fit leaves the face usable, without 68 points
    assert len(faces) == 1 and faces[0].landmarks68 is None


def test_broken_insightface_pack(astronaut, tmp_path, monkeypatch):
    """A pack on disk that cannot be loaded: "auto" still finds the face (MTCNN), an explicit
    request says what is wrong, and nothing is downloaded."""
    pytest.importorskip("insightface")
    pack = tmp_path / "insightface" / "models" / "buffalo_l"
    pack.mkdir(parents=True)
    (pack / "det_10g.onnx").write_bytes(b"not an onnx model")
    half = np.ascontiguousarray(astronaut[:256, 128:384])
    assert resolve_backend("auto") == "insightface"
    assert len(detect(half, backend="auto")) == 1
    assert resolve_backend("auto") == "mtcnn"  # the failure is remembered
    with pytest.raises(ModelNotFoundError, match="could not be loaded"):
        detect(half, backend="insightface")
    assert sorted(p.name for p in pack.iterdir()) == ["det_10g.onnx"]


def test_face_cut_by_the_border(astronaut):
    """Zero-padded crops (not the reference's clamp-and-stretch) keep a border-cut face's landmarks
    in place. Measured: this port's worst point 4.3 px off; facenet-pytorch's ~50 px off."""
    cut = np.ascontiguousarray(astronaut[90:, 200:])  # the left eye sits 3 px from the edge
    faces = detect(cut)
    assert len(faces) == 1
    err = np.linalg.norm(faces[0].landmarks - (ASTRONAUT_5 - [200, 90]), axis=1)
    assert err.max() <= 1.5 * TOLERANCE, err
    assert faces[0].box[0] < 0  # the box reaches past the border, where the face continues
