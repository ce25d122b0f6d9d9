"""Locality of a model's heads: does head k react only to the input region it is meant to see?

For a model and N aligned faces:

* **cross-talk** C (4 x K): row j = input region j (`FERModel.input_regions`, the pixels head j is
  meant to see) hidden by a neutral fill, column k = head k. C[j, k] = mean over the faces of the
  total-variation change of head k's probabilities, 0.5 * sum_c |p_k(hidden j) - p_k(clean)|_c, in [0, 1].
* **locality index** L_k = C[k, k] / sum_j C[j, k]: the share of head k's change that comes from its
  own region (1 = perfectly local; 0.25 = no better than chance for four equal regions). A head
  that never changes (sum 0) has no index (None in JSON).
* **CAM share** S_k: the share of head k's Grad-CAM++ mass (`fer.explain`'s engine, head maps at the
  shared map, each head explaining its own top class) that falls inside its own region, averaged
  over the first `cam_limit` faces. Grad-CAM++ weighs whole channels of the shared map, so even
  a perfectly local head spreads mass outside its region (about 0.25 on a toy local model): the
  CAM share tells what the explanation shows, the cross-talk what the head really uses.

The fill is mid grey (RGB 128, 128, 128) in pixel space, i.e. ((128 / 255) - mean) / std per channel
after the model's normalisation. One-head models: locality does not apply; the four quadrants are
hidden and one column is reported (locality and CAM share None). Batched: each face's clean and
four hidden copies share one pass, at most `batch_size` images a pass (one face: one pass of five),
so memory is bounded by the batch.

One summary figure, `offdiag_ratio`: mean off-diagonal ÷ mean diagonal cross-talk (0 = local,
about 1 = every head reacts to every region alike); None for one-head models.
`of_samples` / `of_dataset` measure the first `limit` faces of a sweep's `Samples` or of a
`LabeledSet` (what `fer robustness` and `fer evaluate` report); `DEFAULT_LIMIT` faces by default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from fer.errors import InputError
from fer.models.base import FERModel
from fer.regions import REGION_NAMES, Box, head_names, split_boxes

FILL_RGB = (128, 128, 128)
DEFAULT_LIMIT = 32  # faces `fer robustness` / `fer evaluate` measure by default (--locality-limit)
DEFAULT_CAMS = 4  # of which get Grad-CAM++ for the CAM share there


@dataclass
class LocalityResult:
    crosstalk: np.ndarray  # (4, K): row = hidden input region, column = head
    locality: list[float | None]  # (K,) C[k, k] / sum_j C[j, k]; None when it does not apply / is 0/0
    cam_share: list[float | None]  # (K,) share of head k's Grad-CAM++ mass inside its own region
    heads: tuple[str, ...]
    regions: list[Box]  # input pixels of the hidden regions (model input size)
    n: int
    applies: bool  # False for one-head models
    fill: str = "mid grey RGB (128, 128, 128) in pixel space, before normalisation"
    meta: dict = field(default_factory=dict)

    @property
    def offdiag_ratio(self) -> float | None:
        """Mean off-diagonal ÷ mean diagonal cross-talk: 0 = local; None for one-head models or no change."""
        return offdiag_ratio(self.crosstalk) if self.applies else None

    def to_dict(self) -> dict:
        def clean(v):
            return None if v is None or not math.isfinite(float(v)) else float(v)

        return {
            "crosstalk": [[float(v) for v in row] for row in self.crosstalk],
            "locality": [clean(v) for v in self.locality],
            "cam_share": [clean(v) for v in self.cam_share],
            "offdiag_over_diag": clean(self.offdiag_ratio),
            "rows": list(REGION_NAMES),
            "columns": list(self.heads),
            "regions": [list(b) for b in self.regions],
            "n": self.n,
            "applies": self.applies,
            "fill": self.fill,
            **self.meta,
        }

    def table(self) -> str:
        """A readable table: rows = hidden region, columns = heads, then locality and CAM share."""
        width = max(12, *(len(h) for h in self.heads))
        lines = [f"{'hidden region':>14s} | " + " ".join(f"{h:>{width}s}" for h in self.heads)]
        lines.append("-" * len(lines[0]))
        for name, row in zip(REGION_NAMES, self.crosstalk):
            lines.append(f"{name:>14s} | " + " ".join(f"{v:>{width}.4f}" for v in row))
        for label, values in (("locality", self.locality), ("cam share", self.cam_share)):
            cells = ["n/a" if v is None or not math.isfinite(v) else f"{v:.4f}" for v in values]
            lines.append(f"{label:>14s} | " + " ".join(f"{c:>{width}s}" for c in cells))
        ratio = self.offdiag_ratio
        if ratio is not None:
            lines.append(f"cross-talk off-diagonal / diagonal: {ratio:.4f} (0 = local)")
        return "\n".join(lines)


def offdiag_ratio(matrix) -> float | None:
    """Mean off-diagonal ÷ mean diagonal of a square cross-talk matrix (None when the diagonal is all 0)."""
    m = np.asarray(matrix, np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 2:
        return None
    diag = float(np.diag(m).mean())
    return float(m[~np.eye(len(m), dtype=bool)].mean() / diag) if diag > 0 else None


def _fill_values(model: FERModel) -> torch.Tensor:
    pp = model.config.preprocess
    grey = np.asarray(FILL_RGB, np.float64) / 255.0
    if pp.grayscale:
        grey = grey.mean(keepdims=True)
    return torch.tensor((grey - np.asarray(pp.mean)) / np.asarray(pp.std), dtype=torch.float32)


def _as_input(model: FERModel, images) -> torch.Tensor:
    if isinstance(images, torch.Tensor):
        if images.ndim != 4:
            raise InputError(f"images must be an (N, C, H, W) model-input tensor, got shape {tuple(images.shape)}")
        return images.float()
    from fer.robustness.inference import to_model_input

    crops = np.asarray(images)
    if crops.ndim != 4 or crops.shape[-1] != 3 or crops.dtype != np.uint8:
        raise InputError(f"images must be (N, H, W, 3) uint8 aligned crops, got {crops.shape} {crops.dtype}")
    return to_model_input(crops, model)


def _cam_share(model: FERModel, x: torch.Tensor, boxes: list[Box]) -> list[float]:
    from fer.explain.engine import compute_maps

    shares = []
    for i in range(len(x)):
        maps = compute_maps(model, x[i : i + 1], head_target="own", layer="shared")
        row = []
        for k, (x1, y1, x2, y2) in enumerate(boxes):
            total = float(maps.heads[k].sum())
            row.append(float(maps.heads[k][y1:y2, x1:x2].sum()) / total if total > 0 else math.nan)
        shares.append(row)
    return [float(np.nanmean(col)) if np.isfinite(col).any() else math.nan for col in np.array(shares).T]


def crosstalk(model: FERModel, images, fill=None, batch_size: int = 32, cam_limit: int = 8) -> LocalityResult:
    """The cross-talk matrix, locality index and CAM share of `model` on `images`.

    `images`: (N, H, W, 3) uint8 aligned crops (preprocessed as the model's own `Preprocess`) or an
    (N, C, H, W) model-input tensor. `fill`: the normalised per-channel value put into a hidden region
    (default: mid grey, see the module docstring). `cam_limit` faces get Grad-CAM++ (0: skip it).
    """
    if not isinstance(model, FERModel):
        raise InputError(f"locality needs a fer FERModel, got {type(model).__name__}")
    x_all = _as_input(model, images)
    if len(x_all) == 0:
        raise InputError("locality needs at least one face")
    height, width = (int(s) for s in x_all.shape[-2:])
    applies = model.num_heads == len(REGION_NAMES)
    boxes = model.input_regions(height, width) if applies else split_boxes(height, width)
    fill_t = _fill_values(model) if fill is None else torch.as_tensor(fill, dtype=torch.float32).flatten()
    fill_t = fill_t.view(1, -1, 1, 1)
    device = next(iter(model.parameters()), torch.empty(0)).device
    was_training = model.training
    model.eval()
    total = torch.zeros(len(boxes), model.num_heads, dtype=torch.float64)
    try:
        with torch.inference_mode():
            per_pass = max(1, batch_size // (1 + len(boxes)))  # faces whose clean + hidden copies share a pass
            for start in range(0, len(x_all), per_pass):
                x = x_all[start : start + per_pass].to(device)
                copies = [x]
                for x1, y1, x2, y2 in boxes:
                    hidden = x.clone()
                    hidden[:, :, y1:y2, x1:x2] = fill_t.to(device, hidden.dtype)
                    copies.append(hidden)
                probs = model(torch.cat(copies)).head_probs.double().unflatten(0, (len(copies), len(x)))
                tv = 0.5 * (probs[1:] - probs[:1]).abs().sum(-1)  # (regions, B, K)
                total += tv.sum(1).cpu()
    finally:
        model.train(was_training)
    matrix = (total / len(x_all)).numpy()
    if applies:
        sums = matrix.sum(0)
        locality = [float(matrix[k, k] / sums[k]) if sums[k] > 0 else None for k in range(model.num_heads)]
        shares = _cam_share(model, x_all[: max(0, cam_limit)], boxes) if cam_limit > 0 else []
        cam_share = [None if not math.isfinite(v) else v for v in shares] or [None] * model.num_heads
    else:
        locality, cam_share = [None], [None]
    return LocalityResult(
        crosstalk=matrix,
        locality=locality,
        cam_share=cam_share,
        heads=head_names(model.num_heads),
        regions=list(boxes),
        n=len(x_all),
        applies=applies,
        meta={"model": model.config.name, "trained": bool(model.config.trained), "cam_faces": min(cam_limit, len(x_all))
              if applies else 0},
    )


def _check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise InputError(f"the locality limit must be a whole number of faces >= 1, got {limit!r}")
    return int(limit)


def of_samples(model: FERModel, samples, limit: int = DEFAULT_LIMIT, cam_limit: int = DEFAULT_CAMS,
               batch_size: int = 32) -> LocalityResult:
    """Locality on the first `limit` faces of a sweep's `fer.robustness.Samples` (clean). Scenes
    (`samples.faces` set) are cut with the model's own crop recipe, as the sweep does."""
    part = samples.head(_check_limit(limit))
    if len(part) == 0:
        raise InputError("locality needs at least one face")
    if part.faces is not None:
        from fer.face.crop import cut_for

        crops = np.stack([cut_for(scene, face, model.config).image for scene, face in zip(part.crops, part.faces)])
    else:
        crops = part.crops
    result = crosstalk(model, crops, batch_size=batch_size, cam_limit=cam_limit)
    result.meta["data"] = samples.source
    return result


def of_dataset(model: FERModel, data, limit: int = DEFAULT_LIMIT, cam_limit: int = DEFAULT_CAMS,
               batch_size: int = 32) -> LocalityResult:
    """Locality on the first `limit` images of a `fer.data.LabeledSet`, preprocessed as `fer evaluate` does."""
    from fer.data.base import TorchImages

    n = min(_check_limit(limit), len(data))
    if n == 0:
        raise InputError("locality needs at least one face")
    images = TorchImages(data, model.config.preprocess)
    x = torch.stack([images[i][0] for i in range(n)])
    result = crosstalk(model, x, batch_size=batch_size, cam_limit=cam_limit)
    result.meta["data"] = f"{data.name} {data.split}"
    return result
