"""The demo's Blocks: an "Analyse a face" tab and a "Robustness" tab, every event with an api_name.

API endpoints (for `gradio_client`):
  /predict      image, model -> fused label (confidences), details JSON
  /analyse      editor, model, occluder, placement, severity, seed, drawing fill, face ->
                faces, original face, occluded face, face picker, clean label, fused label, votes plot,
                CAM gallery, summary
  /analyse_kept the same from the editor value this session last sent (the page's Analyse click when nothing
                was drawn since; fer.ui.editor)
  /model_info   model -> provenance (markdown)
  /placements   occluder -> placement choices
  /sweep        editor, model, face, seed -> plot, table, note
  /sensitivity  editor, model, face, patch, stride, fill -> gallery, note
  /live_frame   image file, model, occluder, severity -> annotated frame, fused label, details (head votes)
  /locality     editor, model, face -> cross-talk plot, note (chained after /analyse; also _upload, _example,
                _face; fer.ui.locality_panel)
  /compare      editor, model A, model B, occluder, placement, severity, seed, drawing fill, face ->
                A label, B label, A gallery, B gallery, head-by-head table, summary, details (fer.ui.compare_panel)
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from fer.ui.analysis import AS_DRAWN
from fer.ui.callbacks import DemoActions, user_errors
from fer.ui.compare_panel import build_compare_panel
from fer.ui.editor import REMEMBER_PHOTO_JS, ROUTE_CLICK_JS, PhotoEditor
from fer.ui.live import build_live_tab
from fer.ui.locality_panel import build_locality_panel
from fer.ui.models import ModelBank, ModelChoice
from fer.ui.occluders import NO_OCCLUDER, occluder_kinds, placement_choices
from fer.ui.synthfer_lab import build_lab_tab
from fer.ui.validate import CheckedNumber, CheckedSlider

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
DRAWING_FILLS = (AS_DRAWN, "black", "blur", "noise")

INTRO = """# alfj-fer · where does an expression model look, and what happens when part of the face is hidden?
Upload a photo (or use the webcam, paste one, or pick an example), choose an occluder — or **draw your own
with the brush** — and press **Analyse**. You get the fused prediction, the four region heads' votes laid out
as on the face (top-left, top-right, bottom-left, bottom-right) and Grad-CAM++ maps for the fused decision and
for each head."""

CSS = """
#fer-summary {font-size: 1.02rem}
#fer-cams .caption-label {font-size: 0.8rem}
footer {display: none !important}
"""


def theme() -> gr.themes.Base:
    """A calm theme with system fonts (no web-font download: the demo must work offline)."""
    system = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    return gr.themes.Soft(
        primary_hue="indigo", secondary_hue="pink", font=system, font_mono=["ui-monospace", "monospace"]
    )


def placement_update(kind: str | None):
    options = placement_choices(kind)
    return gr.Dropdown(choices=options, value=options[0] if options else None, visible=bool(options))


def example_files() -> list[str]:
    return [str(p) for p in sorted(EXAMPLES_DIR.glob("*.jpg"))]


def build_demo(choices: list[ModelChoice], default: ModelChoice, bank: ModelBank | None = None) -> gr.Blocks:
    bank = bank or ModelBank(choices)
    actions = DemoActions(bank)
    labels = [c.label for c in choices]
    kinds = occluder_kinds()
    # delete_cache: Gradio's copies of uploads and results older than an hour go, checked hourly
    with gr.Blocks(title="alfj-fer: occlusion-aware expression recognition", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Analyse a face", id="analyse"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=5):
                    editor = PhotoEditor(
                        label="Photo (paint on it to hide parts of the face)",
                        sources=("upload", "webcam", "clipboard"),
                        type="numpy",
                        format="png",
                        height=440,
                        transforms=(),
                        brush=gr.Brush(
                            colors=["#000000", "#7f7f7f", "#ffffff", "#c0392b"],
                            default_color="#000000",
                            color_mode="defaults",
                        ),
                        layers=gr.LayerOptions(allow_additional_layers=False),
                        elem_id="fer-editor",
                    )
                    examples = example_files()
                    gallery_of_examples = None
                    if examples:
                        gallery_of_examples = gr.Examples(
                            examples=[[p] for p in examples],
                            inputs=[editor],
                            label="Examples (NASA astronaut photo, public domain; some with occluders already drawn)",
                            examples_per_page=6,
                        )
                with gr.Column(scale=4):
                    model = gr.Dropdown(labels, value=default.label, label="Model", elem_id="fer-model")
                    provenance = gr.Markdown(elem_id="fer-provenance")
                    with gr.Group():
                        with gr.Row():
                            kind = gr.Dropdown(kinds, value=NO_OCCLUDER, label="Occluder", elem_id="fer-occluder")
                            placement = gr.Dropdown(
                                [],
                                value=None,
                                label="Placement",
                                visible=False,
                                allow_custom_value=True,
                                elem_id="fer-placement",
                            )
                        with gr.Row():
                            severity = CheckedSlider(0.0, 1.0, value=0.6, step=0.05, label="Severity")
                            seed = CheckedNumber(0, precision=0, label="Seed", minimum=0)
                        drawing_fill = gr.Radio(
                            list(DRAWING_FILLS), value=AS_DRAWN, label="Your brush strokes hide the face with"
                        )
                    face = gr.Dropdown(
                        ["face 1 (largest)"],
                        value="face 1 (largest)",
                        label="Face",
                        visible=False,
                        allow_custom_value=True,
                        elem_id="fer-face",
                    )
                    run = gr.Button("Analyse", variant="primary", elem_id="fer-run")
                    # pressed by the page for `run` (fer.ui.editor): with the editor's value / with the kept one
                    run_full = gr.Button("Analyse (editor)", visible="hidden", elem_id="fer-run-full")
                    run_kept = gr.Button("Analyse (kept photo)", visible="hidden", elem_id="fer-run-kept")
                    kept = gr.State(None)  # the editor value the server last received in this session
                    summary = gr.Markdown(elem_id="fer-summary")
            with gr.Row():
                faces_img = gr.Image(
                    label="Detected faces (selected: yellow)", interactive=False, height=320, elem_id="fer-faces"
                )
                original_img = gr.Image(label="Face — original", interactive=False, height=320, elem_id="fer-original")
                occluded_img = gr.Image(label="Face — occluded", interactive=False, height=320, elem_id="fer-occluded")
            with gr.Row():
                clean_label = gr.Label(num_top_classes=3, label="Without the occluder", elem_id="fer-clean-label")
                fused_label = gr.Label(
                    num_top_classes=3, label="Fused prediction (with the occluder)", elem_id="fer-fused-label"
                )
            with gr.Row(equal_height=False):
                votes = gr.Plot(label="Region heads' votes", elem_id="fer-votes", scale=1)
                cams = gr.Gallery(
                    label="Model input · Grad-CAM++ of the fused decision, then each head",
                    columns=3,
                    height="auto",
                    object_fit="contain",
                    elem_id="fer-cams",
                    scale=1,
                )
            locality = build_locality_panel()
            compare_inputs = [editor, model, kind, placement, severity, seed, drawing_fill, face]
            build_compare_panel(actions, labels, default.label, compare_inputs, user_errors)
        with gr.Tab("Robustness", id="robustness"):
            gr.Markdown(
                "Uses the photo, model, face and seed of the first tab. **Sweep** applies every occluder at several "
                "severities (and a block over each of the four regions) to the aligned face and plots the fused "
                "probability of the clean prediction's class. **Sensitivity map** slides a patch over the face."
            )
            with gr.Row():
                sweep_btn = gr.Button("Sweep every occluder", variant="primary", elem_id="fer-sweep")
            sweep_note = gr.Markdown(elem_id="fer-sweep-note")
            sweep_plot = gr.Plot(label="Sweep", elem_id="fer-sweep-plot")
            sweep_table = gr.Dataframe(
                headers=["occluder", "severity", "prediction", "P(clean class)", "flipped", "head agreement"],
                label="Every condition",
                interactive=False,
                max_height=320,
            )
            with gr.Row():
                patch = CheckedSlider(0.05, 0.5, value=0.2, step=0.05, label="Patch size (fraction of the face crop)")
                stride = CheckedSlider(0.02, 0.25, value=0.1, step=0.01, label="Stride (fraction of the face crop)")
                fill = gr.Dropdown(["gray", "black", "mean", "blur", "noise"], value="gray", label="Patch fill")
            sens_btn = gr.Button("Occlusion-sensitivity map", variant="primary", elem_id="fer-sensitivity")
            sens_note = gr.Markdown()
            sens_gallery = gr.Gallery(
                label="Probability drop: fused decision, then each head", columns=5, height="auto", elem_id="fer-sens"
            )
        build_lab_tab(user_errors)

        build_live_tab(bank, labels, default.label, kinds, user_errors)

        # API-only endpoint: an image file in, the fused label out. A file (not gr.Image) so that the
        # bytes reach fer.io untouched: every bad upload gets fer.io's own message, not Gradio's.
        with gr.Row(visible=False):
            api_image = gr.File(type="filepath", label="image")
            api_label = gr.Label(label="fused prediction")
            api_details = gr.JSON(label="details")
            api_button = gr.Button("predict")

        analyse_inputs = [editor, model, kind, placement, severity, seed, drawing_fill, face]
        analyse_outputs = [faces_img, original_img, occluded_img, face, clean_label, fused_label, votes, cams, summary]
        keeping = analyse_outputs + [kept]  # the events that send the editor keep its value for the next click
        run.click(None, js=ROUTE_CLICK_JS, api_visibility="private")
        analysed = {"locality": run_full.click(user_errors(actions.analyse_and_keep), analyse_inputs, keeping,
                                               api_name="analyse")}
        analysed["locality_upload"] = editor.upload(user_errors(actions.analyse_new_photo_and_keep), analyse_inputs,
                                                    keeping, api_name="analyse_upload")
        if gallery_of_examples is not None:  # an example click analyses it at once
            analysed["locality_example"] = gallery_of_examples.load_input_event.then(
                user_errors(actions.analyse_new_photo_and_keep), analyse_inputs, keeping, api_name="analyse_example"
            )
        analysed["locality_face"] = face.input(user_errors(actions.analyse_and_keep), analyse_inputs, keeping,
                                               api_name="analyse_face")
        for event in analysed.values():  # the page notes which photo the server now keeps
            event.success(None, js=REMEMBER_PHOTO_JS, api_visibility="private")
        analysed["locality_kept"] = run_kept.click(user_errors(actions.analyse_kept), [kept, *analyse_inputs[1:]],
                                                   analyse_outputs, api_name="analyse_kept")
        locality.follow(actions, analysed, [kept, model, face], user_errors)  # the heatmap after each analysis
        api_button.click(user_errors(actions.predict), [api_image, model], [api_label, api_details], api_name="predict")
        model.change(user_errors(actions.model_info), model, provenance, api_name="model_info")
        kind.change(placement_update, kind, placement, api_name="placements", queue=False)
        sweep_btn.click(
            user_errors(actions.sweep),
            [editor, model, face, seed],
            [sweep_plot, sweep_table, sweep_note],
            api_name="sweep",
        )
        sens_btn.click(
            user_errors(actions.sensitivity),
            [editor, model, face, patch, stride, fill],
            [sens_gallery, sens_note],
            api_name="sensitivity",
        )
        demo.load(user_errors(actions.model_info), model, provenance, api_name="model_info_on_load")
    return demo
