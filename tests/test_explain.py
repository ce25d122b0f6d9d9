"""fer.explain: Grad-CAM++ maps of the fused decision and of each head (pytorch-grad-cam 1.5.7)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fer.errors import FERError, InputError
from fer.explain import (
    explain,
    fused_overlay,
    head_overlay,
    montage,
    photo_overlay,
    to_input_tensor,
)
from fer.explain.direct import library_fused_map, library_maps
from fer.explain.overlay import HIGHLIGHT_COLOUR
from fer.models import create_model
from fer.models.base import FERModel, ModelConfig, ModelOutput, Preprocess

REGION_MODELS = ["alfj_resnet18", "faceapi_expression", "mini_xception_fer2013"]  # the last: 64 px grey


class TinyGreyModel(FERModel):
    """A small four-region model on 40 px grey input, odd 5x5 shared map (overlapping split)."""

    def __init__(self) -> None:
        pp = Preprocess(input_size=40, mean=(0.5,), std=(0.5,), grayscale=True)
        super().__init__(ModelConfig(name="tiny_grey", preprocess=pp), 4)
        self.trunk = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, 2, 1), torch.nn.ReLU(), torch.nn.Conv2d(8, 16, 3, 4, 1))
        self.fc = torch.nn.ModuleList(torch.nn.Linear(16, 7) for _ in range(4))

    def forward(self, x):
        f = self.shared_tap(torch.tanh(self.trunk(x)))  # 5x5
        parts = [f[..., :3, :3], f[..., :3, 2:], f[..., 2:, :3], f[..., 2:, 2:]]
        logits = [self.fc[k](self.region_taps[k](p).mean((2, 3))) for k, p in enumerate(parts)]
        return ModelOutput(torch.stack(logits, 1))


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    small = {"alfj_resnet18": {"input_size": 112}, "base_resnet18": {"input_size": 80}}  # 7x7 map: odd split
    return {name: create_model(name, **small.get(name, {})) for name in [*REGION_MODELS, "base_resnet18"]}


@pytest.fixture(scope="module")
def crop(astronaut):
    return np.ascontiguousarray(astronaut[20:240, 140:360])  # the astronaut's face and some context


def test_maps_are_finite_in_unit_range_with_the_right_shape(models, crop):
    for name, model in models.items():
        expl = explain(model, crop)
        s = model.config.preprocess.input_size
        r = 4 if name in REGION_MODELS else 1
        assert expl.fused.shape == (s, s) and expl.heads.shape == (r, s, s), name
        for m in (expl.fused, expl.heads):
            assert m.dtype == np.float32 and np.isfinite(m).all()
            assert m.min() >= 0.0 and m.max() <= 1.0 + 1e-6
        assert expl.fused.max() > 0.99  # min-max scaled: a live map reaches 1
        assert expl.fused_label == model.config.class_names[int(np.argmax(expl.probs))]
        assert expl.probs.shape == (7,) and abs(float(expl.probs.sum()) - 1) < 1e-5
        assert expl.layer == ("local" if r == 4 else "shared")


@pytest.mark.parametrize("name", REGION_MODELS)
def test_local_head_map_is_zero_outside_its_region(models, crop, name):
    expl = explain(models[name], crop, layer="local")
    s = expl.input_size
    assert len(expl.region_boxes) == 4
    x1, y1, x2, y2 = expl.region_boxes[0]
    assert (x1, y1) == (0, 0) and s / 2 <= x2 < s and s / 2 <= y2 < s  # top-left covers the top-left quarter
    for k, (x1, y1, x2, y2) in enumerate(expl.region_boxes):
        inside = np.zeros((s, s), bool)
        inside[y1:y2, x1:x2] = True
        assert not expl.heads[k][~inside].any(), f"head {k} leaks outside its region"
        assert expl.heads[k][inside].max() > 0.99


@pytest.mark.parametrize(
    ("name", "layer"),
    [("alfj_resnet18", "local"), ("alfj_resnet18", "shared"), ("faceapi_expression", "local"), ("base_resnet18", "local")],
)
def test_fast_path_equals_direct_library_calls(models, crop, name, layer):
    model = models[name]
    expl = explain(model, crop, layer=layer, head_target="own")
    x = to_input_tensor(crop, model.config.preprocess)
    boxes = expl.region_boxes if expl.layer == "local" else None
    fused, heads = library_maps(model, x, expl.fused_class, expl.head_classes, boxes)
    np.testing.assert_allclose(expl.fused, fused, atol=1e-5)
    np.testing.assert_allclose(expl.heads, heads, atol=1e-5)
    assert heads.max() > 0.5  # the comparison is not between two blank maps


def test_fused_map_differs_from_every_head_map(models, crop):
    for name in REGION_MODELS:
        for layer in ("local", "shared"):
            expl = explain(models[name], crop, layer=layer)
            for k in range(4):
                assert np.abs(expl.fused - expl.heads[k]).max() > (0.3 if layer == "local" else 1e-3), (name, layer, k)


def test_head_targets_and_chosen_class(models, crop):
    model = models["alfj_resnet18"]
    own = explain(model, crop, head_target="own")
    x = to_input_tensor(crop, model.config.preprocess)
    with torch.no_grad():
        logits = model(x).head_logits[0]
    assert own.head_classes == tuple(int(c) for c in logits.argmax(-1))
    chosen = explain(model, crop, target="disgust")
    assert chosen.fused_label == "disgust" and chosen.head_labels == ("disgust",) * 4
    assert explain(model, crop, target=5).fused_class == 5


def test_hooks_released_and_training_mode_restored(models, crop):
    model = models["alfj_resnet18"]
    model.train()
    explain(model, crop)
    assert model.training
    model.eval()
    for module in model.modules():
        assert not module._forward_hooks and not module._backward_hooks


def test_grey_model_with_odd_overlapping_split():
    torch.manual_seed(1)
    model = TinyGreyModel()
    face = (np.random.default_rng(0).random((50, 50, 3)) * 255).astype(np.uint8)
    expl = explain(model, face)
    assert expl.heads.shape == (4, 40, 40)
    assert expl.region_boxes == [(0, 0, 24, 24), (16, 0, 40, 24), (0, 16, 24, 40), (16, 16, 40, 40)]
    x = to_input_tensor(face, model.config.preprocess)
    assert x.shape == (1, 1, 40, 40)
    np.testing.assert_allclose(expl.fused, library_fused_map(model, x, expl.fused_class), atol=1e-5)


def test_bad_inputs_get_clear_errors(models, crop):
    model = models["base_resnet18"]
    with pytest.raises(InputError, match="unknown class"):
        explain(model, crop, target="boredom")
    with pytest.raises(InputError, match="out of range"):
        explain(model, crop, target=7)
    with pytest.raises(InputError, match="layer"):
        explain(model, crop, layer="deep")
    with pytest.raises(InputError, match="head_target"):
        explain(model, crop, head_target="best")
    with pytest.raises(InputError):
        explain(model, "face.jpg")
    with pytest.raises(InputError):
        explain(model, np.zeros((10, 10, 7), np.uint8))
    with pytest.raises(FERError):
        explain(torch.nn.Linear(2, 2), crop)


@pytest.fixture(scope="module")
def aligned_astronaut(astronaut):
    """The astronaut's face detected (MTCNN, offline) and aligned to a 112 px crop."""
    from fer.face import align, detect

    faces = detect(astronaut)
    assert faces, "the face pipeline finds no face on the astronaut"
    return align(astronaut, faces[0], size=112)


