"""RAF-DB basic: `EmoLabel/list_patition_label.txt` + `Image/aligned/<stem>_aligned.jpg`.

Label lines look like `train_00001.jpg 5`; labels 1..7 are Surprise, Fear, Disgust, Happiness,
Sadness, Anger, Neutral (`classmaps.RAFDB_RAW_ORDER`), mapped here to the canonical order. The
split is the name's prefix (train / test); RAF-DB has no separate validation split (papers
report the test split). `source="original"` reads `Image/original/<name>` and cuts the face
with `fer.face.detect` + the model's crop recipe (`fer.face.crop`; largest face; images without a
face are an error naming the file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fer.data.base import LabeledSet, line_error, read_image
from fer.data.classmaps import RAFDB_RAW_ORDER
from fer.errors import DatasetError
from fer.labels import CANONICAL_7

LABEL_FILE = Path("EmoLabel") / "list_patition_label.txt"
SPLITS = ("train", "test")


def read_label_file(path: Path) -> list[tuple[str, str, int]]:
    """[(name, split, canonical index)] from list_patition_label.txt; malformed lines raise."""
    if not path.is_file():
        raise DatasetError(f"RAF-DB label file missing: {path} (expected <root>/{LABEL_FILE})")
    rows = []
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise line_error(path, n, f"expected '<image name> <label 1..7>', got {line.strip()!r}")
        name, raw = parts
        split = name.split("_", 1)[0]
        if split not in SPLITS:
            raise line_error(path, n, f"image name {name!r} does not start with train_ or test_")
        try:
            label = int(raw)
        except ValueError:
            raise line_error(path, n, f"label {raw!r} is not an integer 1..7") from None
        if not 1 <= label <= 7:
            raise line_error(path, n, f"label {label} outside 1..7")
        rows.append((name, split, CANONICAL_7.index(RAFDB_RAW_ORDER[label - 1])))
    return rows


def image_path(root: Path, name: str, source: str = "aligned") -> Path:
    if source == "aligned":
        return root / "Image" / "aligned" / f"{Path(name).stem}_aligned.jpg"
    if source == "original":
        return root / "Image" / "original" / name
    raise DatasetError(f"RAF-DB source must be 'aligned' or 'original', got {source!r}")


def _face_crop_loader(paths: list[Path], size: int, crop=None):
    from fer.face.crop import cut
    from fer.face.detect import detect

    def load(i: int) -> np.ndarray:
        img = read_image(paths[i])
        faces = detect(img, max_faces=1)
        if not faces:
            raise DatasetError(f"no face found in {paths[i]}")
        return cut(img, faces[0], crop, size=size).image

    return load


def open_rafdb(root, split: str = "train", source: str | None = None, num_classes: int = 7, crop_size: int = 224,
               check_images: bool = True, crop=None, **_) -> LabeledSet:
    """One split of RAF-DB basic ('train' or 'test'; 'val' is taken as 'test', as papers do).

    `source="original"` cuts the largest face of each photo with `crop` (a `CropSpec`, or its dict; the
    model's recipe, `fer.data.registry.crop_options`; None: `similarity5`) at `crop_size` pixels."""
    if root is None:
        raise DatasetError(
            "RAF-DB needs its root folder (--root, or data.root in a training config): "
            "the folder holding EmoLabel/ and Image/"
        )
    root = Path(root)
    source = source or "aligned"
    if num_classes != 7:
        raise DatasetError("RAF-DB basic has 7 classes (no contempt)")
    split = "test" if split in ("val", "valid") else split
    if split not in SPLITS:
        raise DatasetError(f"RAF-DB splits are {SPLITS}, not {split!r}")
    rows = [r for r in read_label_file(root / LABEL_FILE) if r[1] == split]
    paths = [image_path(root, name, source) for name, _, _ in rows]
    missing = [str(p) for p in paths if check_images and not p.is_file()]
    labels = np.array([r[2] for r in rows], np.int64)
    if source == "original":
        if isinstance(crop, dict):
            from fer.models.base import CropSpec

            crop = CropSpec.from_dict(crop)
        loader = _face_crop_loader(paths, int(crop_size), crop)
    else:

        def loader(i: int) -> np.ndarray:
            return read_image(paths[i])

    return LabeledSet(
        name=f"RAF-DB basic ({source})", split=split, class_names=CANONICAL_7, keys=[str(p) for p in paths],
        targets=labels, loader=loader, source=str(root / LABEL_FILE), missing_images=missing,
    )
