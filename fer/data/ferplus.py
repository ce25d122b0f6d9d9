"""FERPlus: Microsoft's re-labelled FER2013 (10 annotators' votes per image).

Two layouts (``source``):

* ``folders`` (the official generation script's output): ``FER2013{Train,Valid,Test}/`` each
  with ``label.csv`` rows ``name, "(x, y, w, h)", 10 vote counts`` and the PNG images.
* ``csv``: ``fer2013new.csv`` (header; rows ``usage, image name, 10 votes``; an empty name
  marks a non-face) with pixels from the original ``fer2013.csv`` (48×48 grey, row for row;
  ``pixels=`` gives its path, default ``<root>/fer2013.csv``).

Vote columns: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown,
NF. Protocols (as Microsoft's FERPlus reference code processes the votes):

* ``majority`` (default): votes of 1 are dropped as outliers; an image is kept if one class
  holds more than half of the remaining votes and that class is not unknown / NF.
* ``plurality``: the class with the most raw votes; ties between the top classes and
  unknown / NF winners are dropped.
* ``soft``: the reference code's "probability" target (outliers dropped, then the top classes
  covering ≥ 75 % of the votes, at most 3, kept if they hold more than half), as a
  distribution over the classes; images whose top entry is unknown / NF are dropped.

With ``num_classes=7`` images labelled contempt are dropped (soft: contempt's share is removed
and the rest renormalised; dropped when nothing is left).
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from fer.data.base import LabeledSet, line_error, read_image
from fer.data.classmaps import FERPLUS_VOTE_ORDER
from fer.errors import DatasetError
from fer.labels import class_names

FOLDERS = {"train": "FER2013Train", "val": "FER2013Valid", "test": "FER2013Test"}
USAGE = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
PROTOCOLS = ("majority", "plurality", "soft")
N_VOTES = len(FERPLUS_VOTE_ORDER)  # 10
_EPS = sys.float_info.epsilon


# --------------------------------------------------------------------------- vote processing
def _official(raw: np.ndarray, mode: str) -> np.ndarray:
    """Microsoft FERPlus `_process_data` for one image: a distribution over the 10 columns."""
    votes = [float(v) if v >= 1.0 + _EPS else 0.0 for v in raw]  # drop single votes
    total = sum(votes)
    unknown = [0.0] * N_VOTES
    unknown[-2] = 1.0
    emotion = [0.0] * N_VOTES
    if mode == "majority":
        mx = max(votes)
        if mx > 0.5 * total:
            emotion[int(np.argmax(votes))] = mx
        else:
            emotion = unknown
    else:  # probability
        part, count, valid = 0.0, 0, True
        while part < 0.75 * total and count < 3 and valid:
            mx = max(votes)
            for i in range(N_VOTES):
                if votes[i] == mx:
                    emotion[i] = mx
                    votes[i] = 0
                    part += emotion[i]
                    count += 1
                    if i >= 8:  # unknown / NF ties with the top
                        valid = False
                        if sum(emotion) > mx:
                            emotion[i] = 0
                            count -= 1
                        break
        if sum(emotion) <= 0.5 * total or count > 3:
            emotion = unknown
    s = sum(emotion)
    return np.array([e / s for e in emotion], np.float64)


def apply_protocol(votes: np.ndarray, protocol: str = "majority", num_classes: int = 8):
    """votes (N, 10) → (kept indices, targets, Counter of drop reasons).

    targets: class indices (N_kept,) for majority/plurality, distributions (N_kept, C) for soft.
    """
    if protocol not in PROTOCOLS:
        raise DatasetError(f"FERPlus protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if num_classes not in (7, 8):
        raise DatasetError(f"FERPlus has 8 classes (or 7 without contempt), not {num_classes}")
    keep, targets, dropped = [], [], Counter()
    for n, v in enumerate(votes):
        if protocol == "plurality":
            top = np.flatnonzero(v == v.max())
            if v.max() <= 0:
                dropped["no votes"] += 1
                continue
            if len(top) > 1:
                dropped["tie between the top classes"] += 1
                continue
            label = int(top[0])
            if label >= 8:
                dropped[f"plurality is {FERPLUS_VOTE_ORDER[label]}"] += 1
                continue
            if num_classes == 7 and label == 7:
                dropped["contempt (7-class protocol)"] += 1
                continue
            keep.append(n)
            targets.append(label)
            continue
        dist = _official(v, "majority" if protocol == "majority" else "probability")
        label = int(np.argmax(dist))
        if label >= 8:
            if label == 9 or _is_unknown_winner(v):
                dropped[f"top vote is {FERPLUS_VOTE_ORDER[label]}"] += 1
            else:
                dropped["no majority" if protocol == "majority" else "no clear vote distribution"] += 1
            continue
        if protocol == "majority":
            if num_classes == 7 and label == 7:
                dropped["contempt (7-class protocol)"] += 1
                continue
            keep.append(n)
            targets.append(label)
        else:
            d = dist[:num_classes]
            if d.sum() <= 0:
                dropped["contempt (7-class protocol)"] += 1
                continue
            keep.append(n)
            targets.append(d / d.sum())
    if protocol == "soft":
        t = np.array(targets, np.float32).reshape(-1, num_classes)
    else:
        t = np.array(targets, np.int64)
    return np.array(keep, np.int64), t, dropped


def _is_unknown_winner(v: np.ndarray) -> bool:
    """True when unknown or NF really holds the top (after dropping single votes)."""
    w = np.where(v >= 1.0 + _EPS, v, 0.0)
    return w.max() > 0 and int(np.argmax(w)) >= 8 and w.max() > 0.5 * w.sum()


# --------------------------------------------------------------------------------- readers
def _parse_votes(cells: list[str], path: Path, n: int) -> np.ndarray:
    if len(cells) != N_VOTES:
        raise line_error(path, n, f"expected {N_VOTES} vote counts, got {len(cells)}")
    try:
        v = np.array([float(c) for c in cells], np.float64)
    except ValueError:
        raise line_error(path, n, f"vote counts must be numbers, got {cells}") from None
    if (v < 0).any():
        raise line_error(path, n, "negative vote count")
    return v


def read_label_csv(path: Path) -> tuple[list[str], np.ndarray]:
    """Names and votes (N, 10) of one official-layout label.csv (no header)."""
    if not path.is_file():
        raise DatasetError(f"FERPlus label file missing: {path}")
    names, votes = [], []
    with open(path, newline="", errors="replace") as f:
        for n, row in enumerate(csv.reader(f), 1):
            if not row or not "".join(row).strip():
                continue
            if n == 1 and row[0].strip().lower() in ("image name", "image", "name", "filename"):
                continue  # tolerate a header line
            if len(row) != 2 + N_VOTES:
                raise line_error(path, n, f"expected 12 columns (name, face box, 10 votes), got {len(row)}")
            if not row[0].strip():
                raise line_error(path, n, "empty image name")
            names.append(row[0].strip())
            votes.append(_parse_votes(row[2:], path, n))
    return names, np.array(votes, np.float64).reshape(-1, N_VOTES)


def read_fer2013new(path: Path) -> tuple[list[tuple[int, str, str]], np.ndarray]:
    """[(row index, split, name)] and votes (N, 10) of fer2013new.csv; row index counts data rows from 0."""
    if not path.is_file():
        raise DatasetError(f"FERPlus vote file missing: {path}")
    rows, votes = [], []
    with open(path, newline="", errors="replace") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header or header[0].strip().lower() != "usage":
            raise line_error(path, 1, "expected the header 'Usage,Image name,neutral,...'")
        for k, row in enumerate(reader):
            n = k + 2
            if len(row) != 2 + N_VOTES:
                raise line_error(path, n, f"expected 12 columns (usage, image name, 10 votes), got {len(row)}")
            usage = row[0].strip()
            if usage not in USAGE:
                raise line_error(path, n, f"usage {usage!r} is not Training, PublicTest or PrivateTest")
            rows.append((k, USAGE[usage], row[1].strip()))
            votes.append(_parse_votes(row[2:], path, n))
    return rows, np.array(votes, np.float64).reshape(-1, N_VOTES)


class _Fer2013Pixels:
    """Row-indexed 48×48 grey images of fer2013.csv, parsed on first use."""

    def __init__(self, path: Path, expected_rows: list[tuple[int, str]]) -> None:
        self.path = path
        self.expected = expected_rows  # (row index, split) to cross-check
        self._rows: list[str] | None = None

    def _load(self) -> list[str]:
        if self._rows is None:
            if not self.path.is_file():
                raise DatasetError(f"FER2013 pixel file missing: {self.path} (fer2013new.csv holds only votes; "
                                   "the images come from the original fer2013.csv, row for row)")
            pix, usage = [], []
            with open(self.path, newline="", errors="replace") as f:
                reader = csv.reader(f)
                header = next(reader, None)
                names = [h.strip().lower() for h in header or []]
                if "pixels" not in names:
                    raise line_error(self.path, 1, "expected the header 'emotion,pixels,Usage'")
                pi = names.index("pixels")
                ui = names.index("usage") if "usage" in names else None
                for row in reader:
                    pix.append(row[pi] if len(row) > pi else "")
                    usage.append(USAGE.get(row[ui].strip(), "?") if ui is not None and len(row) > ui else "?")
            for k, split in self.expected:
                if k >= len(pix):
                    raise DatasetError(f"{self.path} has {len(pix)} image rows; fer2013new.csv needs row {k + 2}")
                if usage[k] not in ("?", split):
                    raise line_error(
                        self.path,
                        k + 2,
                        f"usage {usage[k]!r} differs from fer2013new.csv's {split!r}: not the matching file",
                    )
            self._rows = pix
        return self._rows

    def image(self, k: int) -> np.ndarray:
        s = self._load()[k]
        try:
            a = np.array(s.split(), dtype=np.uint8)
        except ValueError:
            raise line_error(self.path, k + 2, "pixels are not 0..255 integers") from None
        if a.size != 48 * 48:
            raise line_error(self.path, k + 2, f"expected 2304 pixels (48x48), got {a.size}")
        g = a.reshape(48, 48)
        return np.repeat(g[..., None], 3, axis=2)


def detect_source(root: Path) -> str:
    if (root / FOLDERS["train"] / "label.csv").is_file() or (root / FOLDERS["test"] / "label.csv").is_file():
        return "folders"
    if (root / "fer2013new.csv").is_file():
        return "csv"
    raise DatasetError(
        f"no FERPlus files in {root}: expected FER2013Train/label.csv (official layout) or fer2013new.csv"
    )


def open_ferplus(root, split: str = "train", protocol: str | None = "majority", num_classes: int = 8,
                 source: str | None = None, pixels: str | None = None, check_images: bool = True, **_) -> LabeledSet:
    """One split ('train', 'val', 'test') of FERPlus under a protocol; see the module docstring."""
    if root is None:
        raise DatasetError(
            "FERPlus needs its root folder (--root, or data.root in a training config): "
            "the folder holding FER2013Train/ ... or fer2013new.csv"
        )
    root = Path(root)
    protocol = protocol or "majority"
    split = {"valid": "val", "validation": "val", "training": "train"}.get(split, split)
    if split not in FOLDERS:
        raise DatasetError(f"FERPlus splits are train, val, test, not {split!r}")
    source = source or detect_source(root)
    names_c = class_names(num_classes) if num_classes in (7, 8) else None
    if names_c is None:
        raise DatasetError(f"FERPlus has 8 classes (or 7 without contempt), not {num_classes}")
    if source == "folders":
        folder = root / FOLDERS[split]
        names, votes = read_label_csv(folder / "label.csv")
        keep, targets, dropped = apply_protocol(votes, protocol, num_classes)
        paths = [folder / names[i] for i in keep]
        missing = [str(p) for p in paths if check_images and not p.is_file()]

        def loader(i: int) -> np.ndarray:
            return read_image(paths[i])

        keys = [str(p) for p in paths]
        src = f"{folder / 'label.csv'} ({protocol} protocol)"
    elif source == "csv":
        new = root / "fer2013new.csv"
        rows, votes = read_fer2013new(new)
        idx = [j for j, (_, s, _) in enumerate(rows) if s == split]
        nonface = [j for j in idx if not rows[j][2]]
        faces = [j for j in idx if rows[j][2]]
        keep, targets, dropped = apply_protocol(votes[faces], protocol, num_classes)
        if nonface:
            dropped["not a face (no image name in fer2013new.csv)"] += len(nonface)
        chosen = [rows[faces[i]] for i in keep]
        pix = _Fer2013Pixels(Path(pixels) if pixels else root / "fer2013.csv", [(k, s) for k, s, _ in chosen])
        missing = [] if (not check_images or pix.path.is_file()) else [str(pix.path)]

        def loader(i: int) -> np.ndarray:
            return pix.image(chosen[i][0])

        keys = [name for _, _, name in chosen]
        src = f"{new} + {pix.path.name} ({protocol} protocol)"
    else:
        raise DatasetError(f"FERPlus source must be 'folders' or 'csv', got {source!r}")
    return LabeledSet(
        name=f"FERPlus ({source}, {protocol}, {num_classes} classes)", split=split, class_names=names_c, keys=keys,
        targets=targets, loader=loader, dropped=dict(dropped), source=src, missing_images=missing,
    )
