"""Generic layouts: one folder per class (FED-RO and most exports), and a CSV of `path,label`.

Folder per class: `<root>/<class>/<image>` or, with splits, `<root>/<split>/<class>/<image>`.
Class folders named by expression (`happy`, `Happiness`, `angry`, ... see
`classmaps.SYNONYMS`) map to the canonical order by name; numbered folders (`0`..`6`) need
an explicit `class_order` (canonical / ferplus, rafdb = raw RAF-DB label minus one, manet),
because their meaning differs between data sets.

CSV: rows `path,label[,split]`, an optional header line; paths relative to the CSV's folder;
labels are class names, or integers with a `class_order`.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np

from fer.data.base import LabeledSet, line_error, read_image
from fer.data.classmaps import canonical_name, order_to_canonical
from fer.errors import DatasetError
from fer.labels import CANONICAL_8, class_names

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}
SPLIT_DIRS = {"train": ("train", "training", "Train"), "val": ("val", "valid", "validation", "Val"),
              "test": ("test", "testing", "Test")}


def _label_of(token: str, class_order: str | None, num_classes: int) -> tuple[int | None, str | None]:
    """(canonical index or None, drop reason or None); raises ValueError for an unknown label."""
    t = token.strip()
    if t.lstrip("-").isdigit():
        if class_order is None:
            raise ValueError(
                f"numeric label {t!r} needs an explicit class order (--class-order canonical|ferplus|rafdb|manet)"
            )
        table = order_to_canonical(class_order, num_classes)
        k = int(t)
        if not 0 <= k < len(table):
            raise ValueError(f"label {k} outside 0..{len(table) - 1} of class order {class_order!r}")
        if table[k] is None:
            return None, f"{CANONICAL_8[7]} ({num_classes}-class protocol)"
        return table[k], None
    name = canonical_name(t)
    if name is None:
        raise ValueError(f"unknown class name {t!r}")
    names = class_names(num_classes)
    if name not in names:
        return None, f"{name} ({num_classes}-class protocol)"
    return names.index(name), None


def _split_dir(root: Path, split: str | None) -> Path:
    if split is None or split == "all":
        return root
    for name in SPLIT_DIRS.get(split, (split,)):
        if (root / name).is_dir():
            return root / name
    subdirs = [d.name for d in root.iterdir() if d.is_dir()] if root.is_dir() else []
    if any(n in sum(SPLIT_DIRS.values(), ()) for n in subdirs):
        raise DatasetError(f"{root} has no {split!r} split folder (found {sorted(subdirs)})")
    return root  # no split folders: the whole tree is the one split


def open_folder(root, split: str | None = None, class_order: str | None = None, num_classes: int = 7,
                name: str = "folder per class", **_) -> LabeledSet:
    if root is None:
        raise DatasetError("a folder-per-class data set needs --root")
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"data set folder not found: {root}")
    base = _split_dir(root, split)
    keys, labels, dropped = [], [], Counter()
    class_dirs = sorted(d for d in base.iterdir() if d.is_dir())
    if not class_dirs:
        raise DatasetError(f"{base} has no class folders")
    for d in class_dirs:
        try:
            label, reason = _label_of(d.name, class_order, num_classes)
        except ValueError as exc:
            raise DatasetError(f"class folder {d}: {exc}") from None
        for f in sorted(p for p in d.rglob("*") if p.is_file()):
            if f.suffix.lower() not in IMAGE_EXTENSIONS:
                dropped["not an image file (extension)"] += 1
            elif reason:
                dropped[reason] += 1
            else:
                keys.append(str(f))
                labels.append(label)

    return _files_set(name, split, num_classes, keys, labels, dropped, base)


def open_fedro(root, split: str | None = None, num_classes: int = 7, class_order: str | None = None, **_) -> LabeledSet:
    """FED-RO (400 faces with real occlusions, 7 classes): a folder per class; evaluation only."""
    d = open_folder(root, None if split in (None, "test", "all") else split, class_order, num_classes, name="FED-RO")
    d.split = "test"
    return d


def open_csv(path, split: str | None = None, class_order: str | None = None, num_classes: int = 7,
             check_images: bool = True, **_) -> LabeledSet:
    if path is None:
        raise DatasetError("a CSV data set needs --root pointing at the CSV file")
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"CSV file not found: {path}")
    keys, labels, dropped, splits_seen = [], [], Counter(), set()
    with open(path, newline="", errors="replace") as f:
        for n, row in enumerate(csv.reader(f), 1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if n == 1 and row[0].strip().lower() in ("path", "file", "image", "filename", "image_path") :
                continue
            if len(row) not in (2, 3):
                raise line_error(path, n, f"expected 'path,label' or 'path,label,split', got {len(row)} columns")
            row_split = row[2].strip() if len(row) == 3 else None
            if row_split:
                splits_seen.add(row_split)
            if split not in (None, "all") and row_split is not None and row_split != split:
                continue
            try:
                label, reason = _label_of(row[1], class_order, num_classes)
            except ValueError as exc:
                raise line_error(path, n, str(exc)) from None
            if reason:
                dropped[reason] += 1
                continue
            p = Path(row[0].strip())
            keys.append(str(p if p.is_absolute() else path.parent / p))
            labels.append(label)
    if split not in (None, "all") and splits_seen and split not in splits_seen:
        raise DatasetError(f"{path} has no rows of split {split!r} (splits: {sorted(splits_seen)})")
    missing = [k for k in keys if check_images and not Path(k).is_file()]
    return _files_set(f"CSV {path.name}", split, num_classes, keys, labels, dropped, path, missing)


def _files_set(name: str, split: str | None, num_classes: int, keys: list[str], labels: list[int],
               dropped: Counter, source: Path, missing: list[str] | None = None) -> LabeledSet:
    """A LabeledSet over image files named by `keys` (read on demand with fer.io's rules)."""

    def loader(i: int) -> np.ndarray:
        return read_image(keys[i])

    return LabeledSet(
        name=name,
        split=split or "all",
        class_names=class_names(num_classes),
        keys=keys,
        targets=np.array(labels, np.int64),
        loader=loader,
        dropped=dict(dropped),
        source=str(source),
        missing_images=missing or [],
    )
