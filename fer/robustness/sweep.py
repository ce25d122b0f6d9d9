"""Occlusion sweeps: every occluder x severity (and the four region blocks) over aligned crops.

The occluder is drawn once per crop and condition (seeded by the sample index, so every model
sees the same pixels) and the occluded stack is run through each model in batches. Samples of
photos are scenes (`Samples.faces`): the occluder is drawn on the scene from the face's landmarks,
then each model cuts its own crop with its crop recipe (`model_view`); the halves (`half:*`) are
halves of each model's own input. Timings of
occluder rendering and of model inference are kept apart (see benchmarks/robustness_sweep.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fer.errors import InputError
from fer.face.crop import describe_config
from fer.io import require_rgb_uint8
from fer.models.base import FERModel
from fer.regions import REGION_NAMES
from fer.robustness.inference import probs_of_crops
from fer.robustness.metrics import Predictions, head_names, metric_row
from fer.robustness.occlude import (
    HALF_PREFIX,
    Condition,
    available_occluders,
    check_condition,
    coverage,
    occlude_batch,
    region_conditions,
)
from fer.robustness.samples import Samples

DEFAULT_SEVERITIES = (0.25, 0.5, 0.75, 1.0)
OTHER = "(other)"  # a model class the data set does not have


@dataclass
class SweepResult:
    rows: list[dict]  # tidy: one row per model x condition x subset ("all" or a class name)
    meta: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)  # render_s, model_s, images, conditions
    locality: dict = field(default_factory=dict)  # model name -> LocalityResult.to_dict() (fer robustness fills it)


def default_conditions(
    occluders: Sequence[str] | None = None,
    severities: Sequence[float] = DEFAULT_SEVERITIES,
    blocks: bool = True,
) -> list[Condition]:
    """clean, then every occluder x severity, then the four region blocks x severity.

    `occluders` None means every `fer.occlusion` occluder but the user mask."""
    kinds = list(available_occluders() if occluders is None else occluders)
    if blocks:
        kinds += [r for r in region_conditions() if r not in kinds]
    if not severities:
        raise InputError("give at least one severity")
    conds = [Condition("clean", 0.0)] + [Condition(k, float(s)) for k in kinds for s in severities]
    for c in conds:
        check_condition(c)
    return conds


def _class_map(model: FERModel, data_classes: Sequence[str]) -> np.ndarray:
    """Column index in the data set's class space (+1 "other" column) of each model class."""
    names = list(data_classes)
    return np.array([names.index(c) if c in names else len(names) for c in model.config.class_names])


def _to_data_space(probs: np.ndarray, cmap: np.ndarray, n_data: int) -> np.ndarray:
    out = np.zeros((*probs.shape[:-1], n_data + 1), np.float32)
    for j, target in enumerate(cmap):
        out[..., target] += probs[..., j]
    return out


