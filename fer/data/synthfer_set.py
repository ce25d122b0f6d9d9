"""SynthFER (synthetic) as a `LabeledSet`."""

from __future__ import annotations

import numpy as np

from fer.data.base import LabeledSet
from fer.data.synthetic import NAME, SPLITS, SynthFER
from fer.labels import CANONICAL_7

DEFAULT_SIZES = {"train": 7000, "val": 1400, "test": 1400}


def open_synthfer(
    split: str = "train", size: int | None = None, image_size: int = 112, seed: int = 0, cache: bool = True
) -> LabeledSet:
    """`size` images of a SynthFER split (balanced classes). `cache` renders them all now."""
    if split not in SPLITS:
        from fer.errors import DatasetError

        raise DatasetError(f"SynthFER has splits {list(SPLITS)}, not {split!r}")
    n = int(size if size is not None else DEFAULT_SIZES[split])
    gen = SynthFER(image_size, seed)
    labels = np.arange(n, dtype=np.int64) % len(CANONICAL_7)
    if cache:
        images, labels = gen.generate(split, n)

        def loader(i: int) -> np.ndarray:
            return images[i]
    else:

        def loader(i: int) -> np.ndarray:
            return gen.sample(split, i).image

    return LabeledSet(
        name=NAME,
        split=split,
        class_names=CANONICAL_7,
        keys=[f"synthfer/{split}/{i:06d}" for i in range(n)],
        targets=labels,
        loader=loader,
        source=f"procedurally generated, seed {seed}, {image_size} px",
    )