def test_maps_go_back_onto_the_photo_inside_the_face(models, astronaut, aligned_astronaut):
    aligned = aligned_astronaut
    expl = explain(models["alfj_resnet18"], aligned, photo_shape=astronaut.shape)
    h, w = astronaut.shape[:2]
    assert expl.photo_fused.shape == (h, w) and expl.photo_heads.shape == (4, h, w)
    footprint = expl.photo_footprint(astronaut.shape)
    assert not expl.photo_fused[~footprint].any() and not expl.photo_heads[:, ~footprint].any()
    assert expl.photo_fused.max() > 0.9  # the map's peak survives the warp
    # a spot on the crop's nose tip lands on the photo's nose tip, inside the face box
    spot = np.zeros((expl.input_size, expl.input_size), np.float32)
    nx, ny = np.round(aligned.landmarks[2] * expl.input_size / aligned.size).astype(int)
    spot[ny - 3 : ny + 4, nx - 3 : nx + 4] = 1.0
    ys, xs = np.nonzero(expl.to_photo(spot, astronaut.shape) > 0.5)
    x1, y1, x2, y2 = aligned.face.box
    assert len(xs) and x1 < xs.min() and xs.max() < x2 and y1 < ys.min() and ys.max() < y2
    assert np.hypot(xs.mean() - aligned.face.landmarks[2, 0], ys.mean() - aligned.face.landmarks[2, 1]) < 3
    # head 0's region (the crop's top-left) lands on the photo's side of the face's left eye
    ys, xs = np.nonzero(expl.photo_heads[0])
    eye_left, eye_right = aligned.face.landmarks[0], aligned.face.landmarks[1]
    assert np.hypot(*(np.array([xs.mean(), ys.mean()]) - eye_left)) < np.hypot(*(np.array([xs.mean(), ys.mean()]) - eye_right))


