"""The demo's event handlers: Gradio values in, component values out, errors as `gr.Error`.

Every handler is wrapped by `user_errors`: a `FERError` reaches the user as its plain message; any
other exception is logged here with its traceback and the user sees a short generic message
(never a stack trace).
"""

from __future__ import annotations

import functools
import logging

import gradio as gr
import numpy as np

from fer.errors import FERError, InputError
from fer.face.numbering import face_file_tag, face_label
from fer.regions import head_names
from fer.ui import validate
from fer.ui.analysis import AS_DRAWN, NO_OCCLUDER, OcclusionRequest, analyse, draw_faces, face_zoom
from fer.ui.figures import votes_figure
from fer.ui.files import image_file
from fer.ui.images import draw_region_grid, heat_overlay, mask_from_layers
from fer.ui.memory import release_memory
from fer.ui.models import ModelBank, provenance_markdown
from fer.ui.occluders import placement_params
from fer.ui.summary import occlusion_summary

log = logging.getLogger("fer.ui")

GENERIC_ERROR = ("Something went wrong while processing this request. The details were logged on the server; "
                 "please try another image or setting.")


def user_errors(fn):
    """Turn exceptions into `gr.Error` messages a person can read (no stack traces)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except FERError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except MemoryError:
            log.exception("out of memory in %s", fn.__name__)
            raise gr.Error(
                "The server ran out of memory on this request; try a smaller image.", print_exception=False
            ) from None
        except Exception:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(GENERIC_ERROR, print_exception=False) from None
        finally:
            release_memory()

    return wrapper


def load_photo(value) -> np.ndarray:
    """The photo from an image or image-editor value, decoded/validated by `fer.io`."""
    from fer.io import load_image

    value = validate.editor_value(value)
    if isinstance(value, dict):
        value = value.get("background")
    if value is None:
        raise InputError("Please upload a photo first (or use the webcam, paste one, or click an example).")
    return load_image(value)


def face_index(choice) -> int:
    """The picker's 'face 2 …' -> 1 (0-based for code); None -> 0, the largest; malformed -> `InputError`."""
    return validate.face_number(choice) - 1


def face_choices(n: int) -> list[str]:
    return [face_label(i) + (" (largest)" if i == 0 else "") for i in range(n)]


def label_dict(probs: np.ndarray, class_names) -> dict[str, float]:
    return {name: float(p) for name, p in zip(class_names, probs)}


