"""Occlusion and pose evaluation subsets of the RAF-DB and FERPlus test splits (RAN's lists).

Lists (from the RAN authors' public repository; pass their folder as `lists=`, or set
`FER_SUBSET_LISTS`):

* RAF-DB: `rafdb_occlusion_list.txt` (`test_0003_aligned 3 4`), `val_raf_db_list.txt` (pose > 30°)
  and `val_raf_db_list_45.txt` (pose > 45°), lines `0/test_0004_aligned.jpg`. Their labels use
  the raw RAF-DB label minus one.
* FERPlus: `jianfei_occlusion_list.txt` (`4_fer0032228.png 8 2`, prefix = FERPlus label index),
  `pose_30_ferplus_list.txt` / `pose_45_ferplus_list.txt` (`0/fer0032226.jpg`).

A subset is the test split restricted to the listed images; it keeps the data set's own labels
and reports how many listed labels disagree with them (after mapping both to the canonical
order) and how many listed images are not in the split.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

from fer.data.base import LabeledSet, line_error
from fer.data.classmaps import order_to_canonical
from fer.errors import DatasetError

SUBSET_FILES = {
    ("rafdb", "occlusion"): ("rafdb_occlusion_list.txt", "Occlusion-RAF-DB"),
    ("rafdb", "pose30"): ("val_raf_db_list.txt", "Pose-RAF-DB (>30°)"),
    ("rafdb", "pose45"): ("val_raf_db_list_45.txt", "Pose-RAF-DB (>45°)"),
    ("ferplus", "occlusion"): ("jianfei_occlusion_list.txt", "Occlusion-FERPlus"),
    ("ferplus", "pose30"): ("pose_30_ferplus_list.txt", "Pose-FERPlus (>30°)"),
    ("ferplus", "pose45"): ("pose_45_ferplus_list.txt", "Pose-FERPlus (>45°)"),
}
SUBSETS = ("occlusion", "pose30", "pose45")


def find_lists_dir(lists: str | os.PathLike | None, root: str | os.PathLike | None) -> Path:
    cands = []
    if lists:
        cands.append(Path(lists))
    if os.environ.get("FER_SUBSET_LISTS"):
        cands.append(Path(os.environ["FER_SUBSET_LISTS"]))
    if root:
        r = Path(root)
        cands += [r / "ran", r / "lists", r.parent / "ran", r]
    for c in cands:
        if c.is_dir() and any((c / f).is_file() for f, _ in SUBSET_FILES.values()):
            return c
    raise DatasetError("the occlusion/pose subset lists were not found: pass --lists DIR (the folder holding "
                       "rafdb_occlusion_list.txt, val_raf_db_list.txt, jianfei_occlusion_list.txt, ...) "
                       "or set FER_SUBSET_LISTS")


def read_list(path: Path, dataset: str, num_classes: int = 7) -> dict[str, int | None]:
    """{image stem: canonical label (None when outside the class set)} from one list file."""
    if not path.is_file():
        raise DatasetError(f"subset list missing: {path}")
    order = order_to_canonical("rafdb" if dataset == "rafdb" else "ferplus", 8 if dataset == "ferplus" else 7)
    out: dict[str, int | None] = {}
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        parts = s.split()
        if "/" in parts[0]:  # pose lists: label/name.jpg
            lab, name = parts[0].split("/", 1)
        elif dataset == "ferplus" and re.match(r"^\d+_", parts[0]):  # label_name.png ...
            lab, name = parts[0].split("_", 1)
        elif dataset == "rafdb" and len(parts) >= 2:  # stem label [extra]
            name, lab = parts[0], parts[1]
        else:
            raise line_error(path, n, f"cannot read {s!r} as a subset entry")
        if not lab.isdigit() or int(lab) >= len(order):
            raise line_error(path, n, f"label {lab!r} is not a class index of {dataset}")
        stem = Path(name).stem
        stem = stem[: -len("_aligned")] if stem.endswith("_aligned") else stem
        canon = order[int(lab)]
        out[stem] = canon if canon is None or canon < num_classes else None
    return out


def _stem(key: str) -> str:
    s = Path(key).stem
    return s[: -len("_aligned")] if s.endswith("_aligned") else s


def make_subset(test: LabeledSet, dataset: str, subset: str, lists=None, root=None) -> LabeledSet:
    if (dataset, subset) not in SUBSET_FILES:
        raise DatasetError(f"no {subset!r} subset for {dataset!r}; subsets: "
                           + ", ".join(f"{d}:{s}" for d, s in SUBSET_FILES))
    fname, title = SUBSET_FILES[(dataset, subset)]
    path = find_lists_dir(lists, root) / fname
    listed = read_list(path, dataset, len(test.class_names))
    index = {_stem(k): i for i, k in enumerate(test.keys)}
    chosen, dropped = [], Counter()
    disagree = 0
    labels = test.labels
    for stem, lab in listed.items():
        i = index.get(stem)
        if i is None:
            dropped["listed but not in the test split (or dropped by its protocol)"] += 1
            continue
        chosen.append(i)
        if lab is not None and lab != int(labels[i]):
            disagree += 1
    sub = test.subset(sorted(chosen), name=f"{title} of {test.name}", split=f"test:{subset}")
    sub.dropped = dict(dropped)
    sub.source = (
        f"{test.source}; list {path}; {disagree} listed labels differ from the data set's (its labels are used)"
    )
    sub.missing_images = [k for k in sub.keys if k in set(test.missing_images)]
    return sub
