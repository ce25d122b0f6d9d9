"""The ported reference models: fidelity to the originals, the region decomposition, the registry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fer.errors import ModelNotFoundError
from fer.labels import CANONICAL_7
from fer.models import create_model, list_models, model_entry
from fer.models.reference import FACEAPI_CLASSES, FER2013_CLASSES, TO_CANONICAL, load_weights
from fer.models.reference_regions import SPLIT_MODE, quadrant_weights
from fer.regions import split_slices

DATA = Path(__file__).parent / "data"
NAMES = ("faceapi_expression", "mini_xception_fer2013")


@pytest.fixture(scope="module")
def models():
    return {name: create_model(name) for name in NAMES}


def _input(model, rgb: np.ndarray) -> torch.Tensor:
    pp = model.config.preprocess
    x = torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1)[None] / 255.0
    if pp.grayscale:
        x = (x * torch.tensor([0.299, 0.587, 0.114])[:, None, None]).sum(1, keepdim=True)
    return (x - torch.tensor(pp.mean)[:, None, None]) / torch.tensor(pp.std)[:, None, None]


def test_faceapi_port_reproduces_the_original_runtime(models):
    """Logits recorded with face-api's own code on TensorFlow.js (tests/data/faceapi_reference_recorder.mjs)."""
    ref = json.loads((DATA / "faceapi_reference.json").read_text())
    assert tuple(ref["classes"]) == FACEAPI_CLASSES
    model = models["faceapi_expression"]
    to_canonical = [CANONICAL_7.index(TO_CANONICAL[c]) for c in FACEAPI_CLASSES]
    for rec in ref["records"]:
        rgb = np.asarray(Image.open(DATA / rec["input"]).convert("RGB"))
        with torch.no_grad():
            out = model(_input(model, rgb))
        logits = out.whole_logits[0, to_canonical].numpy()
        np.testing.assert_allclose(logits, rec["logits"], atol=1e-4, rtol=0)
        np.testing.assert_allclose(out.whole_probs[0, to_canonical].numpy(), rec["probs"], atol=1e-4, rtol=0)


def test_faceapi_reference_face_is_happy_in_canonical_order(models):
    rgb = np.asarray(Image.open(DATA / "faceapi_input_face.png").convert("RGB"))
    with torch.no_grad():
        out = models["faceapi_expression"](_input(models["faceapi_expression"], rgb))
    assert CANONICAL_7[int(out.whole_logits.argmax())] == "happiness"


@pytest.mark.parametrize("name", NAMES)
def test_whole_face_logits_are_the_mean_of_the_region_logits(models, name):
    model = models[name]
    size = model.config.preprocess.input_size
    channels = 1 if model.config.preprocess.grayscale else 3
    x = torch.randn(3, channels, size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model(x)
    assert out.head_logits.shape == (3, 4, 7)
    assert torch.allclose(out.whole_logits, out.head_logits.mean(1), atol=1e-5)
    # the heads really differ (a decomposition, not four copies)
    assert (out.head_logits[:, 0] - out.head_logits[:, 3]).abs().max() > 1e-2
    # the fused decision is the original classifier's; the heads' mean is kept beside it
    assert torch.allclose(out.probs, out.whole_probs)
    assert torch.allclose(out.head_mean_probs, torch.softmax(out.head_logits, -1).mean(1))


@pytest.mark.parametrize("h,w", [(7, 7), (4, 4), (5, 8)])
def test_quadrant_weights_partition_the_map_into_equal_quarters(h, w):
    weights = quadrant_weights(h, w)
    assert torch.allclose(weights.sum(0), torch.ones(h, w))
    assert torch.allclose(weights.sum((1, 2)), torch.full((4,), h * w / 4))
    for k, (rows, cols) in enumerate(split_slices(h, w, SPLIT_MODE)):
        inside = torch.zeros(h, w, dtype=torch.bool)
        inside[rows, cols] = True
        assert (weights[k][~inside] == 0).all() and (weights[k][inside] > 0).all()


@pytest.mark.parametrize("name,slice_shape", [("faceapi_expression", (4, 4)), ("mini_xception_fer2013", (2, 2))])
def test_region_taps_see_only_their_slice(models, name, slice_shape):
    """Grad-CAM hooks: the shared tap sees the last map; head k's gradient reaches only region k's slice."""
    model = models[name]
    size = model.config.preprocess.input_size
    channels = 1 if model.config.preprocess.grayscale else 3
    seen = {}
    hooks = [model.shared_tap.register_forward_hook(lambda m, i, o: seen.__setitem__("shared", o))]
    for k, tap in enumerate(model.region_taps):
        hooks.append(tap.register_forward_hook(lambda m, i, o, k=k: seen.__setitem__(k, o)))
    try:
        x = torch.randn(1, channels, size, size, requires_grad=True)
        out = model(x)
        assert seen["shared"].dim() == 4
        for k in range(4):
            assert tuple(seen[k].shape[-2:]) == slice_shape
        grads = torch.autograd.grad(out.head_logits[0, 0, 1], [seen[k] for k in range(4)], allow_unused=True)
        assert grads[0] is not None and grads[0].abs().sum() > 0
        assert all(g is None or g.abs().sum() == 0 for g in grads[1:])
    finally:
        for h in hooks:
            h.remove()


def test_registry_and_configs():
    assert set(NAMES) <= set(list_models("reference"))
    for name in NAMES:
        assert model_entry(name).family == "reference"
    faceapi, mini = create_model(NAMES[0]), create_model(NAMES[1])
    for model in (faceapi, mini):
        cfg = model.config
        assert cfg.trained is True and cfg.class_names == CANONICAL_7
        assert "not trained ALFJ-Net heads" in cfg.provenance and "MIT" in cfg.provenance
        assert not model.training
    assert (faceapi.config.preprocess.input_size, faceapi.config.preprocess.grayscale) == (112, False)
    assert np.allclose(np.array(faceapi.config.preprocess.mean) * 255, (122.782, 117.001, 104.298))
    assert (mini.config.preprocess.input_size, mini.config.preprocess.grayscale) == (64, True)
    assert mini.config.preprocess.mean == (0.5,) and mini.config.preprocess.std == (0.5,)


def test_class_maps_cover_the_canonical_classes():
    for source in (FACEAPI_CLASSES, FER2013_CLASSES):
        assert sorted(TO_CANONICAL[c] for c in source) == sorted(CANONICAL_7)


def test_untrained_build_says_so_and_bad_options_fail(tmp_path):
    model = create_model("mini_xception_fer2013", pretrained=False)
    assert model.config.trained is False and "not trained" in model.config.provenance
    with pytest.raises(ValueError, match="7-class"):
        create_model("faceapi_expression", num_classes=8)
    with pytest.raises(ModelNotFoundError, match="convert_mini_xception"):
        load_weights(model, tmp_path / "mini_xception_fer2013.safetensors")


def test_weights_files_are_project_checkpoints():
    """The shipped files load through the project's checkpoint reader, config included."""
    from fer.models.checkpoint import load_checkpoint, read_checkpoint_config
    from fer.models.reference import weights_path

    x = torch.randn(1, 3, 112, 112)
    for name in NAMES:
        cfg = read_checkpoint_config(weights_path(name))
        assert cfg.name == name and cfg.trained and cfg.class_names == CANONICAL_7
        assert cfg == create_model(name).config  # the file's config is the code's (re-run the converter if not)
    loaded = load_checkpoint(weights_path(NAMES[0]))
    with torch.no_grad():
        assert torch.equal(loaded(x).head_logits, create_model(NAMES[0])(x).head_logits)