class DemoActions:
    """Handlers bound to one `ModelBank`."""

    def __init__(self, bank: ModelBank) -> None:
        self.bank = bank

    # --- model picker -------------------------------------------------------------------
    def model_info(self, model_label: str) -> str:
        choice = self.bank.choice(model_label)
        try:
            predictor = self.bank.get(model_label)
        except FERError as exc:
            return provenance_markdown(choice) + f"\n\n**Cannot load this model:** {exc}"
        return provenance_markdown(choice, predictor)

    # --- main tab -----------------------------------------------------------------------
    def _request(self, editor_value, photo, kind, placement, severity, seed, drawing_fill) -> OcclusionRequest:
        params = placement_params(kind, placement)
        user_mask = None
        if isinstance(editor_value, dict):
            user_mask = mask_from_layers(editor_value.get("layers"), photo.shape[:2])
        request = OcclusionRequest(
            kind or NO_OCCLUDER, validate.severity(severity), validate.seed(seed), params, user_mask
        )
        request.user_fill = drawing_fill or AS_DRAWN
        if user_mask is not None and request.user_fill == AS_DRAWN and isinstance(editor_value, dict):
            composite = editor_value.get("composite")
            if composite is not None:
                from fer.io import load_image

                request.drawn_image = load_image(composite)
        return request

    def analyse(self, editor_value, model_label, kind, placement, severity, seed, drawing_fill, face_choice,
                   progress=gr.Progress()):
        photo = load_photo(editor_value)
        predictor = self.bank.get(model_label)
        request = self._request(editor_value, photo, kind, placement, severity, seed, drawing_fill)
        result = analyse(photo, predictor, face_index(face_choice), request, progress=progress)
        names = result.class_names
        choices = face_choices(len(result.faces))
        picker = gr.Dropdown(choices=choices, value=choices[result.index], visible=len(choices) > 1)
        votes = votes_figure(
            result.occluded_head_probs,
            names,
            clean_head_probs=result.clean_head_probs if request.active else None,
            title="Region votes" + (" with the occluder" if request.active else ""),
            fused_probs=result.fused,
        )
        gallery = [(image_file(result.occluded_crop), "model input")]
        gallery += [(image_file(picture), caption) for picture, caption in result.cams]
        summary = occlusion_summary(
            result.clean_head_probs,
            result.occluded_head_probs,
            names,
            request.describe() or None,
            result.clean_fused,
            result.fused,
        )
        if len(result.faces) > 1:
            summary += f"\n\n{len(result.faces)} faces found; showing {face_label(result.index)} (pick another above)."
        choice = self.bank.choice(model_label)
        if not choice.trained:
            summary = "⚠️ **This model is untrained: the numbers below are meaningless.**\n\n" + summary
        face, tag = result.faces[result.index], face_file_tag(result.index)
        return (
            image_file(draw_faces(photo, result.faces, result.index), name="faces"),
            image_file(face_zoom(photo, face), name=f"{tag}-original"),
            image_file(face_zoom(result.occluded_photo, face), name=f"{tag}-occluded"),
            picker,
            label_dict(result.clean_fused, names),
            label_dict(result.fused, names),
            votes,
            gallery,
            summary,
        )

    def analyse_new_photo(self, editor_value, model_label, kind, placement, severity, seed, drawing_fill, face_choice,
                             progress=gr.Progress()):
        """A new photo: start again from its largest face."""
        return self.analyse(editor_value, model_label, kind, placement, severity, seed, drawing_fill, None, progress)

    # --- the same, keeping the editor value for the next click (fer.ui.editor) ----------------
    # No gr.Progress here: in Gradio 6.31 every status message of any event makes the page ask each component
    # that is an event input (the editor too) for its value, and the editor answers by exporting its canvases.
    # An analysis takes a few tenths of a second; its five progress steps cost more than they show.
    def analyse_and_keep(self, editor_value, model_label, kind, placement, severity, seed, drawing_fill, face_choice,
                         progress=None):
        request = (kind, placement, severity, seed, drawing_fill, face_choice)
        return (*self.analyse(editor_value, model_label, *request, progress), editor_value)

    def analyse_new_photo_and_keep(self, editor_value, model_label, kind, placement, severity, seed, drawing_fill,
                                   face_choice, progress=None):
        request = (kind, placement, severity, seed, drawing_fill, face_choice)
        return (*self.analyse_new_photo(editor_value, model_label, *request, progress), editor_value)

    def analyse_kept(self, kept_value, model_label, kind, placement, severity, seed, drawing_fill, face_choice,
                     progress=None):
        """The Analyse click when the page shows the photo the server kept, with nothing drawn on it since."""
        if kept_value is None:
            raise InputError("The photo has not reached the server yet; please press Analyse again in a moment.")
        request = (kind, placement, severity, seed, drawing_fill, face_choice)
        return self.analyse(kept_value, model_label, *request, progress)

    def predict(self, image, model_label):
        """API: one photo -> fused label of its largest face, and that face's `FacePrediction.to_dict()`."""
        from fer.ui.analysis import detect_faces

        photo = load_photo(image)
        predictor = self.bank.get(model_label)
        faces = detect_faces(photo, predictor.detector)
        prediction = predictor.predict_face(photo, faces[0])
        details = {"model_label": model_label, "faces": len(faces), **prediction.to_dict()}
        return dict(prediction.probs), details

    # --- robustness tab -----------------------------------------------------------------
    @staticmethod
    def _aligned(photo, predictor, face_choice):
        """(face label, aligned face) of the picked face; out of range -> `InputError` (fer.face.numbering)."""
        from fer.face.numbering import pick_face
        from fer.ui.analysis import detect_faces

        faces = detect_faces(photo, predictor.detector)
        index, face = pick_face(faces, face_index(face_choice) + 1, "Face")
        which = f"{face_label(index)} of {len(faces)}" if len(faces) > 1 else face_label(index)
        return which, predictor.align(photo, face)

    def sweep(self, editor_value, model_label, face_choice, seed, progress=gr.Progress()):
        from fer.robustness import sweep_face

        photo = load_photo(editor_value)
        predictor = self.bank.get(model_label)
        progress(0.1, desc="finding the face")
        which, aligned = self._aligned(photo, predictor, face_choice)
        progress(0.3, desc="sweeping every occluder")
        rows, figure = sweep_face(predictor, aligned, seed=validate.seed(seed), photo=photo)
        clean = next(r for r in rows if r["occluder"] == "clean")
        table = [
            [
                r["occluder"],
                r["severity"],
                r["prediction"],
                round(r["clean_class_prob"], 3),
                bool(r["flipped"]),
                round(r["head_agreement"], 2),
            ]
            for r in rows
        ]
        flips = sum(bool(r["flipped"]) for r in rows)
        worst = min(rows, key=lambda r: r["clean_class_prob"])
        note = (
            f"{which.capitalize()} · clean prediction: **{clean['prediction']}** ({clean['confidence']:.0%}). "
            f"{flips} of {len(rows) - 1} occlusion conditions flip the fused decision; the hardest is "
            f"**{worst['occluder']}** at severity {worst['severity']:g} "
            f"(P({clean['prediction']}) = {worst['clean_class_prob']:.0%})."
        )
        figure.update_layout(template="plotly_white", margin={"l": 10, "r": 10, "t": 60, "b": 10})
        return figure, table, note

    def sensitivity(self, editor_value, model_label, face_choice, patch, stride, fill, progress=gr.Progress()):
        from fer.robustness import sensitivity_map
        from fer.robustness.sensitivity import FILLS
        from fer.ui.analysis import to_display

        photo = load_photo(editor_value)
        predictor = self.bank.get(model_label)
        progress(0.1, desc="finding the face")
        which, aligned = self._aligned(photo, predictor, face_choice)
        progress(0.3, desc="sliding the patch over the face")
        size = aligned.image.shape[0]
        patch_px, stride_px, coarsened = validate.sensitivity_grid(size, patch, stride)
        fill = validate.choice(fill, FILLS, "Patch fill", default="gray")
        smap = sensitivity_map(predictor.model, aligned.image, patch=patch_px, stride=stride_px, fill=fill)
        crop = to_display(aligned.image)
        heads = len(smap.heads)
        regions = head_names(heads)
        items = [(image_file(heat_overlay(crop, smap.fused)), f"fused · max drop {max(smap.fused.max(), 0):.0%}")]
        for k, heat in enumerate(smap.heads):
            picture = draw_region_grid(heat_overlay(crop, heat), k if heads == 4 else None)
            items.append((image_file(picture), f"{regions[k]} · max drop {max(heat.max(), 0):.0%}"))
        note = (
            f"{which.capitalize()}: where hiding a {patch_px}px patch ({fill}) over the aligned face lowers "
            f"P({smap.class_name}), "
            f"the clean prediction: red = the largest drop of that map (its value is in the caption), blue = none. "
            f"{len(smap.positions)} patch positions.{coarsened}"
        )
        return items, note
