"""The demo's pieces without a server: model picker, figures, summary, error handling, image helpers."""

from __future__ import annotations

import logging

import gradio as gr
import numpy as np
import pytest

from fer.errors import InputError
from fer.ui import figures, models, summary
from fer.ui.analysis import face_zoom
from fer.ui.callbacks import GENERIC_ERROR, face_choices, face_index, user_errors
from fer.ui.images import mask_from_layers

CLASSES = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear")


def _probs(winner: int, p: float = 0.7) -> np.ndarray:
    out = np.full(len(CLASSES), (1 - p) / (len(CLASSES) - 1))
    out[winner] = p
    return out


# --- model picker --------------------------------------------------------------------------


def test_reference_models_always_offered_and_default(monkeypatch):
    monkeypatch.delenv("FER_WEIGHTS", raising=False)
    monkeypatch.delenv("FER_HUB_REPO", raising=False)
    choices = models.discover_models()
    refs = [c for c in choices if c.kind == "reference"]
    assert {c.source for c in refs} >= {"faceapi_expression", "mini_xception_fer2013"}
    assert models.default_choice(choices).kind == "reference"
    untrained = [c for c in choices if c.kind == "untrained"]
    assert untrained and all(models.UNTRAINED_NOTE in c.label and not c.trained for c in untrained)
    assert not any(c.kind == "untrained" for c in models.discover_models(include_untrained=False))


def test_checkpoints_from_fer_weights_are_labelled_honestly(tmp_path, monkeypatch):
    from fer.models import create_model
    from fer.models.checkpoint import save_checkpoint

    model = create_model("alfj_resnet18")
    save_checkpoint(model, tmp_path / "random.safetensors")  # config.trained is False
    model.config.trained = True
    model.config.provenance = "trained in a test on nothing at all"
    save_checkpoint(model, tmp_path / "sub" / "trained.safetensors")
    model.config.provenance = "trained by fer train on SynthFER (synthetic)"
    save_checkpoint(model, tmp_path / "synthetic.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint")
    monkeypatch.setenv("FER_WEIGHTS", str(tmp_path))
    choices = models.discover_models(include_untrained=False)
    by_file = {c.source.rsplit("/", 1)[-1]: c for c in choices if c.kind == "checkpoint"}
    assert set(by_file) == {"random.safetensors", "trained.safetensors", "synthetic.safetensors"}  # junk skipped
    assert "synthetic" in by_file["synthetic.safetensors"].label and "(trained)" not in by_file["synthetic.safetensors"].label
    assert by_file["trained.safetensors"].trained and "(trained)" in by_file["trained.safetensors"].label
    assert not by_file["random.safetensors"].trained and models.UNTRAINED_NOTE in by_file["random.safetensors"].label
    default = models.default_choice(choices)
    assert default.source.endswith("trained.safetensors")
    assert [c.kind for c in choices].index("reference") > [c.source for c in choices].index(default.source)
    md = models.provenance_markdown(by_file["random.safetensors"])
    assert "not marked as trained" in md
    loaded = models.ModelBank(choices).get(default.label)
    assert loaded.model.config.provenance == "trained in a test on nothing at all"
    assert "trained in a test" in models.provenance_markdown(default, loaded)


def test_hub_not_contacted_when_offline(monkeypatch):
    import huggingface_hub

    def boom(*a, **k):
        raise AssertionError("the Hub must not be contacted with HF_HUB_OFFLINE set")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", boom)
    monkeypatch.setenv("FER_HUB_REPO", "someone/some-repo")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not [c for c in models.discover_models(include_untrained=False) if c.kind == "hub"]


def test_unknown_model_label_is_a_clear_error():
    bank = models.ModelBank(models.discover_models(include_untrained=False))
    with pytest.raises(models.ModelNotFoundError, match="Unknown model"):
        bank.get("no such model")


# --- errors ----------------------------------------------------------------------------------


