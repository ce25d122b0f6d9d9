"""The demo's parameters as untrusted input: every endpoint checks its values here before any work.

An API client can send anything (a string for a slider, null, a list, NaN); each check returns the
value in the type the library expects, or raises `InputError` naming the parameter (the callbacks'
`user_errors` turns it into a readable `gr.Error`). `sensitivity_grid` bounds the most expensive legal
setting: a patch/stride whose grid would need more than `MAX_SENSITIVITY_POSITIONS` forward passes is
coarsened, and the note says so.
"""

from __future__ import annotations

import math
from typing import Any

import gradio as gr
from gradio.components.image_editor import EditorData

from fer.errors import InputError

MAX_SEED = 2**31 - 1
MAX_SENSITIVITY_POSITIONS = 576  # a 24 x 24 grid: a few seconds for the reference models on 2 CPU cores


def number(value: Any, name: str, lo: float, hi: float) -> float:
    """A finite number within [lo, hi] (numeric strings from API clients are accepted)."""
    if hi >= 1e300:
        return _at_least(value, name, lo)
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict, tuple)):
        raise InputError(f"{name} must be a number between {lo:g} and {hi:g}, not {_show(value)}.")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number between {lo:g} and {hi:g}, not {_show(value)}.") from None
    if not math.isfinite(v) or not lo <= v <= hi:
        raise InputError(f"{name} must be a number between {lo:g} and {hi:g}, not {_show(value)}.")
    return v


def _at_least(value: Any, name: str, lo: float) -> float:
    try:
        v = float(value) if not isinstance(value, (bool, list, dict, tuple)) and value is not None else math.nan
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v) or v < lo:
        raise InputError(f"{name} must be a finite number of at least {lo:g}, not {_show(value)}.")
    return v


def seed(value: Any) -> int:
    """A random seed: empty means 0; otherwise a whole number in 0 .. 2**31 - 1."""
    if value is None or value == "":
        return 0
    v = number(value, "Seed", 0, MAX_SEED)
    if v != int(v):
        raise InputError(f"Seed must be a whole number, not {_show(value)}.")
    return int(v)


def severity(value: Any) -> float:
    return number(value, "Severity", 0.0, 1.0)


def choice(value: Any, options, name: str, default: str | None = None) -> str:
    """One of `options` (None -> `default` when given)."""
    if value is None and default is not None:
        return default
    if not isinstance(value, str) or value not in options:
        shown = ", ".join(map(str, list(options)[:12]))
        raise InputError(f"{name} must be one of: {shown}; not {_show(value)}.")
    return value


def face_number(value: Any) -> int:
    """The face picker's value ('face 2', 2, '2 (largest)'...) -> its number from 1; empty means 1, the largest.

    The rule is `fer.face.numbering`'s: a malformed value is an `InputError`; whether the number is in
    range is checked once the faces are found (`pick_face`).
    """
    from fer.face.numbering import parse_face_number

    if value is None or (isinstance(value, str) and not value.strip()):
        return 1
    return parse_face_number(value, "Face")


def editor_value(value: Any) -> Any:
    """The photo editor's value: a dict with a background (or an image / file path for the API)."""
    if value is None:
        return None
    if isinstance(value, dict):
        layers = value.get("layers")
        if layers is not None and not isinstance(layers, (list, tuple)):
            raise InputError(f"The editor's layers must be a list of images, not {_show(layers)}.")
        return value
    if isinstance(value, (str, bytes)) or hasattr(value, "shape") or hasattr(value, "read"):
        return value
    raise InputError(f"The photo must be an image or an image-editor value, not {_show(value)}.")


def sensitivity_grid(size: int, patch: Any, stride: Any) -> tuple[int, int, str]:
    """(patch px, stride px, note) for a crop of `size` px; patch/stride are fractions of the crop side."""
    patch_px = max(2, round(number(patch, "Patch size", 0.01, 1.0) * size))
    stride_px = max(1, round(number(stride, "Stride", 0.01, 1.0) * size))
    patch_px = min(patch_px, size)
    side = max(1, size - patch_px) // stride_px + 1
    note = ""
    if side * side > MAX_SENSITIVITY_POSITIONS:
        wanted = stride_px
        max_side = int(math.isqrt(MAX_SENSITIVITY_POSITIONS))
        stride_px = max(stride_px, math.ceil(max(1, size - patch_px) / max(1, max_side - 1)))
        note = (f" The stride was coarsened from {wanted}px to {stride_px}px so the map needs at most "
                f"{MAX_SENSITIVITY_POSITIONS} patch positions and answers in seconds.")
    return patch_px, stride_px, note


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ----------------------------------------------------------------------------- checked components
# Gradio converts an input with the component's own `preprocess` before any callback runs; a wrong
# type there is a TypeError and the user gets Gradio's generic error. These components check first.


def _as_gr_error(check, *args):
    try:
        return check(*args)
    except InputError as exc:
        raise gr.Error(str(exc), print_exception=False) from None


class CheckedSlider(gr.Slider):
    """A slider whose value from an API client is checked (type, finite, range) with a readable message."""

    is_template = True

    def preprocess(self, payload):
        _as_gr_error(number, payload, self.label or "The value", self.minimum, self.maximum)
        return super().preprocess(float(payload))


class CheckedNumber(gr.Number):
    """A number field checked like `CheckedSlider` (empty is allowed: the callback gives the default)."""

    is_template = True

    def preprocess(self, payload):
        if payload is None or payload == "":
            return None
        lo = -math.inf if self.minimum is None else self.minimum
        hi = math.inf if self.maximum is None else self.maximum
        v = _as_gr_error(number, payload, self.label or "The value", max(lo, -1e300), hi)
        return super().preprocess(v)


class CheckedEditorData(EditorData):
    """The photo editor's payload: an object with background / layers / composite, else a readable error."""

    @classmethod
    def model_validate(cls, value, *args, **kwargs):  # Gradio validates the payload with this, before preprocess
        if not isinstance(value, dict):
            raise gr.Error(
                f"The photo must be an image-editor value (background, layers, composite), not {_show(value)}.",
                print_exception=False,
            )
        layers = value.get("layers")
        if layers is not None and not isinstance(layers, list):
            raise gr.Error(f"The editor's layers must be a list of images, not {_show(layers)}.", print_exception=False)
        return super().model_validate(value, *args, **kwargs)
