"""Each data set's own label order, mapped explicitly to the canonical order of `fer.labels`.

Canonical: neutral, happiness, surprise, sadness, anger, disgust, fear (, contempt).
"""

from __future__ import annotations

from fer.labels import CANONICAL_8

# RAF-DB basic, list_patition_label.txt: labels 1..7 (index 0 here = raw label 1)
RAFDB_RAW_ORDER: tuple[str, ...] = ("surprise", "fear", "disgust", "happiness", "sadness", "anger", "neutral")
# FERPlus fer2013new.csv / label.csv vote columns (after the name / box columns)
FERPLUS_VOTE_ORDER: tuple[str, ...] = CANONICAL_8 + ("unknown", "NF")
# MA-Net-style ImageFolder order (folders 0..6)
MANET_FOLDER_ORDER: tuple[str, ...] = ("neutral", "happiness", "sadness", "surprise", "fear", "disgust", "anger")
# orders a numbered folder / integer CSV label may follow (--class-order)
CLASS_ORDERS: dict[str, tuple[str, ...]] = {
    "canonical": CANONICAL_8,
    "ferplus": CANONICAL_8,
    "rafdb": RAFDB_RAW_ORDER,  # 0-based: raw RAF-DB label minus one (as RAN's lists and most code use)
    "manet": MANET_FOLDER_ORDER,
}

# spellings of class names found in folder-per-class data sets (FED-RO, AffectNet exports, ...)
SYNONYMS: dict[str, str] = {
    "neutral": "neutral", "neutrality": "neutral", "calm": "neutral",
    "happiness": "happiness", "happy": "happiness", "happily": "happiness", "joy": "happiness", "smile": "happiness",
    "surprise": "surprise", "surprised": "surprise",
    "sadness": "sadness", "sad": "sadness",
    "anger": "anger", "angry": "anger",
    "disgust": "disgust", "disgusted": "disgust",
    "fear": "fear", "fearful": "fear", "afraid": "fear", "scared": "fear",
    "contempt": "contempt",
}


def canonical_name(name: str) -> str | None:
    """The canonical class for a spelled-out class name (case-insensitive), or None."""
    return SYNONYMS.get(name.strip().lower())


def order_to_canonical(order: str, num_classes: int = 7) -> list[int | None]:
    """For a numbered label scheme, index i -> canonical index (None when outside the class set)."""
    if order not in CLASS_ORDERS:
        raise ValueError(f"unknown class order {order!r}; choose one of {sorted(CLASS_ORDERS)}")
    names = CANONICAL_8[:num_classes]
    return [names.index(n) if n in names else None for n in CLASS_ORDERS[order]]
