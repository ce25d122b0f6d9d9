"""Evaluation: per-head and fused accuracy, mean per-class accuracy, confusion matrix, reports.

`predict(model, data)` runs a model over a `LabeledSet`; `metrics(head_logits, labels, names)`
turns the logits into the figures; `evaluate(..., locality_limit=N)` adds the heads' locality
(`fer.robustness.locality`) on the first N images; `write_report(...)` writes JSON, a plotly HTML confusion
matrix and a PNG drawn with OpenCV (no kaleido/browser needed).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch

from fer.atomic import atomic_write_bytes
from fer.data.base import LabeledSet, TorchImages
from fer.models.base import FERModel
from fer.regions import head_names


def predict(model: FERModel, data: LabeledSet, batch_size: int = 128, device: str | torch.device = "cpu",
            workers: int = 0, progress: bool = False, channels_last: bool = False,
            return_probs: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Head logits (N, R, C) as float32 numpy, in the data set's order; with `return_probs`, also
    the model's fused probabilities (N, C) (`ModelOutput.probs`: for a reference model, its own
    classifier's output rather than the mean of the head softmaxes). The loop is the Predictor's
    (`fer.predictor.infer_batches`), on the model's own device (`device` is kept for callers; the
    batches follow the model)."""
    from fer.predictor import infer_batches

    model.eval()
    ds = TorchImages(data, model.config.preprocess)
    dl = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=workers)
    it = dl
    if progress:
        from tqdm import tqdm

        it = tqdm(dl, desc=f"eval {data.name} {data.split}", leave=False)
    out = infer_batches(model, (x for x, _ in it), channels_last=channels_last)
    return (out.head_logits, out.probs) if return_probs else out.head_logits


def confusion(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows = true class, columns = predicted class."""
    cm = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(cm, (labels.astype(np.int64), pred.astype(np.int64)), 1)
    return cm


def metrics(head_logits: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...] | list[str],
            fused: np.ndarray | None = None) -> dict:
    """Accuracy figures of the fused prediction and of each head. The fused probabilities are
    `fused` when given (the model's own `ModelOutput.probs`), else the mean of the head softmaxes."""
    c = len(class_names)
    if fused is None:
        z = head_logits - head_logits.max(-1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(-1, keepdims=True)
        fused = p.mean(1)
    pred = fused.argmax(1)
    cm = confusion(pred, labels, c)
    support = cm.sum(1)
    per_class = np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)
    r = head_logits.shape[1]
    names = head_names(r)
    per_head = {
        names[k]: float((head_logits[:, k].argmax(1) == labels).mean()) if len(labels) else float("nan")
        for k in range(r)
    }
    n = int(len(labels))
    acc = float((pred == labels).mean()) if n else float("nan")
    return {
        "n": n,
        "accuracy": acc,
        "fused_accuracy": acc,
        "mean_class_accuracy": float(np.nanmean(per_class)) if np.any(support > 0) else float("nan"),
        "per_class_accuracy": {name: (None if np.isnan(v) else float(v)) for name, v in zip(class_names, per_class)},
        "per_head_accuracy": per_head,
        "confusion_matrix": cm.tolist(),
        "class_names": list(class_names),
    }


def evaluate(model: FERModel, data: LabeledSet, locality_limit: int = 0, **kw) -> dict:
    """`metrics` of `model` on `data`, with the data set's name; `locality_limit` > 0 adds a `locality`
    entry: `fer.robustness.locality.of_dataset` on the first that many images (`LocalityResult.to_dict()`,
    the format of `fer locality --json`)."""
    if (
        data.class_names != tuple(model.config.class_names[: len(data.class_names)])
        or len(data.class_names) != model.config.num_classes
    ):
        from fer.errors import DatasetError

        raise DatasetError(
            f"the data set's classes {list(data.class_names)} do not match the model's "
            f"{list(model.config.class_names)}; "
            "choose the matching number of classes (e.g. --num-classes 7)"
        )
    logits, fused = predict(model, data, return_probs=True, **kw)
    m = metrics(logits, data.labels, data.class_names, fused)
    m["dataset"] = {"name": data.name, "split": data.split, "source": data.source}
    if locality_limit and len(data):
        from fer.robustness.locality import of_dataset

        m["locality"] = of_dataset(model, data, locality_limit, batch_size=kw.get("batch_size", 32)).to_dict()
    return m


# ---------------------------------------------------------------- report files
def confusion_png(cm: np.ndarray, class_names, title: str = "") -> np.ndarray:
    """Row-normalised confusion matrix drawn with OpenCV, RGB uint8."""
    cm = np.asarray(cm, np.float64)
    c = len(class_names)
    rown = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    cell, left, top = 64, 110, 60
    w, h = left + c * cell + 20, top + c * cell + 100
    img = np.full((h, w, 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, title[:60], (10, 24), font, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    for i in range(c):
        for j in range(c):
            v = rown[i, j]
            col = (int(255 - 200 * v), int(255 - 140 * v), int(255 - 40 * v))  # white -> blue (RGB)
            x0, y0 = left + j * cell, top + i * cell
            cv2.rectangle(img, (x0, y0), (x0 + cell - 1, y0 + cell - 1), col, -1)
            txt_col = (255, 255, 255) if v > 0.55 else (0, 0, 0)
            cv2.putText(img, f"{v:.2f}", (x0 + 10, y0 + 28), font, 0.5, txt_col, 1, cv2.LINE_AA)
            cv2.putText(img, f"{int(cm[i, j])}", (x0 + 10, y0 + 48), font, 0.4, txt_col, 1, cv2.LINE_AA)
        cv2.putText(img, str(class_names[i])[:12], (4, top + i * cell + 36), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    for j in range(c):
        x, y = left + j * cell + 8, top + c * cell + 14
        cv2.putText(img, str(class_names[j])[:9], (x - 6, y + (j % 2) * 16), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, "rows: true class, columns: predicted", (10, h - 16), font, 0.45, (60, 60, 60), 1, cv2.LINE_AA)
    return img


def confusion_html(cm: np.ndarray, class_names, title: str = "") -> str:
    import plotly.graph_objects as go

    cm = np.asarray(cm, np.float64)
    rown = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    text = [
        [f"{rown[i, j]:.2f}<br>({int(cm[i, j])})" for j in range(len(class_names))] for i in range(len(class_names))
    ]
    fig = go.Figure(
        go.Heatmap(
            z=rown,
            x=list(class_names),
            y=list(class_names),
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"title": "row share"},
        )
    )
    fig.update_layout(
        title=title, xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed", width=720, height=640
    )
    return fig.to_html(include_plotlyjs=True, full_html=True)


def write_report(report: dict, out_dir: str | Path, stem: str = "report") -> dict[str, str]:
    """Write `<stem>.json`, `<stem>_confusion.html` and `<stem>_confusion.png`; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ds = report.get("dataset", {})
    title = f"{ds.get('name', '')} {ds.get('split', '')}: fused acc {report['accuracy']:.3f}"
    paths = {"json": out / f"{stem}.json", "html": out / f"{stem}_confusion.html", "png": out / f"{stem}_confusion.png"}
    atomic_write_bytes(paths["json"], (json.dumps(report, indent=2) + "\n").encode())
    atomic_write_bytes(paths["html"], confusion_html(report["confusion_matrix"], report["class_names"], title).encode())
    png = confusion_png(np.array(report["confusion_matrix"]), report["class_names"], title)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(png, cv2.COLOR_RGB2BGR))
    atomic_write_bytes(paths["png"], buf.tobytes())
    return {k: str(v) for k, v in paths.items()}
