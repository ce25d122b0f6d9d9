"""The demo's locality panel (fer.ui.locality_panel) without a server: wiring, figures, sentence."""

from __future__ import annotations

import numpy as np
import pytest

from fer.robustness.locality import crosstalk
from fer.robustness.locality_figure import crosstalk_figure, describe

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REFERENCE = "faceapi_expression (pretrained reference)"


@pytest.fixture(scope="module")
def demo_fns():
    from fer.ui.layout import build_demo
    from fer.ui.models import ModelBank, default_choice, discover_models

    choices = discover_models()
    bank = ModelBank(choices)
    demo = build_demo(choices, default_choice(choices), bank)
    return {f.api_name: f for f in demo.fns.values() if f.api_name}, bank


def test_the_panel_follows_every_analysis_only_on_success(demo_fns):
    fns, _ = demo_fns
    for analyse, follow in (("analyse", "locality"), ("analyse_upload", "locality_upload"),
                            ("analyse_example", "locality_example"), ("analyse_face", "locality_face")):
        if analyse not in fns:  # no example photos installed
            continue
        assert fns[follow].trigger_after == fns[analyse]._id and fns[follow].trigger_only_on_success
    assert not any("locality" in (f.api_name or "") for f in fns.values() if f.trigger_after is None)


def test_panel_shows_the_library_cross_talk_of_the_clean_face(demo_fns, astronaut):
    from fer.face.numbering import pick_face

    fns, bank = demo_fns
    figure, note = fns["locality"].fn({"background": astronaut, "layers": [], "composite": None}, REFERENCE, None)
    predictor = bank.get(REFERENCE)
    _, face = pick_face(predictor.detect(astronaut), 1, "Face")
    direct = crosstalk(predictor.model, predictor.align(astronaut, face).image[None], cam_limit=0)
    heat = figure.data[0]
    np.testing.assert_allclose(np.asarray(heat.z, float), direct.crosstalk)
    assert list(heat.y) == ["hide top-left", "hide top-right", "hide bottom-left", "hide bottom-right"]
    assert heat.x[0].startswith("top-left<br>L=") and "face 1" in figure.layout.title.text
    assert note == describe(direct.to_dict()) and "off-diagonal ÷ diagonal" in note and note.count(". ") == 0
    with pytest.raises(Exception, match="Face 2"):  # out of range -> the readable message of fer.face.numbering
        fns["locality"].fn({"background": astronaut, "layers": [], "composite": None}, REFERENCE, "face 2")


def test_sentence_and_figure_for_local_partly_and_one_head():
    def doc(matrix, applies=True):
        m = np.asarray(matrix, float)
        from fer.robustness.locality import offdiag_ratio

        return {"crosstalk": m.tolist(), "rows": ["top-left", "top-right", "bottom-left", "bottom-right"],
                "columns": ["top-left", "top-right", "bottom-left", "bottom-right"] if applies else ["whole-face"],
                "locality": [None] * m.shape[1], "applies": applies,
                "offdiag_over_diag": offdiag_ratio(m) if applies else None}

    assert "0.00, local" in describe(doc(np.eye(4) * 0.5))
    assert "not local" in describe(doc(np.full((4, 4), 0.2)))
    assert "partly local" in describe(doc(np.eye(4) * 0.5 + 0.1))
    one = doc([[0.1], [0.2], [0.3], [0.4]], applies=False)
    assert "does not apply" in describe(one)
    assert np.asarray(crosstalk_figure(one).data[0].z).shape == (4, 1)
    with pytest.raises(Exception, match="not a locality result"):
        crosstalk_figure({"crosstalk": [[0.1]]})


def test_same_photo_model_and_face_are_measured_once(demo_fns, astronaut, monkeypatch):
    import fer.ui.locality_panel as panel

    fns, _ = demo_fns
    calls = []
    real = panel.face_crosstalk
    monkeypatch.setattr(panel, "face_crosstalk", lambda *a: calls.append(1) or real(*a))
    photo = np.ascontiguousarray(astronaut[:, ::-1])  # a photo the other tests have not measured
    editor = {"background": photo, "layers": [], "composite": None}
    first = fns["locality"].fn(editor, REFERENCE, "face 1")
    again = fns["locality"].fn(editor, REFERENCE, "face 1")  # e.g. analysed again with another occluder
    assert len(calls) == 1 and again[1] == first[1]
    np.testing.assert_array_equal(np.asarray(again[0].data[0].z), np.asarray(first[0].data[0].z))
    other = photo.copy()
    other[:20] = 0
    fns["locality"].fn({"background": other, "layers": [], "composite": None}, REFERENCE, "face 1")
    assert len(calls) == 2  # another photo is measured anew


def test_an_analysis_and_its_panel_detect_the_photo_once(demo_fns, astronaut, monkeypatch):
    import fer.face

    fns, _ = demo_fns
    calls = []
    real = fer.face.detect
    monkeypatch.setattr(fer.face, "detect", lambda rgb, **kw: calls.append(1) or real(rgb, **kw))
    photo = np.ascontiguousarray(astronaut[::-1].copy())  # upside down: a photo no other test has detected
    photo[:8] = 255
    editor = {"background": photo, "layers": [], "composite": None}
    with pytest.raises(Exception, match="No face"):  # the upside-down astronaut has no face for MTCNN ...
        fns["locality"].fn(editor, REFERENCE, "face 1")
    with pytest.raises(Exception, match="No face"):  # ... and is not detected again to say so twice
        fns["analyse_kept"].fn(editor, REFERENCE, "none", None, 0.5, 0, "as drawn", "face 1")
    assert len(calls) == 1
    upright = np.ascontiguousarray(astronaut[:, ::-1].copy())
    upright[:8] = 255
    editor = {"background": upright, "layers": [], "composite": None}
    fns["analyse_kept"].fn(editor, REFERENCE, "none", None, 0.5, 0, "as drawn", "face 1")
    fns["locality"].fn(editor, REFERENCE, "face 1")
    assert len(calls) == 2  # the analysis detected the new photo; its panel reused the faces