def test_overlays_are_rgb_pictures_with_the_grid_and_the_head_outlined(models, crop, astronaut, aligned_astronaut):
    expl = explain(models["alfj_resnet18"], crop)
    fused = fused_overlay(expl)
    assert fused.shape == crop.shape and fused.dtype == np.uint8
    for k, (x1, y1, x2, y2) in enumerate(expl.boxes_on(*crop.shape[:2])):
        pic = head_overlay(expl, k)
        assert pic.shape == crop.shape and pic.dtype == np.uint8
        outlined = np.all(np.abs(pic.astype(int) - HIGHLIGHT_COLOUR) < 40, axis=2)
        ys, xs = np.nonzero(outlined)
        assert len(xs) > 100
        assert x1 - 2 <= xs.min() and xs.max() <= x2 + 1 and y1 - 2 <= ys.min() and ys.max() <= y2 + 1
    panel = montage(expl, tile=96)
    assert panel.shape[1] == 5 * 96 and panel.dtype == np.uint8
    expl = explain(models["base_resnet18"], aligned_astronaut)
    on_photo = photo_overlay(astronaut, expl)
    footprint = expl.photo_footprint(astronaut.shape)
    assert on_photo.shape == astronaut.shape and on_photo.dtype == np.uint8
    assert np.array_equal(on_photo[~footprint], astronaut[~footprint])
    assert not np.array_equal(on_photo[footprint], astronaut[footprint])


def test_fused_map_explains_the_predictors_decision(models, crop):
    """The fused target follows fer.Predictor's fusion rule (reference models: their own whole-face output)."""
    from fer.predictor import Predictor

    predictor = Predictor("faceapi_expression")
    prediction = predictor.predict_crops([crop])[0]
    expl = explain(predictor.model, crop)
    assert expl.fused_label == prediction.label
    np.testing.assert_allclose(expl.probs, [prediction.probs[n] for n in expl.class_names], atol=1e-5)


