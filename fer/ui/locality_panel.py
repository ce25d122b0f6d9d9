"""The Analyse tab's locality panel: the current face's 4×4 cross-talk as a small heatmap and one sentence.

It runs as an event chained after each successful analysis (button, upload, example, face picker),
so the analysis's own results appear as fast as before and the heatmap follows. The work is the
library's: the clean face is cut with the model's own recipe (`Predictor.align`) and measured by
`fer.robustness.locality.crosstalk` (one pass of five images: the face and its four regions hidden
with grey; no Grad-CAM). The result depends only on the photo, the model and the face, not on the
occluder, so the last few are kept (`RECENT`): analysing the same photo again with another occluder
shows the heatmap at once. API:
  /locality (and /locality_upload, /locality_example, /locality_face)
            editor, model, face -> cross-talk plot, one-sentence note
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import gradio as gr

from fer.ui.callbacks import DemoActions, load_photo
from fer.ui.recent import Recent, photo_key

if TYPE_CHECKING:  # fer.robustness (and torch) come with the first analysis, not with the page
    from fer.robustness.locality import LocalityResult

LABEL = "Is each head local? Cross-talk on this face (without the occluder)"
RECENT = 8  # (photo, model, face) results kept


def face_crosstalk(predictor, photo, face_choice) -> tuple[str, LocalityResult]:
    """(which face, its cross-talk) of the picked face of `photo`, clean, as the model sees it."""
    from fer.robustness.locality import crosstalk

    which, aligned = DemoActions._aligned(photo, predictor, face_choice)
    return which, crosstalk(predictor.model, aligned.image[None], cam_limit=0)


def note_for(result: LocalityResult, trained: bool = True) -> str:
    """The panel's sentence (with a warning in front for an untrained model)."""
    from fer.robustness.locality_figure import describe

    text = describe(result.to_dict())
    return text if trained else "⚠️ Untrained model: its cross-talk shows the method only. " + text


@dataclass
class LocalityPanel:
    plot: gr.Plot
    note: gr.Markdown

    def follow(self, actions: DemoActions, events: dict, inputs: list, user_errors) -> None:
        """Chain the panel after each analyse event (`events`: api name -> event, e.g. {"locality": click});
        `inputs`: the tab's editor, model and face components."""

        recent = Recent(RECENT)  # panel outputs by (photo, model label, face choice)

        def run(editor_value, model_label, face_choice):
            photo = load_photo(editor_value)
            key = photo_key(photo, model_label, face_choice)
            done = recent.get(key)
            if done is None:
                predictor = actions.bank.get(model_label)
                which, result = face_crosstalk(predictor, photo, face_choice)
                done = (result.to_dict(), f"Cross-talk, {which} ({predictor.model.config.name})",
                        note_for(result, actions.bank.choice(model_label).trained))
                recent.put(key, done)
            doc, title, note = done
            from fer.robustness.locality_figure import crosstalk_figure

            return crosstalk_figure(doc, title, height=280), note

        run.__name__ = "locality"
        for api_name, event in events.items():
            event.success(user_errors(run), inputs, [self.plot, self.note], api_name=api_name, show_progress="minimal")


def build_locality_panel() -> LocalityPanel:
    """The panel's components (call inside the Analyse tab), then `.follow(...)` once the events exist."""
    with gr.Row(equal_height=False):
        plot = gr.Plot(label=LABEL, elem_id="fer-locality", scale=3)
        note = gr.Markdown(elem_id="fer-locality-note")
    return LocalityPanel(plot, note)
