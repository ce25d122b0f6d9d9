"""Data sets by name: `open_dataset(name, split=..., root=..., **options)` → `LabeledSet`, and
`dataset_info(...)`, the per-split / per-class counts `python -m fer dataset-info` prints.

Names: synthfer (synthetic), rafdb, ferplus, fedro, folder, csv. `subset=` (occlusion,
pose30, pose45) restricts the RAF-DB / FERPlus test split to RAN's lists.
"""

from __future__ import annotations

from pathlib import Path

from fer.data.base import LabeledSet
from fer.errors import DatasetError

DATASETS = ("synthfer", "rafdb", "ferplus", "fedro", "folder", "csv")
NATIVE_CLASSES = {"ferplus": 8}


def _open(name: str, split: str, root, protocol, source, num_classes: int, options: dict) -> LabeledSet:
    if name == "synthfer":
        from fer.data.synthfer_set import open_synthfer

        if num_classes != 7:
            raise DatasetError("SynthFER (synthetic) has the 7 basic classes")
        return open_synthfer(split, size=options.get(f"{split}_size", options.get("size")),
                             image_size=int(options.get("image_size", 112)), seed=int(options.get("seed", 0)),
                             cache=bool(options.get("cache", True)))
    if name == "rafdb":
        from fer.data.rafdb import open_rafdb

        return open_rafdb(root, split, source=source, num_classes=num_classes, **options)
    if name == "ferplus":
        from fer.data.ferplus import open_ferplus

        return open_ferplus(root, split, protocol=protocol, num_classes=num_classes, source=source, **options)
    if name == "fedro":
        from fer.data.folder import open_fedro

        return open_fedro(root, split, num_classes=num_classes, **options)
    if name == "folder":
        from fer.data.folder import open_folder

        return open_folder(root, split, num_classes=num_classes, **options)
    if name == "csv":
        from fer.data.folder import open_csv

        return open_csv(root, split, num_classes=num_classes, **options)
    raise DatasetError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")


def open_dataset(name: str, split: str = "train", root=None, protocol: str | None = None, source: str | None = None,
                 num_classes: int | None = None, subset: str | None = None, lists=None, **options) -> LabeledSet:
    """One split of a named data set with canonical targets. See the module docstring."""
    name = name.lower().replace("-", "").replace("_", "")
    if name == "fer2013plus":
        name = "ferplus"
    num_classes = int(num_classes or NATIVE_CLASSES.get(name, 7))
    options = {k: v for k, v in options.items() if v is not None}
    if subset:
        if name not in ("rafdb", "ferplus"):
            raise DatasetError(f"occlusion/pose subsets exist for rafdb and ferplus, not {name!r}")
        from fer.data.subsets import make_subset

        test = _open(name, "test", root, protocol, source, num_classes, options)
        return make_subset(test, name, subset, lists=lists, root=root)
    return _open(name, split, root, protocol, source, num_classes, options)


def crop_options(source: str | None, crop, size: int | None) -> dict:
    """The data-set options that make photo sources (RAF-DB `original`) cut faces with a model's crop
    recipe (`crop`, a `CropSpec`) at its input size; nothing for sources that are already face crops."""
    if source != "original":
        return {}
    return {"crop": crop, **({"crop_size": int(size)} if size else {})}


def splits_of(name: str, root=None, **options) -> list[str]:
    name = name.lower()
    if name in ("synthfer", "ferplus"):
        return ["train", "val", "test"]
    if name == "rafdb":
        return ["train", "test"]
    if name == "fedro":
        return ["test"]
    if name == "folder":
        from fer.data.folder import SPLIT_DIRS

        r = Path(root) if root else None
        found = [s for s, names in SPLIT_DIRS.items() if r is not None and any((r / n).is_dir() for n in names)]
        return found or ["all"]
    if name == "csv":
        import csv

        p = Path(root) if root else None
        if p is None or not p.is_file():
            raise DatasetError(f"CSV file not found: {root}")
        with open(p, newline="", errors="replace") as f:
            seen = []
            for row in csv.reader(f):
                if (
                    len(row) == 3
                    and row[2].strip()
                    and row[2].strip() not in seen
                    and row[2].strip().lower() != "split"
                ):
                    seen.append(row[2].strip())
        return seen or ["all"]
    raise DatasetError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")


def dataset_info(name: str, root=None, protocol: str | None = None, source: str | None = None,
                 num_classes: int | None = None, subset: str | None = None, lists=None, **options) -> dict:
    """Counts per split and per class, plus dropped entries and their reasons (JSON-ready)."""
    key = name.lower().replace("-", "").replace("_", "")
    info: dict = {"dataset": key, "root": str(root) if root else None}
    splits = {}
    if subset:
        sets = [open_dataset(key, "test", root, protocol, source, num_classes, subset, lists, **options)]
    else:
        sets = [open_dataset(key, s, root, protocol, source, num_classes, None, None, **options)
                for s in splits_of(key, root, **options)]
    for d in sets:
        entry = d.summary()
        entry["missing_images"] = len(d.missing_images)
        if d.missing_images:
            entry["missing_examples"] = d.missing_images[:3]
        entry["source"] = d.source
        splits[d.split] = entry
    first = sets[0]
    info.update({
        "name": first.name,
        "protocol": protocol or ("majority" if key == "ferplus" else None),
        "num_classes": len(first.class_names),
        "class_names": list(first.class_names),
        "label_type": "soft (vote distribution)" if first.soft else "class index",
        "splits": splits,
        "total_images": int(sum(s["images"] for s in splits.values())),
    })
    if key == "synthfer":
        info["note"] = "synthetic images, procedurally generated; not faces of people"
    return info
