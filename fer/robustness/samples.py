"""What a sweep runs on: aligned crops with landmarks (in crop coordinates) and labels.

`Samples` holds a stack of equally sized crops. Labels are indices into `class_names`, or
None for unlabelled photos (a model's clean predictions then serve as pseudo-labels).

When `faces` is given, the stack holds *scenes* instead: windows of photos around one face each
(`faces[i]`, in that window's coordinates, as are the landmarks). The occluders are drawn on the
scene, then each model cuts its own crop from it with its crop recipe (`fer.face.crop.cut_for`), so
every recipe sees the same occluded face.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fer.errors import DatasetError
from fer.io import require_rgb_uint8


@dataclass
class Samples:
    crops: np.ndarray  # (N, S, S, 3) uint8
    landmarks: np.ndarray | None  # (N, 5, 2) crop coordinates
    labels: np.ndarray | None  # (N,) int, or None when unlabelled
    class_names: tuple[str, ...] = ()
    landmarks68: np.ndarray | None = None  # (N, 68, 2)
    source: str = ""
    names: list[str] = field(default_factory=list)
    faces: list | None = None  # list[fer.face.Face] in scene coordinates: the crops are scenes (see above)

    def __post_init__(self) -> None:
        self.crops = np.asarray(self.crops)
        require_rgb_uint8(self.crops, "stack of aligned crops (samples)", batch=True, error=DatasetError)
        if self.crops.shape[1] != self.crops.shape[2]:
            raise DatasetError("aligned crops must be square")
        n = len(self.crops)
        for name in ("landmarks", "labels", "landmarks68", "faces"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise DatasetError(f"{name} has {len(value)} entries for {n} crops")
        self.class_names = tuple(self.class_names)

    def __len__(self) -> int:
        return len(self.crops)

    @property
    def size(self) -> int:
        return int(self.crops.shape[1])

    def head(self, limit: int | None) -> Samples:
        if limit is None or limit >= len(self):
            return self
        cut = slice(0, max(0, int(limit)))
        return Samples(
            self.crops[cut],
            None if self.landmarks is None else self.landmarks[cut],
            None if self.labels is None else self.labels[cut],
            self.class_names,
            None if self.landmarks68 is None else self.landmarks68[cut],
            self.source,
            self.names[cut],
            None if self.faces is None else self.faces[cut],
        )
