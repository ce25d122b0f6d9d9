"""SynthFER (synthetic): seeded, balanced, any size, and its classes carried by the documented halves."""

from __future__ import annotations

import numpy as np
import pytest

from fer.data.registry import open_dataset
from fer.data.synthetic import CUE_REGIONS, SynthFER
from fer.labels import CANONICAL_7


def test_same_seed_same_images_other_seed_other_images():
    a, la = SynthFER(64, seed=3).generate("train", 14)
    b, lb = SynthFER(64, seed=3).generate("train", 14)
    c, _ = SynthFER(64, seed=4).generate("train", 14)
    assert a.dtype == np.uint8 and a.shape == (14, 64, 64, 3)
    assert np.array_equal(a, b) and np.array_equal(la, lb)
    assert not np.array_equal(a, c)
    assert la.tolist() == [i % 7 for i in range(14)]  # balanced
    # any index can be regenerated alone (what loader workers and resumes rely on)
    assert np.array_equal(SynthFER(64, seed=3).sample("train", 9).image, a[9])
    # splits are different images
    assert not np.array_equal(SynthFER(64, seed=3).generate("test", 14)[0], a)


@pytest.mark.parametrize("size", [32, 112, 160])
def test_any_size_and_landmarks_inside(size):
    s = SynthFER(size, seed=1).sample("val", 5)
    assert s.image.shape == (size, size, 3)
    assert s.landmarks.shape == (5, 2)
    assert (s.landmarks > 0).all() and (s.landmarks < size).all()
    assert s.landmarks[0, 1] < size / 2 < s.landmarks[3, 1]  # eyes in the upper half, mouth in the lower


def _render(label: int, seed: int, size: int = 112) -> np.ndarray:
    # same generator stream = same identity, pose, lighting and noise; only the expression differs
    return SynthFER(size, 0).render(np.random.default_rng(seed), label).image.astype(np.int16)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_classes_live_in_the_documented_halves(seed):
    s = 112
    up, lo = slice(0, int(0.45 * s)), slice(int(0.58 * s), s)
    neutral = _render(CANONICAL_7.index("neutral"), seed)
    for name, halves in CUE_REGIONS.items():
        if name == "neutral":
            continue
        img = _render(CANONICAL_7.index(name), seed)
        upper_differs = np.abs(img[up] - neutral[up]).max() > 20
        lower_differs = np.abs(img[lo] - neutral[lo]).max() > 20
        assert upper_differs == ("upper" in halves), (name, "upper")
        assert lower_differs == ("lower" in halves), (name, "lower")


def test_as_a_labeled_set_named_synthetic():
    d = open_dataset("synthfer", "test", test_size=21, image_size=48)
    assert "synthetic" in d.name.lower()
    assert len(d) == 21 and d.image(0).shape == (48, 48, 3)
    assert d.class_counts() == {n: 3 for n in CANONICAL_7}


def test_landmarks_do_not_depend_on_the_expression():
    a = SynthFER(112, 0).render(np.random.default_rng(9), CANONICAL_7.index("happiness")).landmarks
    b = SynthFER(112, 0).render(np.random.default_rng(9), CANONICAL_7.index("fear")).landmarks
    np.testing.assert_array_equal(a, b)
