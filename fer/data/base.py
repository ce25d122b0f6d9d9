"""The one data-set type every loader returns, and its torch wrapper.

A `LabeledSet` is a list of images (loaded lazily by index) with canonical targets: class
indices (N,) or, for soft-label protocols, label distributions (N, C). Loaders record how many
entries they dropped and why, so `dataset-info` can report it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from fer.data.transforms import Augment, train_transform
from fer.models.base import Preprocess


@dataclass
class LabeledSet:
    name: str  # e.g. "RAF-DB basic (aligned)", "SynthFER (synthetic)"
    split: str
    class_names: tuple[str, ...]
    keys: list[str]  # image identifiers (file paths or names), for messages and reports
    targets: np.ndarray  # (N,) int64 class indices, or (N, C) float32 distributions
    loader: Callable[[int], np.ndarray]  # index -> RGB uint8 H×W×3
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> count
    source: str = ""  # label file / protocol description
    missing_images: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def soft(self) -> bool:
        return self.targets.ndim == 2

    @property
    def labels(self) -> np.ndarray:
        """Hard class indices (argmax of the distribution for soft targets)."""
        return self.targets.argmax(1) if self.soft else self.targets

    def image(self, i: int) -> np.ndarray:
        return self.loader(i)

    def class_counts(self) -> dict[str, int]:
        c = Counter(int(v) for v in self.labels)
        return {n: c.get(i, 0) for i, n in enumerate(self.class_names)}

    def subset(self, indices: Sequence[int], name: str | None = None, split: str | None = None) -> LabeledSet:
        idx = np.asarray(list(indices), dtype=np.int64)
        base_loader = self.loader

        def loader(i: int) -> np.ndarray:
            return base_loader(int(idx[i]))

        return LabeledSet(
            name=name or self.name,
            split=split or self.split,
            class_names=self.class_names,
            keys=[self.keys[i] for i in idx],
            targets=self.targets[idx],
            loader=loader,
            dropped={},
            source=self.source,
        )

    def summary(self) -> dict:
        return {
            "images": len(self),
            "classes": self.class_counts(),
            "dropped": dict(sorted(self.dropped.items())),
            "dropped_total": int(sum(self.dropped.values())),
        }


class TorchImages(torch.utils.data.Dataset):
    """A `LabeledSet` as a torch Dataset of (normalised image tensor, target).

    The index may be an int (evaluation) or `(int, seed)` from `AugmentSeedSampler` (training:
    the augmentation of that sample is drawn from `seed`).
    """

    def __init__(self, data: LabeledSet, preprocess: Preprocess, augment: Augment | None = None) -> None:
        self.data = data
        self.pre = preprocess
        self.augment = augment

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, key):
        i, seed = key if isinstance(key, tuple) else (key, None)
        img = self.data.image(int(i))
        if self.augment is not None and seed is not None:
            x = train_transform(img, self.pre, self.augment, seed)
        else:
            x = self.pre.to_tensor(img)
        t = self.data.targets[int(i)]
        target = torch.from_numpy(np.asarray(t, np.float32)) if self.data.soft else torch.tensor(int(t))
        return x, target


class AugmentSeedSampler(torch.utils.data.Sampler):
    """Wraps a `DistributedSampler` and pairs each index with a per-sample augmentation seed.

    The seed depends only on (base seed, epoch, index), so batches are reproducible across
    resumes and worker counts. `skip` drops the first entries of the epoch (mid-epoch resume).
    """

    def __init__(self, base: torch.utils.data.distributed.DistributedSampler, seed: int) -> None:
        self.base = base
        self.seed = int(seed)
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        self.base.set_epoch(epoch)

    def __iter__(self):
        ss = np.random.SeedSequence([self.seed, self.epoch])
        offset = int(ss.generate_state(1)[0])
        for n, i in enumerate(self.base):
            if n >= self.skip:
                yield (int(i), (offset + int(i) * 1_000_003) % (2**63))

    def __len__(self) -> int:
        return max(0, len(self.base) - self.skip)


def read_image(path) -> np.ndarray:
    """Decode one data-set image to RGB uint8 (grey and RGBA are converted); errors name the file."""
    from pathlib import Path

    from fer.errors import DatasetError, InputError
    from fer.io import load_image

    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"image file missing: {p}")
    try:
        return load_image(p)
    except InputError as exc:
        raise DatasetError(f"cannot read image {p}: {exc}") from exc


def line_error(path, lineno: int, what: str):
    """A DatasetError naming the file and the (1-based) line."""
    from fer.errors import DatasetError

    return DatasetError(f"{path}, line {lineno}: {what}")
