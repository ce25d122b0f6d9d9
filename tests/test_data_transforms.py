"""Augmentation is a pure function of (image, seed); evaluation is a plain resize + normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fer.data.transforms import Augment, eval_transform, train_transform
from fer.errors import FERError
from fer.models.base import Preprocess


def _img():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)


def test_same_seed_same_augmentation():
    pre, aug = Preprocess(input_size=32), Augment(erase_p=1.0)
    a, b, c = (train_transform(_img(), pre, aug, s) for s in (7, 7, 8))
    assert a.shape == (3, 32, 32) and torch.equal(a, b) and not torch.equal(a, c)


def test_no_augmentation_equals_the_eval_transform():
    pre = Preprocess(input_size=48, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    img = _img()[:, :40].repeat(2, axis=0)[:48, :]  # any content
    img = np.ascontiguousarray(np.pad(img, ((0, 0), (0, 8), (0, 0)))[:48, :48])
    off = Augment(crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), hflip=False, rotation=0, brightness=0, contrast=0,
                  saturation=0, erase_p=0)
    x = train_transform(img, pre, off, 3)
    y = eval_transform(img, pre)
    assert torch.allclose(x, y, atol=1e-5)
    assert torch.allclose(y[:, 0, 0], (torch.tensor(img[0, 0], dtype=torch.float32) / 255 - 0.5) / 0.25)


def test_grey_models_get_one_channel_and_unknown_options_are_refused():
    x = eval_transform(_img(), Preprocess(input_size=24, mean=(0.5,), std=(0.5,), grayscale=True))
    assert x.shape == (1, 24, 24)
    with pytest.raises(FERError, match="unknown augmentation"):
        Augment.from_dict({"erase_prob": 0.5})