def test_user_errors_plain_messages(caplog):
    @user_errors
    def bad_input():
        raise InputError("That file is not an image.")

    @user_errors
    def bug():
        raise RuntimeError("internal detail that must stay on the server")

    with pytest.raises(gr.Error) as info:
        bad_input()
    assert info.value.message == "That file is not an image."
    with caplog.at_level(logging.ERROR, logger="fer.ui"), pytest.raises(gr.Error) as info:
        bug()
    assert info.value.message == GENERIC_ERROR and "internal detail" not in info.value.message
    assert "internal detail" in caplog.text  # logged server side, with its traceback
    assert "Traceback" in caplog.text or caplog.records[-1].exc_info


def test_face_index_parsing():
    """The picker's value follows fer.face.numbering: from 1, empty = the largest, malformed = a message."""
    assert face_index("face 3") == 2 and face_index(2) == 1 and face_index("2") == 1
    assert face_index("face 1 (largest)") == 0
    assert face_index(None) == 0 and face_index("") == 0
    for bad in ("garbage", "face 0", 0, -1, 1.5, [2], True):
        with pytest.raises(InputError, match="Face"):
            face_index(bad)
    assert face_choices(3) == ["face 1 (largest)", "face 2", "face 3"]
    assert [face_index(c) for c in face_choices(3)] == [0, 1, 2]  # what the picker shows, it reads back


@pytest.mark.parametrize("name", ["alfj_split2_resnet18", "alfj_patch_resnet18"])
def test_every_offered_split_variant_analyses_with_four_heads_and_maps(astronaut, name, monkeypatch):
    from fer.predictor import Predictor
    from fer.ui.analysis import OcclusionRequest, analyse

    monkeypatch.delenv("FER_WEIGHTS", raising=False)
    monkeypatch.delenv("FER_HUB_REPO", raising=False)
    offered = [c for c in models.discover_models() if c.kind == "untrained"]
    assert name in {c.source for c in offered} and not any(c.trained for c in offered)
    result = analyse(astronaut, Predictor(name), 0, OcclusionRequest(kind="surgical_mask"))
    assert result.occluded_head_probs.shape == (4, 7) and np.allclose(result.occluded_head_probs.sum(1), 1, atol=1e-5)
    assert len(result.cams) == 5 and all(m.shape[:2] == result.occluded_crop.shape[:2] for m, _ in result.cams)
    assert not np.array_equal(result.clean_crop, result.occluded_crop)  # the mask reached the model's crop


def test_out_of_range_face_is_an_error_not_the_last_face(astronaut):
    from fer.predictor import Predictor
    from fer.ui.analysis import OcclusionRequest, analyse

    predictor = Predictor("faceapi_expression")
    assert analyse(astronaut, predictor, 0, OcclusionRequest(), explain=False).index == 0
    with pytest.raises(InputError, match=r"Face 2: the image has 1 face\(s\), numbered 1 "):
        analyse(astronaut, predictor, 1, OcclusionRequest(), explain=False)


# --- figures and summary -----------------------------------------------------------------------


def test_votes_figure_layout_and_agreement_colours():
    heads = np.stack([_probs(1), _probs(1), _probs(6, 0.5), _probs(1, 0.4)])  # TR agrees, BL disagrees
    fig = figures.votes_figure(heads, CLASSES, clean_head_probs=np.stack([_probs(1)] * 4))
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 4
    # heads laid out as on the face: TL (1,1) TR (1,2) BL (2,1) BR (2,2)
    assert [(b.xaxis, b.yaxis) for b in bars] == [("x", "y"), ("x2", "y2"), ("x3", "y3"), ("x4", "y4")]
    titles = [a.text for a in fig.layout.annotations][:4]
    assert titles[0].startswith("<b>top-left</b>") and titles[3].startswith("<b>bottom-right</b>")
    assert "✓ agrees" in titles[1] and "✗ disagrees" in titles[2]
    assert bars[0].marker.color[1] == figures.AGREE
    assert bars[2].marker.color[6] == figures.DISAGREE and bars[2].marker.color[1] == figures.FUSED
    assert "happiness" in fig.layout.title.text
    assert len([t for t in fig.data if t.type == "scatter"]) == 4  # the clean reference markers


def test_votes_figure_single_head():
    fig = figures.votes_figure(_probs(2)[None], CLASSES)
    assert len(fig.data) == 1 and "whole-face" in fig.layout.annotations[0].text


