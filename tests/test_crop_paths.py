"""Every path that cuts a face for a model uses that model's crop recipe: sensitivity, robustness on
photos (occluders drawn on the photo, then each recipe cuts), the demo's one-face sweep, evaluation
and training on photo sources (RAF-DB `original`), and a trained checkpoint records its recipe."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from fer.errors import FERError
from fer.face import detect
from fer.face.crop import cut, cut_for
from fer.models.base import CropSpec
from fer.predictor import Predictor, get_model

REFERENCE = ("faceapi_expression", "mini_xception_fer2013")  # recipes faceapi and fer_box


@pytest.fixture(scope="module")
def face(astronaut):
    return detect(astronaut, backend="mtcnn")[0]


def test_sensitivity_cli_maps_the_models_own_crop(tmp_path, astronaut, face, monkeypatch):
    import fer.robustness.sensitivity as sensitivity
    from fer.cli import main

    seen = []
    real = sensitivity.sensitivity_map

    def spy(model, crop, *args, **kw):
        seen.append(crop.copy())
        return real(model, crop, *args, **kw)

    monkeypatch.setattr(sensitivity, "sensitivity_map", spy)
    photo = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).save(photo)
    assert main(["sensitivity", str(photo), "--model", "faceapi_expression", "--detector", "mtcnn", "--patch", "28",
                 "--stride", "28", "--out", str(tmp_path / "s")]) == 0
    model = get_model("faceapi_expression")
    assert len(seen) == 1 and np.array_equal(seen[0], cut_for(astronaut, face, model.config).image)
    similarity = cut(astronaut, face, CropSpec(), 112).image
    assert np.abs(seen[0].astype(int) - similarity).mean() > 10  # not the old 5-point crop
    doc = json.loads((tmp_path / "s" / "sensitivity.json").read_text())
    assert "`faceapi`" in doc["crop"]


def test_photo_scenes_give_each_recipe_its_exact_crop(tmp_path, astronaut, face):
    from fer.robustness.occlude import Condition, occlude_batch
    from fer.robustness.sources import photo_samples
    from fer.robustness.sweep import model_view

    (tmp_path / "p").mkdir()
    Image.fromarray(astronaut).save(tmp_path / "p" / "a.png")
    samples, skipped = photo_samples(tmp_path / "p", crop_size=112, detector="mtcnn")
    assert not skipped and samples.faces is not None and samples.size == 448
    clean = Condition("clean", 0.0)
    glasses = Condition("sunglasses", 1.0)
    occluded, masks = occlude_batch(samples.crops, glasses, seed=3, faces=samples.faces)
    assert masks[0].sum() > 100 and np.abs(occluded.astype(int) - samples.crops).sum() > 0
    for name in REFERENCE:
        model = get_model(name)
        crops, _ = model_view(model, samples.crops, samples.faces, np.zeros(masks.shape, np.float32), clean)
        assert np.array_equal(crops[0], cut_for(astronaut, face, model.config).image)  # at the photo's scale: exact
        seen, seen_masks = model_view(model, occluded, samples.faces, masks, glasses)
        size = model.config.preprocess.input_size
        assert seen.shape == (1, size, size, 3) and seen_masks.shape == (1, size, size)
        top, bottom = seen_masks[0, : size // 2].mean(), seen_masks[0, size // 2 :].mean()
        assert top > 0.1 and bottom < top / 4  # the same glasses, on the eyes, in every recipe's crop
        changed = np.abs(seen[0].astype(int) - crops[0]).max(2) > 0
        near = cv2.dilate((seen_masks[0] > 0).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0  # resampling, shadow
        assert changed.mean() > 0.1 and (changed & ~near).mean() < 0.01  # pixels change only under the mapped mask


def test_sweep_on_photos_reports_each_models_recipe(tmp_path, astronaut):
    from fer.robustness import default_conditions, sweep
    from fer.robustness.sources import photo_samples

    (tmp_path / "p").mkdir()
    Image.fromarray(astronaut).save(tmp_path / "p" / "a.png")
    samples, _ = photo_samples(tmp_path / "p", crop_size=112, detector="mtcnn")
    models = [get_model(n) for n in REFERENCE]
    result = sweep(models, samples, default_conditions(["sunglasses"], (1.0,), blocks=False), model_names=REFERENCE,
                   progress=False)
    assert "`faceapi`" in result.meta["crops"]["faceapi_expression"]
    assert "`fer_box`" in result.meta["crops"]["mini_xception_fer2013"]
    predictor = Predictor("faceapi_expression", detector="mtcnn")
    label = predictor(astronaut)[0].label
    clean = next(r for r in result.rows if r["model"] == "faceapi_expression" and r["occluder"] == "clean"
                 and r["class"] != "all")
    assert clean["class"] == label  # the pseudo-label is the Predictor's own answer on the photo
    glasses = next(r for r in result.rows if r["occluder"] == "sunglasses" and r["class"] == "all")
    assert glasses["coverage_top-left"] > glasses["coverage_bottom-left"]


def test_one_face_sweep_on_the_photo_matches_the_predictor(astronaut, face):
    from fer.robustness import sweep_face

    predictor = Predictor("faceapi_expression", detector="mtcnn")
    aligned = predictor.align(astronaut, face)
    rows, _ = sweep_face(predictor, aligned, ["surgical_mask"], (1.0,), blocks=False, photo=astronaut)
    clean = predictor.predict_face(astronaut, face)
    assert rows[0]["prediction"] == clean.label and rows[0]["confidence"] == pytest.approx(clean.confidence, abs=1e-6)
    # face-api's crop is centred on the box of the 68 points: with the net's points that centre is 0.63 IPD under
    # the eye line, on the nose tip (0.61), so the mask over the nose also reaches into the top half
    # (measured top-left 0.26, bottom-left 0.60; the mean-shape points centre the box at 0.49: 0.23 / 0.70)
    assert rows[1]["coverage_bottom-left"] > 0.5 > rows[1]["coverage_top-left"]
    assert rows[1]["coverage_bottom-left"] > 2 * rows[1]["coverage_top-left"] > 0.2  # mostly below, nose on top


def _raf_original(tmp_path, astronaut, names):
    root = tmp_path / "raf"
    (root / "EmoLabel").mkdir(parents=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text("".join(f"{n} 4\n" for n in names))
    (root / "Image" / "original").mkdir(parents=True)
    small = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)  # keeps the detector quick
    for n in names:
        cv2.imwrite(str(root / "Image" / "original" / n), cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
    return root


def test_evaluate_on_photos_cuts_with_the_models_recipe(tmp_path, astronaut, capsys):
    from fer.cli import main
    from fer.data.base import read_image
    from fer.data.registry import crop_options, open_dataset

    root = _raf_original(tmp_path, astronaut, ["test_0001.jpg"])
    config = get_model("faceapi_expression").config
    data = open_dataset("rafdb", "test", root=root, source="original",
                        **crop_options("original", config.crop_recipe(), config.preprocess.input_size))
    photo = read_image(root / "Image" / "original" / "test_0001.jpg")
    assert np.array_equal(data.image(0), cut_for(photo, detect(photo)[0], config).image)
    assert crop_options("aligned", config.crop_recipe(), 112) == {}  # aligned images are used as they are

    assert main(["evaluate", "--checkpoint", "fer/weights/faceapi_expression.safetensors", "--data", f"rafdb:{root}",
                 "--source", "original", "--out", str(tmp_path / "ev"), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out[out.index("{"):])
    assert "`faceapi`" in summary["crop"] and summary["reports"]["test"]["n"] == 1


def test_training_records_its_crop_recipe(tmp_path, astronaut):
    from fer.models.checkpoint import load_checkpoint
    from fer.training import load_config, train
    from fer.training.build import build_data, crop_spec

    assert crop_spec(load_config("synthfer_cpu")) == CropSpec()
    assert crop_spec(load_config("synthfer_cpu", ["data.dataset=rafdb"])).recipe == "rafdb"  # RAF-DB's aligned images
    assert crop_spec(load_config("synthfer_cpu", ["data.dataset=rafdb", "data.source=original"])) == CropSpec()
    with pytest.raises(FERError, match="model.crop.*unknown crop recipe"):
        load_config("synthfer_cpu", ["model.crop={recipe: nope}"])

    root = _raf_original(tmp_path, astronaut, ["train_0001.jpg", "test_0001.jpg"])
    cfg = load_config("synthfer_cpu", ["data.dataset=rafdb", f"data.root={root}", "data.source=original",
                                       "model.input_size=32", "model.crop={recipe: faceapi, padding: 0.3}"])
    train_set, _ = build_data(cfg)
    photo = cv2.cvtColor(cv2.imread(str(root / "Image" / "original" / "train_0001.jpg")), cv2.COLOR_BGR2RGB)
    expected = cut(photo, detect(photo)[0], CropSpec("faceapi", padding=0.3), 32).image
    assert np.array_equal(train_set.image(0), expected)  # the photos are cut with the recipe the run records

    tiny = ["data.options={train_size: 28, val_size: 14, test_size: 14, image_size: 32, seed: 5}",
            "model.input_size=32", "model.arch={local_stage: shared}", "train.batch_size=14", "train.threads=1",
            "train.epochs=1", "train.eval_batch_size=14", "model.crop={recipe: faceapi, padding: 0.3}"]
    train(load_config("synthfer_cpu", tiny), out_dir=tmp_path / "run", progress=False, log=lambda s: None)
    config = load_checkpoint(tmp_path / "run" / "model.safetensors").config
    assert config.crop == CropSpec("faceapi", padding=0.3) and config.crop_note is None
