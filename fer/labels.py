"""The canonical expression classes, held in one place.

Every data set and every foreign model maps its own label order to this one explicitly.
The order follows FERPlus (neutral first); the 7-class problem is the first seven names,
the 8-class one adds contempt.
"""

from __future__ import annotations

CANONICAL_8: tuple[str, ...] = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
)
CANONICAL_7: tuple[str, ...] = CANONICAL_8[:7]


def class_names(num_classes: int = 7) -> tuple[str, ...]:
    """Canonical class names for a 7- or 8-class problem."""
    if num_classes == 7:
        return CANONICAL_7
    if num_classes == 8:
        return CANONICAL_8
    raise ValueError(f"num_classes must be 7 or 8 for canonical expression classes, got {num_classes}")


def index_map(source_names: list[str] | tuple[str, ...], target: tuple[str, ...] = CANONICAL_7) -> list[int]:
    """For each source class name, its index in `target` (names must match canonical spelling)."""
    missing = [n for n in source_names if n not in target]
    if missing:
        raise ValueError(f"class names not in the canonical set {target}: {missing}")
    return [target.index(n) for n in source_names]