def model_view(model: FERModel, scenes: np.ndarray, faces, masks: np.ndarray | None, cond: Condition,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(crops, occluder masks on them) of `model`: its crop recipe cut from each (occluded) scene, the
    masks resampled onto the crops. `masks` None: `cond` (a half) is drawn on the model's own crops."""
    from fer.face.crop import cut_for, map_to_crop

    cuts = [cut_for(scene, face, model.config) for scene, face in zip(scenes, faces)]
    crops = np.stack([c.image for c in cuts])
    if masks is None:
        return occlude_batch(crops, cond, seed=seed)
    return crops, np.stack([map_to_crop(m, c) for m, c in zip(masks, cuts)])


def _model_name(model: FERModel, i: int, names: Sequence[str] | None) -> str:
    if names is not None:
        return names[i]
    return getattr(model.config, "name", f"model{i}")


def sweep(
    models: Sequence[FERModel],
    samples: Samples,
    conditions: Sequence[Condition] | None = None,
    *,
    model_names: Sequence[str] | None = None,
    pseudo_label_model: int = 0,
    batch_size: int = 32,
    limit: int | None = None,
    seed: int = 0,
    per_class: bool = True,
    progress: bool = True,
) -> SweepResult:
    """Evaluate `models` on `samples` under every condition; returns tidy metric rows.

    Unlabelled samples (labels None) are scored against the clean predictions of
    `models[pseudo_label_model]`.
    """
    if not models:
        raise InputError("give at least one model")
    samples = samples.head(limit)
    if len(samples) == 0:
        raise InputError("the data set has no samples")
    conditions = list(default_conditions() if conditions is None else conditions)
    for c in conditions:
        check_condition(c)
    if not conditions or not conditions[0].is_clean:
        conditions = [Condition("clean", 0.0)] + [c for c in conditions if not c.is_clean]
    names = [_model_name(m, i, model_names) for i, m in enumerate(models)]
    if len(set(names)) != len(names):
        names = [f"{n}#{i}" for i, n in enumerate(names)]
    for m in models:
        m.eval()

    pseudo = samples.labels is None
    data_classes = tuple(models[pseudo_label_model].config.class_names) if pseudo else samples.class_names
    if not data_classes:
        raise InputError("the samples carry labels but no class names")
    maps = [_class_map(m, data_classes) for m in models]
    n, n_data = len(samples), len(data_classes)
    store = {(mi, ci): [] for mi in range(len(models)) for ci in range(len(conditions))}
    cov_store = {key: [] for key in store}  # coverage of the regions each model's heads see
    render_s = model_s = 0.0

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n * len(conditions), desc="robustness", unit="img")
    for start in range(0, n, batch_size):
        stop = min(n, start + batch_size)
        crops = samples.crops[start:stop]
        for ci, cond in enumerate(conditions):
            t0 = time.perf_counter()
            lm = None if samples.landmarks is None else samples.landmarks[start:stop]
            lm68 = None if samples.landmarks68 is None else samples.landmarks68[start:stop]
            faces = None if samples.faces is None else samples.faces[start:stop]
            on_scene = faces is not None and not cond.occluder.startswith(HALF_PREFIX)
            if faces is None or on_scene:
                occluded, masks = occlude_batch(crops, cond, lm, lm68, seed=seed + start, faces=faces)
            else:
                occluded, masks = crops, None  # a half of the model input: drawn on each model's own crop
            t1 = time.perf_counter()
            render_s += t1 - t0
            for mi, model in enumerate(models):
                inputs, model_masks = occluded, masks
                if faces is not None:
                    inputs, model_masks = model_view(model, occluded, faces, masks, cond, seed + start)
                cov_store[(mi, ci)].append(coverage(model_masks, model))
                fused, heads = probs_of_crops(model, inputs, batch_size=batch_size)
                in_data = (_to_data_space(fused, maps[mi], n_data), _to_data_space(heads, maps[mi], n_data))
                store[(mi, ci)].append(in_data)
            model_s += time.perf_counter() - t1
            if bar is not None:
                bar.update(stop - start)
    if bar is not None:
        bar.close()

    preds = {
        k: Predictions(np.concatenate([f for f, _ in v]), np.concatenate([h for _, h in v])) for k, v in store.items()
    }
    covs = {k: np.concatenate(v, 0) for k, v in cov_store.items()}
    if pseudo:
        labels = preds[(pseudo_label_model, 0)].fused_pred.copy()
    else:
        labels = np.asarray(samples.labels, np.int64)
    subsets = [("all", np.ones(n, bool))]
    if per_class:
        subsets += [(c, labels == k) for k, c in enumerate(data_classes) if (labels == k).any()]

    rows = []
    for mi, mname in enumerate(names):
        clean = preds[(mi, 0)]
        for ci, cond in enumerate(conditions):
            for sname, mask in subsets:
                row = {"model": mname, "occluder": cond.occluder, "severity": cond.severity, "class": sname}
                row.update(metric_row(labels, clean, preds[(mi, ci)], covs[(mi, ci)], mask))
                rows.append(row)
    meta = {
        "models": names,
        "heads": {nm: head_names(m.num_heads) for nm, m in zip(names, models)},
        "trained": {nm: bool(getattr(m.config, "trained", False)) for nm, m in zip(names, models)},
        "data": samples.source,
        "num_samples": n,
        "crop_size": samples.size,
        "crops": {nm: (describe_config(m.config) if samples.faces is not None else
                       "the data set's images taken as aligned crops, resized to the model input")
                  for nm, m in zip(names, models)},
        "class_names": list(data_classes),
        "labels": f"pseudo-labels from {names[pseudo_label_model]}" if pseudo else "ground truth",
        "conditions": [c.label for c in conditions],
        "seed": seed,
    }
    timings = {
        "render_s": render_s,
        "model_s": model_s,
        "images": n,
        "conditions": len(conditions),
        "models": len(models),
    }
    return SweepResult(rows, meta, timings)


