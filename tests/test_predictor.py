"""fer.Predictor and `fer predict`: photo -> detection -> alignment -> reference model -> FacePrediction."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

import fer
from fer.errors import CheckpointError, InputError, ModelNotFoundError
from fer.labels import CANONICAL_7
from fer.predictor import FUSION_WHOLE, FacePrediction, Predictor, get_model
from fer.regions import REGION_NAMES

MODELS = ("faceapi_expression", "mini_xception_fer2013")


@pytest.fixture(scope="module", params=MODELS)
def astronaut_prediction(request, astronaut):
    predictor = Predictor(request.param)
    return predictor, predictor(astronaut)


def test_astronaut_is_happy_through_detection_and_alignment(astronaut_prediction):
    predictor, predictions = astronaut_prediction
    assert len(predictions) == 1
    p = predictions[0]
    assert isinstance(p, FacePrediction)
    assert p.label == "happiness" and p.probs["happiness"] >= 0.9
    assert list(p.probs) == list(CANONICAL_7) and abs(sum(p.probs.values()) - 1) < 1e-5
    # the face: box around the astronaut's face, 5 landmarks, the model's own crop
    x1, y1, x2, y2 = p.box
    assert 150 < x1 < x2 < 300 and 30 < y1 < y2 < 210
    assert p.landmarks.shape == (5, 2)
    size = predictor.config.preprocess.input_size
    assert p.crop.shape == (size, size, 3) and p.crop.dtype == np.uint8
    # four heads, region order, each a distribution; most of them agree with the fused label
    assert p.region_names == REGION_NAMES and len(p.head_probs) == 4
    for head in p.head_probs:
        assert list(head) == list(CANONICAL_7) and abs(sum(head.values()) - 1) < 1e-5
    assert p.head_labels.count("happiness") >= 3
    assert p.trained and p.warning is None and predictor.warning is None
    assert "not trained ALFJ-Net heads" in p.provenance and p.fusion == FUSION_WHOLE


def test_fused_probs_are_the_original_classifier_and_head_mean_is_kept(astronaut_prediction):
    predictor, (p,) = astronaut_prediction
    heads = np.array([[h[c] for c in CANONICAL_7] for h in p.head_probs])
    assert np.allclose([p.head_mean_probs[c] for c in CANONICAL_7], heads.mean(0), atol=1e-6)
    import torch

    from fer.data.transforms import eval_transform

    with torch.no_grad():
        out = predictor.model(eval_transform(p.crop, predictor.config.preprocess)[None])
    whole = torch.softmax(out.head_logits.mean(1), -1)[0].numpy()
    assert np.allclose([p.probs[c] for c in CANONICAL_7], whole, atol=1e-5)


def test_crops_batch_arrays_and_given_faces_agree(astronaut_prediction, astronaut):
    predictor, (p,) = astronaut_prediction
    batch = predictor.predict_crops([p.aligned, p.crop, np.ascontiguousarray(p.crop[:, ::-1])])
    assert batch[0].face is p.face and batch[1].face is None
    assert np.allclose(list(batch[0].probs.values()), list(p.probs.values()), atol=1e-5)
    assert np.allclose(list(batch[1].probs.values()), list(p.probs.values()), atol=1e-5)
    fused, heads = predictor.predict_arrays([p.crop, p.crop])
    assert fused.shape == (2, 7) and heads.shape == (2, 4, 7)
    assert np.allclose(fused[0], list(p.probs.values()), atol=1e-5)
    # the already-detected face on an occluded copy of the photo (mouth and chin blacked out)
    occluded = astronaut.copy()
    occluded[125:175, 185:265] = 0
    q = predictor.predict_face(occluded, p.face)
    assert q.face is p.face
    assert not np.allclose(list(q.probs.values()), list(p.probs.values()), atol=1e-3)
    assert predictor.predict_crops([]) == []


def test_untrained_checkpoint_is_flagged(tmp_path, astronaut_prediction):
    from fer.models import create_model
    from fer.models.checkpoint import save_checkpoint

    predictor, (p,) = astronaut_prediction
    path = save_checkpoint(create_model(predictor.config.name, pretrained=False), tmp_path / "random.safetensors")
    untrained = Predictor(str(path))
    assert untrained.trained is False
    assert "no trained weights" in untrained.warning and "meaningless" in untrained.warning
    (q,) = untrained.predict_crops([p.aligned])
    assert q.trained is False and q.warning == untrained.warning
    assert json.loads(json.dumps(q.to_dict()))["warning"] == untrained.warning


def test_bad_inputs_give_clear_errors(tmp_path):
    with pytest.raises(ModelNotFoundError, match="unknown model"):
        Predictor("no_such_model")
    with pytest.raises(CheckpointError, match="not found"):
        Predictor(str(tmp_path / "missing.safetensors"))
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError):
        Predictor(str(junk))
    with pytest.raises(ModelNotFoundError):
        Predictor("")
    predictor = Predictor("mini_xception_fer2013")
    with pytest.raises(InputError):
        predictor(b"definitely not an image")
    with pytest.raises(InputError, match="crop 1"):
        predictor.predict_crops([np.zeros((64, 64, 3), np.uint8), np.zeros((64, 64), np.float32)])
    with pytest.raises(InputError, match="too small"):
        predictor.predict_crops([np.zeros((4, 4, 3), np.uint8)])
    with pytest.raises(InputError, match="device"):
        Predictor("mini_xception_fer2013", device="no-such-device")


def test_no_face_gives_an_empty_list():
    blank = np.full((96, 96, 3), 128, np.uint8)
    assert Predictor("mini_xception_fer2013", detector="mtcnn")(blank) == []


def test_model_cache_is_shared_and_thread_safe(monkeypatch, astronaut_prediction):
    import fer.models.cache as cache
    import fer.predictor as fp

    fp.clear_model_cache()
    built = []
    real_build = cache.build_model

    def counting_build(source, device):
        built.append(source)
        return real_build(source, device)

    monkeypatch.setattr(cache, "build_model", counting_build)
    models = []
    threads = [threading.Thread(target=lambda: models.append(get_model("mini_xception_fer2013"))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == ["mini_xception_fer2013"] and len({id(m) for m in models}) == 1
    assert Predictor("mini_xception_fer2013").model is models[0]

    # concurrent inference on one predictor gives the same answers as serial inference
    predictor, (p,) = astronaut_prediction
    crops = [p.crop, np.ascontiguousarray(p.crop[::-1]), np.ascontiguousarray(p.crop[:, ::-1])]
    expected = predictor.predict_arrays(crops)[0]
    results, errors = [], []

    def work():
        try:
            results.append(predictor.predict_arrays(crops)[0])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(np.allclose(r, expected, atol=1e-6) for r in results)


def test_lazy_top_level_export():
    assert fer.Predictor is Predictor and fer.FacePrediction is FacePrediction


def test_cli_predict_json_and_text(tmp_path, capsys, astronaut):
    from PIL import Image

    from fer.cli import main

    path = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).resize((256, 256), Image.BILINEAR).save(path)  # half size: faster detection
    assert main(["predict", str(path), "--model", "mini_xception_fer2013", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "mini_xception_fer2013" and out["trained"] is True and out["warning"] is None
    (face,) = out["faces"]
    assert face["label"] == "happiness" and face["confidence"] >= 0.9
    assert face["face"] == 1  # numbered from 1, as `--face` takes it
    assert [h["region"] for h in face["heads"]] == list(REGION_NAMES) and len(face["box"]) == 4
    assert main(["predict", str(tmp_path / "missing.png")]) == 2
    assert "error:" in capsys.readouterr().err