def test_summary_names_flipped_heads():
    clean = np.stack([_probs(1)] * 4)
    occluded = np.stack([_probs(1), _probs(1), _probs(3, 0.9), _probs(3, 0.9)])
    text = summary.occlusion_summary(clean, occluded, CLASSES, "surgical_mask")
    assert "changes from **happiness**" in text and "to **sadness**" in text
    assert "bottom-left (happiness → sadness)" in text and "bottom-right" in text and "top-left (" not in text
    same = summary.occlusion_summary(clean, clean, CLASSES, "sunglasses")
    assert "stays **happiness**" in same and "stayed at 70%" in same and "No region head changed its vote" in same
    plain = summary.occlusion_summary(clean, clean, CLASSES, None)
    assert "4 of 4 region heads" in plain


# --- image helpers -------------------------------------------------------------------------------


def test_mask_from_layers_reads_alpha_and_resizes():
    layer = np.zeros((50, 60, 4), np.uint8)
    layer[10:20, 5:15, 3] = 255
    mask = mask_from_layers([layer], (100, 120))
    assert mask.shape == (100, 120) and mask[30, 20] and not mask[80, 100]
    assert mask_from_layers([np.zeros((50, 60, 4), np.uint8)], (50, 60)) is None
    assert mask_from_layers([], (50, 60)) is None


def test_face_zoom_is_square_and_centred(astronaut):
    from fer.face.types import Face

    face = Face(box=np.array([180.0, 60.0, 268.0, 175.0]), score=1.0, landmarks=np.zeros((5, 2)))
    zoom = face_zoom(astronaut, face, size=200)
    assert zoom.shape == (200, 200, 3)
    centre = astronaut[117, 224].astype(int)
    assert np.abs(zoom[100, 100].astype(int) - centre).max() < 40


# --- the Analyse click with the kept photo (fer.ui.editor) -------------------------------------


def test_click_routes_to_an_event_without_the_editor_and_every_editor_event_keeps_its_value():
    from fer.ui.editor import PhotoEditor
    from fer.ui.layout import build_demo

    choices = models.discover_models(include_untrained=False)
    demo = build_demo(choices, models.default_choice(choices))
    fns = {f.api_name: f for f in demo.fns.values() if f.api_name}
    kept = fns["analyse_kept"]
    assert not any(isinstance(c, PhotoEditor) for c in kept.inputs)  # no canvas export on this click
    assert isinstance(kept.inputs[0], gr.State)
    for name in ("analyse", "analyse_upload", "analyse_face"):  # each sends the editor and keeps what it got
        assert isinstance(fns[name].inputs[0], PhotoEditor) and fns[name].outputs[-1] is kept.inputs[0]
    assert fns["locality_kept"].trigger_after == kept._id and fns["locality_kept"].inputs[0] is kept.inputs[0]
    # no progress tracking: each status message would make the page export the editor's canvases again
    import inspect

    for name in ("analyse", "analyse_upload", "analyse_face", "analyse_kept"):
        params = inspect.signature(fns[name].fn).parameters.values()
        assert not any(isinstance(p.default, gr.Progress) for p in params), name


def test_analyse_kept_is_the_analysis_of_the_kept_value_and_says_when_there_is_none(astronaut):
    from fer.ui.callbacks import DemoActions

    choices = models.discover_models(include_untrained=False)
    actions = DemoActions(models.ModelBank(choices))
    label = "faceapi_expression (pretrained reference)"
    editor = {"background": astronaut, "layers": [], "composite": None}
    args = (label, "sunglasses", None, 0.6, 0, "as drawn", None)
    kept_out = actions.analyse_kept(editor, *args, progress=None)
    full_out = actions.analyse_and_keep(editor, *args, progress=None)
    assert full_out[-1] is editor and len(full_out) == len(kept_out) + 1
    assert kept_out[5] == full_out[5] and kept_out[8] == full_out[8]  # fused label, summary
    with pytest.raises(InputError, match="not reached the server yet"):
        actions.analyse_kept(None, *args, progress=None)
