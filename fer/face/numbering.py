"""How a person names a face: numbered from 1, largest first — one rule for the CLI, the demo and file names.

Code keeps 0-based indices; only what a person reads or types is numbered from 1. A number out of
range is an `InputError` that says how many faces there are, never a silent switch to another face.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from fer.errors import InputError

T = TypeVar("T")


def face_label(index: int) -> str:
    """0-based index -> 'face 1', 'face 2', ... (what every printout, picker and file name says)."""
    return f"face {index + 1}"


def face_file_tag(index: int) -> str:
    """0-based index -> 'face1', 'face2', ... for file names."""
    return f"face{index + 1}"


def parse_face_number(value, option: str = "face") -> int:
    """A face number as a person gave it (1, '2', 'face 3', 'face 3 (largest)') -> that number (from 1).

    Anything that is not a whole number ≥ 1 is an `InputError` naming `option`.
    """
    text = str(value).strip()
    if text.lower().startswith("face"):
        text = text[4:].strip().split()[0] if text[4:].strip() else ""
    if isinstance(value, bool) or not text.lstrip("+").isdigit():
        raise InputError(f"{option} {value!r}: give a face number, 1 for the largest face")
    number = int(text)
    if number < 1:
        raise InputError(f"{option} {number}: faces are numbered from 1 (1 = the largest face)")
    return number


def pick_face(faces: Sequence[T], number, option: str = "face") -> tuple[int, T]:
    """(0-based index, face) for face `number` (from 1, largest first); out of range -> `InputError`."""
    n = parse_face_number(number, option)
    if not faces:
        raise InputError("no face was found in this image")
    if n > len(faces):
        which = "1" if len(faces) == 1 else f"1–{len(faces)}"
        raise InputError(f"{option} {n}: the image has {len(faces)} face(s), numbered {which} (largest first)")
    return n - 1, faces[n - 1]
