"""The "Compare with a second model" panel of the Analyse tab, and its `/compare` endpoint.

It renders `fer.ui.compare.ModelComparison`: model A is the tab's model, model B the panel's; both see
the tab's photo, occluder, drawing and face. API:
  /compare  editor, model A, model B, occluder, placement, severity, seed, drawing fill, face ->
            A fused label, B fused label, A gallery, B gallery, head-by-head table, summary, details JSON
"""

from __future__ import annotations

import gradio as gr

from fer.face.numbering import face_file_tag
from fer.ui.callbacks import DemoActions, face_index, load_photo
from fer.ui.compare import TABLE_HEADERS, ModelComparison, ModelSide, compare_models
from fer.ui.files import image_file

INTRO = """Run a **second model (B)** on the same photo, occluder, drawing and face as the model above (A).
Each model cuts its own crop (its own recipe, size and colour); the table compares them head by head
(a one-head "whole-face" model shares only the fused decision with a four-head one)."""


def second_model(bank, labels: list[str], default_label: str) -> str:
    """The panel's first B: the first trained model that is not A (else any other, else A itself)."""
    others = [label for label in labels if label != default_label]
    trained = [label for label in others if bank.choice(label).trained]
    return (trained or others or [default_label])[0]


def gallery(side: ModelSide, key: str, tag: str) -> list[tuple[str, str]]:
    """Model `key`'s input crop and its maps (the gallery's label names the model; files: face1-modela-…)."""
    h, w = side.occluded.aligned.image.shape[:2]
    stem = f"{tag}-model{key.lower()}"
    items = [(image_file(side.crop, name=f"{stem}-input"), f"input {h}×{w}")]
    items += [(image_file(picture, name=f"{stem}-cam{k}"), caption) for k, (picture, caption) in enumerate(side.cams)]
    return items


def render(result: ModelComparison) -> tuple:
    """The panel's outputs for one comparison."""
    tag = face_file_tag(result.index)
    return (
        dict(result.a.occluded.probs),
        dict(result.b.occluded.probs),
        gallery(result.a, "A", tag),
        gallery(result.b, "B", tag),
        result.table(),
        result.summary(),
        result.to_dict(),
    )


class CompareActions:
    def __init__(self, actions: DemoActions) -> None:
        self.actions = actions
        self.bank = actions.bank

    def compare(self, editor_value, model_a, model_b, kind, placement, severity, seed, drawing_fill, face_choice,
                progress=gr.Progress()):
        photo = load_photo(editor_value)
        index = face_index(face_choice)  # a malformed face is refused before any model runs
        predictor_a, predictor_b = self.bank.get(model_a), self.bank.get(model_b)
        request = self.actions._request(editor_value, photo, kind, placement, severity, seed, drawing_fill)
        result = compare_models(photo, predictor_a, predictor_b, index, request, names=(model_a, model_b),
                                progress=progress)
        return render(result)


def build_compare_panel(actions: DemoActions, labels: list[str], default_label: str, inputs: list, user_errors) -> None:
    """The panel and its event (inside the Analyse tab). `inputs`: the tab's editor, model, occluder,
    placement, severity, seed, drawing fill and face components, in that order."""
    compare = CompareActions(actions)
    with gr.Accordion("Compare with a second model", open=False, elem_id="fer-compare"):
        gr.Markdown(INTRO)
        with gr.Row():
            model_b = gr.Dropdown(labels, value=second_model(actions.bank, labels, default_label),
                                  label="Second model (B)", elem_id="fer-compare-model", scale=3)
            run = gr.Button("Compare A and B", variant="primary", elem_id="fer-compare-run", scale=1)
        summary = gr.Markdown(elem_id="fer-compare-summary")
        table = gr.Dataframe(headers=list(TABLE_HEADERS), label="Head by head (with the occluder)", interactive=False,
                             elem_id="fer-compare-table")
        with gr.Row(equal_height=False):
            with gr.Column():
                label_a = gr.Label(num_top_classes=3, label="A: fused prediction", elem_id="fer-compare-label-a")
                cams_a = gr.Gallery(label="A: model input · Grad-CAM++ (fused, then each head)", columns=3,
                                    height="auto", object_fit="contain", elem_id="fer-compare-cams-a")
            with gr.Column():
                label_b = gr.Label(num_top_classes=3, label="B: fused prediction", elem_id="fer-compare-label-b")
                cams_b = gr.Gallery(label="B: model input · Grad-CAM++ (fused, then each head)", columns=3,
                                    height="auto", object_fit="contain", elem_id="fer-compare-cams-b")
        details = gr.JSON(visible=False, label="comparison")
    editor, model, *rest = inputs
    run.click(user_errors(compare.compare), [editor, model, model_b, *rest],
              [label_a, label_b, cams_a, cams_b, table, summary, details], api_name="compare")
