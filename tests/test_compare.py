"""Two models on the same occluded face (fer.ui.compare) and the function behind /compare."""

from __future__ import annotations

import dataclasses

import gradio as gr
import numpy as np
import pytest

from fer.errors import InputError
from fer.predictor import FacePrediction, Predictor
from fer.regions import REGION_NAMES
from fer.ui.analysis import OcclusionRequest
from fer.ui.compare import FUSED, TABLE_HEADERS, ModelSide, compare_models, head_rows


@pytest.fixture(scope="module")
def predictors(one_torch_thread):
    return {name: Predictor(name) for name in ("faceapi_expression", "mini_xception_fer2013",
                                               "base_resnet18_half_synthfer")}


def _prediction(head_probs: list[dict[str, float]], regions=REGION_NAMES) -> FacePrediction:
    names = list(head_probs[0])
    fused = {n: float(np.mean([h[n] for h in head_probs])) for n in names}
    return FacePrediction(max(fused, key=fused.get), fused, head_probs, fused, "mean", "m", "test", True,
                          region_names=tuple(regions))


def _side(prediction: FacePrediction, name: str) -> ModelSide:
    return ModelSide(name, prediction, prediction, np.zeros((8, 8, 3), np.uint8), [], True)


def test_head_rows_match_heads_and_classes_by_name():
    """B has another class order and another class set: rows compare names, never positions."""
    a = _prediction([{"neutral": 0.7, "happiness": 0.2, "fear": 0.1}] * 3
                    + [{"neutral": 0.1, "happiness": 0.1, "fear": 0.8}])
    b = _prediction([{"contempt": 0.1, "happiness": 0.3, "neutral": 0.6}] * 2
                    + [{"contempt": 0.1, "happiness": 0.8, "neutral": 0.1}] * 2)
    rows = {r.head: r for r in head_rows(_side(a, "A"), _side(b, "B"))}
    assert list(rows) == [FUSED, *REGION_NAMES]
    tl, bl, br = rows["top-left"], rows["bottom-left"], rows["bottom-right"]
    assert tl.same and tl.a_prob == pytest.approx(0.7) and tl.b_prob == pytest.approx(0.6)
    assert tl.change() == "same vote, B -10 pts"
    assert not bl.same and bl.b_prob_of_a_vote == pytest.approx(0.1)
    assert bl.change() == "neutral → happiness (B gives it 10%)"
    assert br.a_vote == "fear" and br.b_prob_of_a_vote is None and "B has no such class" in br.change()


def test_head_rows_one_head_against_four():
    four = _prediction([{"neutral": 0.6, "happiness": 0.4}] * 4)
    one = _prediction([{"neutral": 0.3, "happiness": 0.7}], regions=("whole-face",))
    rows = head_rows(_side(four, "A"), _side(one, "B"))
    assert [r.head for r in rows] == [FUSED, *REGION_NAMES, "whole-face"]
    assert rows[0].a_vote == "neutral" and rows[0].b_vote == "happiness" and rows[0].same is False
    assert all(r.change() == "only A has this head" for r in rows[1:5])
    assert rows[5].change() == "only B has this head" and rows[5].b_prob == pytest.approx(0.7)


def test_two_four_head_models_on_the_same_occluded_face(astronaut, predictors):
    a, b = predictors["faceapi_expression"], predictors["mini_xception_fer2013"]
    request = OcclusionRequest("surgical_mask", 0.6, 0)
    result = compare_models(astronaut, a, b, 0, request, names=("faceapi", "mini"))
    assert result.index == 0 and result.occlusion.startswith("surgical_mask")
    assert (result.occluded_photo != astronaut).any(-1).sum() > 1000  # the mask is on the photo both models saw
    face = result.faces[0]
    for side, predictor, size in ((result.a, a, 112), (result.b, b, 64)):
        assert side.occluded.aligned.image.shape[:2] == (size, size)  # each model cut its own crop
        again = predictor.predict_face(result.occluded_photo, face)
        assert side.occluded.probs == pytest.approx(again.probs, abs=1e-5)
        assert predictor.predict_face(astronaut, face).label == side.clean.label == "happiness"
        assert len(side.cams) == 5 and side.cams[0][1] == f"map for {side.label} (fused decision)"
        for (_, text), region, vote in zip(side.cams[1:], REGION_NAMES, side.occluded.head_labels):
            # each head's map explains the fused class; its caption says so, and names the head's own vote
            assert text.startswith(f"head {region}: map for {side.label} (")
            assert ("its vote" in text) == (vote == side.label) and (vote == side.label or f"it votes {vote}" in text)
        assert all(c[0].shape == (224, 224, 3) for c in side.cams)
    rows = result.table()
    assert [r[0] for r in rows] == [FUSED, *REGION_NAMES] and all(len(r) == len(TABLE_HEADERS) for r in rows)
    assert rows[0][1] == result.a.label and rows[0][3] == result.b.label
    for row, region in zip(rows[1:], REGION_NAMES):  # the table's votes are each head's own argmax
        k = REGION_NAMES.index(region)
        assert row[1] == result.a.occluded.head_labels[k] and row[3] == result.b.occluded.head_labels[k]
    text = result.summary()
    assert "faceapi" in text and "mini" in text and "without the occluder: happiness" in text
    doc = result.to_dict()
    assert doc["face"] == 1 and len(doc["rows"]) == 5 and doc["b"]["occluded"]["label"] == result.b.label


