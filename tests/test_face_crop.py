"""fer.face.crop: each model's crop recipe, checked against its original software's rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fer.errors import CheckpointError, InputError
from fer.face.crop import RECIPES, cut, describe_config, faceapi_box
from fer.face.types import Face
from fer.models.base import CropSpec, ModelConfig, Preprocess

DATA = Path(__file__).parent / "data"


def _face_from_68(pts: np.ndarray) -> Face:
    pts = np.asarray(pts, np.float64)
    return Face(box=np.r_[pts.min(0), pts.max(0)], score=1.0, landmarks=pts[[36, 45, 30, 48, 54]], landmarks68=pts)


@pytest.fixture(scope="module")
def faceapi_records():
    from PIL import Image

    records = json.loads((DATA / "faceapi_crops.json").read_text())["records"]
    strip = np.asarray(Image.open(DATA / "faceapi_crops.png").convert("RGB"))
    return [(r, strip[:, 112 * i : 112 * (i + 1)]) for i, r in enumerate(records)]


def test_faceapi_recipe_reproduces_faceapis_own_crop(faceapi_records, astronaut):
    """Recorded from face-api's own code (scripts/record_faceapi_crops.py): a face, a box clipped at the
    photo corner (zero-padded rows), a tall box (zero-padded columns)."""
    for record, expected in faceapi_records:
        face = _face_from_68(record["landmarks68"])
        x, y, w, h = faceapi_box(face, astronaut.shape)
        assert (w, h) == tuple(record["face_shape"][1::-1])
        crop = cut(astronaut, face, CropSpec("faceapi"), size=112).image
        diff = np.abs(crop.astype(int) - expected.astype(int))
        assert diff.max() <= 1 and diff.mean() < 0.01  # face-api's crop is float; both are rounded here


def test_faceapi_model_on_its_recipe_matches_faceapis_output(faceapi_records, astronaut):
    from fer.labels import CANONICAL_7
    from fer.models.reference import FACEAPI_CLASSES, TO_CANONICAL
    from fer.predictor import Predictor

    predictor = Predictor("faceapi_expression")
    order = [CANONICAL_7.index(TO_CANONICAL[c]) for c in FACEAPI_CLASSES]
    for record, _ in faceapi_records:
        p = predictor.predict_face(astronaut, _face_from_68(record["landmarks68"]))
        assert p.crop_recipe == "faceapi"
        ours = np.array(list(p.probs.values()))[order]
        assert np.argmax(ours) == np.argmax(record["probs"])
        assert np.abs(ours - record["probs"]).max() < 1e-2  # measured 6.1e-3 at most: face-api's crop is not rounded


def test_fer_package_rule_square_box_margin_and_mean_padding():
    import cv2

    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (200, 240, 3), dtype=np.uint8)
    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    lm = np.array([[110, 70], [130, 70], [120, 85], [112, 95], [128, 95]], float)
    face = Face(box=np.array([100.7, 50.2, 140.9, 110.0]), score=1.0, landmarks=lm)
    # int box 100,50 .. 140,110 (40 x 60) -> square x 90..150 -> +10 px: x 80..160, y 40..120
    crop = cut(photo, face, CropSpec("fer_box", margin_px=10), size=64)
    assert np.array_equal(crop.image[..., 0], cv2.resize(grey[40:120, 80:160], (64, 64)))
    assert (crop.image[..., 0] == crop.image[..., 2]).all()  # grey in all three channels
    # at the border the photo is padded by 40 px of the mean grey of its two bottom rows
    corner = Face(box=np.array([0.0, 0.0, 30.0, 30.0]), score=1.0, landmarks=lm / 4)
    image = cut(photo, corner, CropSpec("fer_box"), size=50).image[..., 0]
    fill = round(cv2.mean(grey[-2:])[0])
    assert abs(int(image[0, 0]) - fill) <= 1 and np.array_equal(image[-5:, -5:] != fill, image[-5:, -5:] != fill)


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_every_recipe_gives_maps_consistent_with_its_crop(recipe, astronaut):
    import cv2

    from fer.face import detect, transform_points

    face = detect(astronaut, backend="mtcnn")[0]
    spec = CropSpec(recipe, face_scale=0.9)
    a = cut(astronaut, face, spec, size=96)
    assert a.image.shape == (96, 96, 3) and a.image.dtype == np.uint8
    assert np.allclose(transform_points(face.landmarks, a.matrix), a.landmarks)
    assert np.allclose(transform_points(a.landmarks, a.inverse), face.landmarks)
    warped = cv2.warpAffine(astronaut, a.matrix, (96, 96))
    if recipe == "fer_box":
        warped = np.repeat(cv2.cvtColor(warped, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    # the matrix says where each crop pixel came from (faceapi's square padding is zeros, not photo: left out)
    from_photo = cut(np.full_like(astronaut, 255), face, spec, size=96).image[..., 0] > 127
    assert from_photo.mean() > 0.6
    assert np.abs(warped.astype(float) - a.image)[from_photo].mean() < 4
    # the eyes land inside the crop, above the mouth
    assert (a.landmarks > 0).all() and (a.landmarks < 96).all() and a.landmarks[0, 1] < a.landmarks[3, 1]


def test_crop_spec_is_validated_and_old_checkpoints_get_todays_rule_stated():
    with pytest.raises(CheckpointError, match="unknown crop recipe"):
        CropSpec("nope").validate()
    with pytest.raises(CheckpointError, match="unknown crop recipe fields"):
        CropSpec.from_dict({"recipe": "faceapi", "zoom": 2})
    with pytest.raises(CheckpointError, match="malformed|padding"):
        CropSpec.from_dict({"recipe": "faceapi", "padding": "lots"})
    with pytest.raises(CheckpointError, match="colour"):
        ModelConfig("m", crop={"recipe": "faceapi", "colour": "sepia"})
    recorded = ModelConfig("m", crop=CropSpec("faceapi", padding=0.25))
    again = ModelConfig.from_json(recorded.to_json())
    assert again.crop == CropSpec("faceapi", padding=0.25) and again.crop_note is None
    old = json.loads(ModelConfig("m", preprocess=Preprocess(face_scale=0.8)).to_json())
    del old["crop"]
    legacy = ModelConfig.from_json(json.dumps(old))
    assert legacy.crop is None and legacy.crop_recipe() == CropSpec("similarity5", face_scale=0.8)
    assert "no crop recipe recorded" in legacy.crop_note and "no crop recipe recorded" in describe_config(legacy)
    with pytest.raises(InputError, match="at least 8"):
        cut(np.zeros((50, 50, 3), np.uint8), _face_from_68(np.random.default_rng(1).uniform(10, 40, (68, 2))),
            CropSpec(), size=4)


def test_reference_models_get_their_originals_recipes(astronaut):
    from fer.models.checkpoint import load_checkpoint
    from fer.predictor import Predictor

    face_api, mini = Predictor("faceapi_expression"), Predictor("mini_xception_fer2013")
    assert face_api.config.crop == CropSpec("faceapi", padding=0.2)
    assert mini.config.crop == CropSpec("fer_box", margin_px=10, colour="grey")
    # the shipped weight files record the same recipes (they are project checkpoints)
    assert load_checkpoint("fer/weights/faceapi_expression.safetensors").config.crop.recipe == "faceapi"
    (p,) = mini(astronaut)
    assert p.crop.shape == (64, 64, 3) and (p.crop[..., 0] == p.crop[..., 1]).all()
    assert "fer_box" in mini.crop_description and "faceapi" in face_api.crop_description