def _unwrap_model(predictor_or_model) -> FERModel:
    if isinstance(predictor_or_model, FERModel):
        return predictor_or_model
    model = getattr(predictor_or_model, "model", None)
    if isinstance(model, FERModel):
        return model
    raise InputError("sweep_face needs a fer.Predictor or a FERModel")


def sweep_face(
    predictor_or_model,
    aligned_face,
    occluders: Sequence[str] | None = None,
    severities: Sequence[float] = DEFAULT_SEVERITIES,
    blocks: bool = True,
    seed: int = 0,
    batch_size: int = 32,
    photo: np.ndarray | None = None,
):
    """Sweep one aligned face (an `AlignedFace`) -> (rows, plotly figure).

    With `photo` (the RGB photo `aligned_face` was cut from), every occluder is drawn on the photo from
    the face's landmarks and the model's crop recipe then cuts the occluded face, as the Predictor does;
    without it, occluders are drawn on the crop itself.
    One row per condition: the fused prediction, its probability, the probability of the clean
    prediction's class, whether the decision flipped, each head's prediction, region coverage.
    """
    from fer.robustness.report import face_sweep_figure

    model = _unwrap_model(predictor_or_model)
    crop = np.asarray(getattr(aligned_face, "image", aligned_face))
    landmarks = getattr(aligned_face, "landmarks", None)
    lm68 = getattr(aligned_face, "landmarks68", None)
    require_rgb_uint8(crop, "aligned face crop")
    # a bare crop (no landmarks) gets occluders placed on the canonical template
    conds = default_conditions(occluders, severities, blocks)
    images, covs = [], []
    lm = None if landmarks is None else np.asarray(landmarks)[None]
    lm68b = None if lm68 is None else np.asarray(lm68)[None]
    face = getattr(aligned_face, "face", None)
    if photo is not None:
        require_rgb_uint8(photo, "photo")
        if face is None:
            raise InputError("sweeping on the photo needs the AlignedFace the photo was cut to (with its face)")
    for cond in conds:
        if photo is None:
            img, mask = occlude_batch(crop[None], cond, lm, lm68b, seed=seed)
        else:
            half = cond.occluder.startswith(HALF_PREFIX)
            scene, scene_mask = (photo[None], None) if half else occlude_batch(photo[None], cond, seed=seed,
                                                                              faces=[face])
            img, mask = model_view(model, scene, [face], scene_mask, cond, seed)
        images.append(img[0])
        covs.append(coverage(mask, model)[0])
    model.eval()
    fused, probs = probs_of_crops(model, np.stack(images), batch_size=batch_size)  # (K, C), (K, R, C)
    classes = model.config.class_names
    heads = head_names(probs.shape[1])
    clean_cls = int(fused[0].argmax())
    rows = []
    for cond, p, fp, cov in zip(conds, probs, fused, covs):
        pred = int(fp.argmax())
        row = {
            "occluder": cond.occluder,
            "severity": cond.severity,
            "prediction": classes[pred],
            "confidence": float(fp[pred]),
            "clean_class_prob": float(fp[clean_cls]),
            "clean_class_prob_change": float(fp[clean_cls] - fused[0, clean_cls]),
            "flipped": pred != clean_cls,
            "head_agreement": float((p.argmax(1) == pred).mean()),
        }
        for k, h in enumerate(heads):
            row[f"head_{h}"] = classes[int(p[k].argmax())]
        for k, r in enumerate(REGION_NAMES):
            row[f"coverage_{r}"] = float(cov[k])
        rows.append(row)
    return rows, face_sweep_figure(rows, classes[clean_cls])