def test_fused_target_is_the_log_odds_of_the_fused_probability():
    from fer.explain.targets import fused_log_odds

    torch.manual_seed(0)
    logits = torch.randn(2, 4, 7) * 3
    p = torch.softmax(logits, -1).mean(1)
    torch.testing.assert_close(fused_log_odds(ModelOutput(logits)), p.log() - (1 - p).log(), atol=1e-4, rtol=1e-4)
    # a saturated single softmax: the target is z_c - logsumexp(others), its gradient does not vanish
    z = torch.tensor([[[60.0, 0, 0, 0, 0, 0, 0]]], requires_grad=True)
    (grad,) = torch.autograd.grad(fused_log_odds(ModelOutput(z))[0, 0], z)
    assert abs(float(grad[0, 0, 0]) - 1.0) < 1e-6


def test_confident_face_still_gets_a_fused_map(aligned_astronaut):
    """The astronaut smiles: face-api is ~100 % sure; the fused map must not be blank."""
    from fer.predictor import get_model

    model = get_model("faceapi_expression")
    expl = explain(model, aligned_astronaut)
    assert expl.fused_label == "happiness" and expl.probs.max() > 0.99
    assert expl.fused.max() > 0.99 and expl.fused.std() > 0.05


def test_tap_recorder_ignores_other_threads():
    """A server shares one model: another request's forward pass must not be taken for ours."""
    import threading

    from fer.explain.engine import TapRecorder

    model = TinyGreyModel()
    x = torch.zeros(1, 1, 40, 40)
    with TapRecorder([model.shared_tap]) as recorder:
        worker = threading.Thread(target=lambda: model(x))
        worker.start()
        worker.join()
        assert recorder.outputs == [None]
        model(x)
        assert recorder.outputs[0] is not None
    assert not model.shared_tap._forward_hooks


def test_a_model_may_declare_its_regions():
    class Declared(TinyGreyModel):
        def region_slices(self, h, w):
            return [(slice(0, 2), slice(0, 2)), (slice(0, 2), slice(2, w)), (slice(2, h), slice(0, 2)),
                    (slice(2, h), slice(2, w))]  # fmt: skip

    torch.manual_seed(1)
    expl = explain(Declared(), np.full((40, 40, 3), 90, np.uint8))
    assert expl.region_boxes == [(0, 0, 16, 16), (16, 0, 40, 16), (0, 16, 16, 40), (16, 16, 40, 40)]


def test_panel_titles_say_what_each_map_explains_not_the_heads_vote():
    from fer.explain import Explanation, panel_titles

    names = ("anger", "happiness", "sadness")
    boxes = [(0, 0, 4, 4), (4, 0, 8, 4), (0, 4, 4, 8), (4, 4, 8, 8)]
    head_probs = np.array([[0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]], np.float32)

    def expl(fused_class, head_classes, head_target):
        return Explanation(image=np.zeros((8, 8, 3), np.uint8), fused=np.zeros((8, 8), np.float32),
                           heads=np.zeros((4, 8, 8), np.float32), fused_class=fused_class, head_classes=head_classes,
                           class_names=names, probs=np.array([0.2, 0.6, 0.2], np.float32), head_probs=head_probs,
                           layer="local", head_target=head_target, region_boxes=boxes)

    fused = panel_titles(expl(1, (1, 1, 1, 1), "fused"))
    assert fused == ["map for happiness (fused decision)",
                     "head top-left: map for happiness (its vote)",
                     "head top-right: map for happiness (as the fused map; it votes anger)",
                     "head bottom-left: map for happiness (its vote)",
                     "head bottom-right: map for happiness (as the fused map; it votes sadness)"]
    own = panel_titles(expl(2, (1, 0, 1, 2), "own"))  # --target sadness, each head its own top class
    assert own[0] == "map for sadness (fused decision, which predicts happiness)"
    assert own[1:] == [f"head {r}: map for {c} (its vote)" for r, c in
                       zip(("top-left", "top-right", "bottom-left", "bottom-right"), ("happiness", "anger", "happiness",
                                                                                       "sadness"))]
    picture = montage(expl(1, (1, 1, 1, 1), "fused"), tile=96)  # long titles wrap, every tile as tall
    assert picture.shape[1] == 5 * 96 and picture.shape[0] > 96 + 2 * 20
