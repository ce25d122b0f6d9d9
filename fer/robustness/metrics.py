"""Metric rows of a sweep, from per-sample predictions under each condition.

For a model, a condition and a subset of samples (all, or one true class):
  acc / acc_<head>   accuracy of the fused decision / of each head
  drop / drop_<head> clean accuracy minus accuracy (positive = occlusion hurt)
  flip_rate          fraction whose fused prediction differs from the clean one
  head_agreement     mean fraction of heads whose own argmax equals the fused decision
  confidence         mean top fused probability
  confidence_change  mean change of the fused probability of the clean prediction's class
  coverage_<region>  mean fraction of each head's input region the occluder covered
                     (`FERModel.input_regions`; the crop's quadrants for one-head models)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer.regions import REGION_NAMES
from fer.regions import head_names as region_head_names


@dataclass
class Predictions:
    """One model under one condition, for N samples."""

    fused_probs: np.ndarray  # (N, C) in the data set's class space
    head_probs: np.ndarray  # (N, R, C)

    @property
    def fused_pred(self) -> np.ndarray:
        return self.fused_probs.argmax(1)

    @property
    def head_pred(self) -> np.ndarray:
        return self.head_probs.argmax(2)


def head_names(num_heads: int) -> list[str]:
    return list(region_head_names(num_heads))


def metric_row(
    labels: np.ndarray,
    clean: Predictions,
    occluded: Predictions,
    coverage: np.ndarray,
    subset: np.ndarray,
) -> dict:
    """Metrics over the samples selected by the boolean `subset`."""
    n = int(subset.sum())
    row: dict = {"n": n}
    heads = head_names(clean.head_probs.shape[1])
    if n == 0:
        return row
    y = labels[subset]
    cp, op = clean.fused_pred[subset], occluded.fused_pred[subset]
    chp, ohp = clean.head_pred[subset], occluded.head_pred[subset]
    row["acc"] = float((op == y).mean())
    row["clean_acc"] = float((cp == y).mean())
    row["drop"] = row["clean_acc"] - row["acc"]
    for k, name in enumerate(heads):
        acc_k = float((ohp[:, k] == y).mean())
        row[f"acc_{name}"] = acc_k
        row[f"drop_{name}"] = float((chp[:, k] == y).mean()) - acc_k
    row["flip_rate"] = float((op != cp).mean())
    row["head_agreement"] = float((ohp == op[:, None]).mean())
    ofp, cfp = occluded.fused_probs[subset], clean.fused_probs[subset]
    idx = np.arange(n)
    row["confidence"] = float(ofp.max(1).mean())
    row["confidence_change"] = float((ofp[idx, cp] - cfp[idx, cp]).mean())
    cov = coverage[subset]
    for k, name in enumerate(REGION_NAMES):
        row[f"coverage_{name}"] = float(cov[:, k].mean())
    return row