def test_one_head_model_and_another_class_order(astronaut, predictors):
    a, one = predictors["faceapi_expression"], predictors["base_resnet18_half_synthfer"]
    result = compare_models(astronaut, a, one, 0, OcclusionRequest(), names=("faceapi", "synthetic one-head"))
    assert [r.head for r in result.rows] == [FUSED, *REGION_NAMES, "whole-face"] and not result.shared_heads
    assert result.b.cams[0][1].endswith("(fused decision)") and result.b.cams[1][1].startswith("head whole-face: map for")
    assert result.b.clean is result.b.occluded  # no occluder: one prediction
    assert "no occluder applied" in result.summary() and "share no head" in result.summary()

    class Reversed:
        """The same model, its class dicts in reverse order (as a checkpoint with another class order)."""

        def __init__(self, inner):
            self.inner, self.detector = inner, inner.detector

        @property
        def model(self):
            return self.inner.model

        def predict_face(self, image, face):
            p = self.inner.predict_face(image, face)
            rev = lambda d: dict(reversed(list(d.items())))  # noqa: E731
            return dataclasses.replace(p, probs=rev(p.probs), head_probs=[rev(h) for h in p.head_probs])

    same = compare_models(astronaut, a, Reversed(a), 0, OcclusionRequest("sunglasses", 0.8), explain=False)
    assert all(r.same for r in same.rows) and all(r.change() == "same vote" for r in same.rows)


def test_out_of_range_face(astronaut, predictors):
    a = predictors["faceapi_expression"]
    with pytest.raises(InputError, match=r"Face 2: the image has 1 face\(s\), numbered 1 "):
        compare_models(astronaut, a, a, 1, OcclusionRequest(), explain=False)


def test_compare_handler_behind_the_endpoint(astronaut, predictors):
    """CompareActions.compare (what /compare calls), with a one-head checkpoint-like entry in the picker."""
    from fer.ui.callbacks import DemoActions, user_errors
    from fer.ui.compare_panel import CompareActions, second_model
    from fer.ui.models import ModelBank, ModelChoice

    choices = [ModelChoice("faceapi", "faceapi_expression", "reference", True, "ref"),
               ModelChoice("one-head (trained on synthetic SynthFER faces only)", "base_resnet18_half_synthfer",
                           "checkpoint", True, "synthetic"),
               ModelChoice("random", "alfj_resnet18", "untrained", False, "random")]
    bank = ModelBank(choices)
    assert second_model(bank, [c.label for c in choices], "faceapi") == choices[1].label
    assert second_model(bank, ["faceapi", "random"], "faceapi") == "random"
    compare = user_errors(CompareActions(DemoActions(bank)).compare)
    label_a, label_b, cams_a, cams_b, table, summary, details = compare(
        astronaut, "faceapi", choices[1].label, "sunglasses", None, 0.8, 0, "as drawn", "face 1", progress=None)
    assert max(label_a, key=label_a.get) == details["a"]["occluded"]["label"]
    assert len(cams_a) == 6 and len(cams_b) == 3 and cams_b[2][1].startswith("head whole-face: map for")
    assert all(path.split("/")[-1].startswith("face1-modela-") for path, _ in cams_a)
    assert [r[0] for r in table][-1] == "whole-face" and "synthetic SynthFER faces only" in summary
    for face, message in (("face 2", r"numbered 1 \(largest first\)"), ("second", "give a face number")):
        with pytest.raises(gr.Error, match=message):
            compare(astronaut, "faceapi", "faceapi", "none", None, 0.5, 0, "as drawn", face, progress=None)
    with pytest.raises(gr.Error, match="Unknown model"):
        compare(astronaut, "faceapi", "nope", "none", None, 0.5, 0, "as drawn", None, progress=None)
