"""The demo's "SynthFER lab": synthetic faces of a known class, occluded, shown to the SynthFER-trained models.

A user picks a class and a seed; the lab draws SynthFER test face number `7 * seed + class` (a face
none of the models was trained on), hides part of it with one of the project's occluders, and
shows the fused decision and each region head's vote of a `*_synthfer` model against the known
label. Everything here is synthetic and labelled so: the models were trained on SynthFER cartoon
faces only and say nothing about real faces.
"""

from __future__ import annotations

import functools
import threading

import gradio as gr
import numpy as np

from fer.errors import InputError
from fer.ui.occluders import NO_OCCLUDER, occluder_kinds
from fer.ui.validate import CheckedNumber, CheckedSlider

LAB_SIZE = 64  # the SynthFER checkpoints' input size
DISPLAY_SIZE = 256
MAX_SEED = 10_000
SYNTHETIC_BANNER = (
    "**Synthetic faces only.** These faces are drawn by SynthFER (the project's cartoon-face generator), "
    "and the models here were trained on SynthFER alone: what they do says nothing about real faces. "
    "SynthFER puts happiness's cue only in the lower half of the face and anger's only in the upper half."
)
_LOCK = threading.Lock()


def lab_models() -> list[str]:
    from fer.models.synthfer import SYNTHFER_MODELS

    return list(SYNTHFER_MODELS)


@functools.lru_cache(maxsize=4)
def _model(name: str):
    from fer.models import create_model

    return create_model(name)


def lab_model(name: str | None):
    if name not in lab_models():
        raise InputError(f"unknown SynthFER lab model {name!r}; pick one of: {', '.join(lab_models())}")
    with _LOCK:
        return _model(name)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or seed is None:
        raise InputError("the seed must be a whole number")
    try:
        value = float(seed)
    except (TypeError, ValueError):
        raise InputError(f"the seed must be a whole number, got {seed!r}") from None
    if not np.isfinite(value) or value != int(value) or not 0 <= value <= MAX_SEED:
        raise InputError(f"the seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    return int(value)


def synthetic_face(class_name: str, seed) -> tuple[np.ndarray, int, np.ndarray]:
    """(image uint8 64x64x3, label index, 5 landmarks) of SynthFER test face 7 * seed + class."""
    from fer.data.synthetic import SynthFER
    from fer.labels import CANONICAL_7

    if class_name not in CANONICAL_7:
        raise InputError(f"unknown class {class_name!r}; pick one of: {', '.join(CANONICAL_7)}")
    label = CANONICAL_7.index(class_name)
    sample = SynthFER(LAB_SIZE, seed=0).sample("test", 7 * _check_seed(seed) + label)
    assert sample.label == label
    return sample.image, label, sample.landmarks


def occlude(image: np.ndarray, landmarks: np.ndarray, kind: str | None, severity) -> np.ndarray:
    """The face with occluder `kind` drawn from its own landmarks (the face itself for "none")."""
    if not kind or kind == NO_OCCLUDER:
        return image
    if kind not in occluder_kinds():
        raise InputError(f"unknown occluder {kind!r}; pick one of: {', '.join(occluder_kinds())}")
    try:
        sev = float(severity)
    except (TypeError, ValueError):
        raise InputError(f"severity must be a number from 0 to 1, got {severity!r}") from None
    if not np.isfinite(sev) or not 0.0 <= sev <= 1.0:
        raise InputError(f"severity must be a number from 0 to 1, got {severity!r}")
    from fer.face.types import Face
    from fer.occlusion import apply

    s = image.shape[0]
    face = Face(box=np.array([0, 0, s, s], np.float32), score=1.0, landmarks=landmarks.astype(np.float32))
    return apply(image, face, kind, severity=sev, seed=0).image


def _verdict(names, probs: np.ndarray, label: int) -> str:
    top = int(probs.argmax())
    mark = "✓ right" if top == label else "✗ wrong"
    return f"{names[top]} {probs[top]:.0%} ({mark})"


def run_lab(model_name: str, class_name: str, seed, kind: str | None, severity):
    """(face shown, fused label dict, votes figure, markdown) for one lab run."""
    from fer.regions import head_names
    from fer.robustness.inference import probs_of_crops
    from fer.ui.figures import votes_figure

    image, label, landmarks = synthetic_face(class_name, seed)
    shown = occlude(image, landmarks, kind, severity)
    model = lab_model(model_name)
    names = tuple(model.config.class_names)
    fused, heads = probs_of_crops(model, np.stack([image, shown]))
    occluded = bool(kind and kind != NO_OCCLUDER)
    lines = [
        f"Synthetic SynthFER face, true class **{names[label]}** (test face {7 * _check_seed(seed) + label}); "
        f"model `{model_name}` ({model.config.provenance.split(':')[0]}).",
        f"- Fused decision{' with the occluder' if occluded else ''}: **{_verdict(names, fused[1], label)}**",
    ]
    if occluded:
        lines.append(f"- Fused decision without it: {_verdict(names, fused[0], label)}")
    if heads.shape[1] > 1:
        regions = head_names(heads.shape[1])
        votes = ", ".join(f"{r}: {_verdict(names, heads[1, k], label)}" for k, r in enumerate(regions))
        lines.append(f"- Region heads: {votes}")
    figure = votes_figure(heads[1], names, clean_head_probs=heads[0] if occluded else None,
                          title="Region votes (synthetic face)")
    big = np.kron(shown, np.ones((DISPLAY_SIZE // LAB_SIZE, DISPLAY_SIZE // LAB_SIZE, 1), np.uint8))
    return big, {n: float(p) for n, p in zip(names, fused[1])}, figure, "\n".join(lines)


def build_lab_tab(user_errors) -> None:
    """The "SynthFER lab" tab; call inside the demo's `gr.Blocks`."""
    from fer.labels import CANONICAL_7

    models = lab_models()
    with gr.Tab("SynthFER lab", id="synthfer-lab"):
        gr.Markdown(SYNTHETIC_BANNER)
        with gr.Row(equal_height=False):
            with gr.Column(scale=4):
                model = gr.Dropdown(models, value=models[-1], label="Model (trained on synthetic SynthFER faces only)",
                                    elem_id="fer-lab-model")
                with gr.Row():
                    cls = gr.Dropdown(list(CANONICAL_7), value="happiness", label="Class", elem_id="fer-lab-class")
                    seed = CheckedNumber(
                        0, precision=0, minimum=0, maximum=MAX_SEED, label="Seed", elem_id="fer-lab-seed"
                    )
                with gr.Row():
                    kind = gr.Dropdown(
                        occluder_kinds(), value=NO_OCCLUDER, label="Occluder", elem_id="fer-lab-occluder"
                    )
                    severity = CheckedSlider(0.0, 1.0, value=0.6, step=0.05, label="Severity")
                go = gr.Button("Generate and classify", variant="primary", elem_id="fer-lab-run")
                summary = gr.Markdown(elem_id="fer-lab-summary")
            with gr.Column(scale=5):
                face = gr.Image(
                    label="Synthetic face (SynthFER)", interactive=False, height=280, elem_id="fer-lab-face"
                )
                fused = gr.Label(num_top_classes=3, label="Fused prediction (synthetic face)", elem_id="fer-lab-fused")
        votes = gr.Plot(label="Region heads' votes (synthetic face)", elem_id="fer-lab-votes")
        go.click(user_errors(run_lab), [model, cls, seed, kind, severity], [face, fused, votes, summary],
                 api_name="synthfer_lab")
