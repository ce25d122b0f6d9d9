"""The shipped SynthFER checkpoints and the demo's SynthFER lab (through its UI functions)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fer.errors import InputError
from fer.models import create_model, list_models, load_checkpoint, save_checkpoint
from fer.models.synthfer import SYNTHFER_MODELS, weights_path
from fer.ui.synthfer_lab import SYNTHETIC_BANNER, run_lab, synthetic_face

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_shipped_files_are_small_registered_and_say_synthetic():
    assert set(SYNTHFER_MODELS) == set(list_models("synthfer"))
    assert {"base_resnet18_half_synthfer", "alfj_resnet18_half_synthfer", "alfj_patch_resnet18_half_synthfer"} <= set(
        SYNTHFER_MODELS)
    for name in SYNTHFER_MODELS:
        assert weights_path(name).stat().st_size <= 10 * 1024 * 1024
        model = create_model(name)
        assert model.config.name == name and model.config.preprocess.input_size == 64
        assert model.config.provenance.startswith("trained on synthetic SynthFER faces only")
        assert next(model.parameters()).dtype == torch.float32  # stored in half precision, run in float32
    with pytest.raises(ValueError, match="fixed options"):
        create_model("alfj_patch_resnet18_half_synthfer", split_at=3)


def test_shipped_models_learned_synthfer_and_round_trip(tmp_path):
    from fer.data.synthetic import SynthFER
    from fer.robustness.inference import probs_of_crops

    images, labels = SynthFER(64, seed=0).generate("test", 140)
    for name in SYNTHFER_MODELS:
        model = create_model(name)
        fused, _ = probs_of_crops(model, images)
        assert (fused.argmax(1) == labels).mean() > 0.75, name  # chance is 1/7
    back = load_checkpoint(save_checkpoint(model, tmp_path / "m.safetensors"))
    with torch.no_grad():
        x = torch.randn(2, 3, 64, 64)
        assert torch.equal(back(x).head_logits, model(x).head_logits)


def test_synthetic_face_has_the_chosen_class_and_is_reproducible():
    a, label, lm = synthetic_face("anger", 5)
    b, _, _ = synthetic_face("anger", 5)
    assert label == 4 and a.shape == (64, 64, 3) and np.array_equal(a, b) and lm.shape == (5, 2)
    assert not np.array_equal(a, synthetic_face("anger", 6)[0])


def test_lab_run_shows_fused_and_head_votes_against_the_label():
    face, fused, figure, text = run_lab("alfj_patch_resnet18_half_synthfer", "happiness", 3, "none", 0.6)
    assert face.shape == (256, 256, 3) and abs(sum(fused.values()) - 1) < 1e-4
    assert "Synthetic SynthFER face" in text and "true class **happiness**" in text
    assert text.count("✓") + text.count("✗") == 5  # the fused decision and four heads, each right or wrong
    assert "synthetic" in SYNTHETIC_BANNER.lower() and "real faces" in SYNTHETIC_BANNER
    masked, _, _, text2 = run_lab("alfj_patch_resnet18_half_synthfer", "happiness", 3, "surgical_mask", 1.0)
    assert not np.array_equal(masked, face) and "without it" in text2
    _, _, _, one = run_lab("base_resnet18_half_synthfer", "anger", 0, "none", 0.5)
    assert "Region heads" not in one  # a one-head model has no region votes


@pytest.mark.parametrize("args", [
    ("nope", "happiness", 0, "none", 0.5), ("base_resnet18_half_synthfer", "joy", 0, "none", 0.5),
    ("base_resnet18_half_synthfer", "anger", -1, "none", 0.5), ("base_resnet18_half_synthfer", "anger", 1.5, "none", 0.5),
    ("base_resnet18_half_synthfer", "anger", "x", "none", 0.5), ("base_resnet18_half_synthfer", "anger", 0, "hat", 0.5),
    ("base_resnet18_half_synthfer", "anger", 0, "sunglasses", 2.0),
])
def test_bad_lab_input_is_a_clear_error(args):
    with pytest.raises(InputError):
        run_lab(*args)
