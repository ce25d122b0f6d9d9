"""The model card of a published model: Hub YAML front matter (model-index from `fer evaluate`) + Markdown.

The Hub's model-card metadata: `library_name`, `license`, `tags`, `pipeline_tag`, `datasets`,
`metrics` and `model-index` (per result: `task`, `dataset` {type, name, split, config}, `metrics`
[{type, name, value}]). The first paragraph after the title is the card's summary line
(`fer.hub.folder.summary_of`); it says first what the model was trained on.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from fer.hub.folder import CHECKPOINT_NAME, LIBRARY_NAME
from fer.regions import REGION_NAMES

UNTRAINED, SYNTHETIC, TRAINED = "untrained", "synthetic", "trained"
TASK = {"type": "image-classification", "name": "Facial expression recognition"}
_STATUS_LINES = {
    UNTRAINED: "⚠️ **Not trained on expression data**: its weights are random (or only a face-recognition backbone "
    "initialisation), so its predictions mean nothing. Published to show the architecture and the tooling only.",
    SYNTHETIC: "⚠️ **Trained only on SynthFER, procedurally drawn synthetic faces**, not on photos of real people: "
    "it is not a model of real facial expressions. Use it to try the pipeline, not to read faces.",
}


@dataclass
class EvalResult:
    """One `fer evaluate` report (one split or subset of a data set)."""

    dataset: str
    split: str  # "test", or "test:occlusion" for a subset
    n: int
    accuracy: float
    mean_class_accuracy: float | None = None
    per_head_accuracy: dict[str, float] = field(default_factory=dict)
    per_class_accuracy: dict[str, float | None] = field(default_factory=dict)
    locality: dict[str, float] = field(default_factory=dict)  # `locality_figures` of the report's locality entry
    crosstalk: list[list[float]] = field(default_factory=list)  # rows: hidden region, columns: heads
    locality_faces: int = 0
    image: str | None = None  # the confusion-matrix PNG, relative to the published folder


@dataclass
class CardInputs:
    """Everything a card is made of, gathered by `fer.hub.publish`."""

    name: str
    config: dict[str, Any]  # the checkpoint's ModelConfig, as a dict
    options: dict[str, Any]  # every architecture option of the rebuilt model (defaults included)
    family: str
    description: str
    metadata: dict[str, str]  # the checkpoint's extra metadata (training data, epoch, ...)
    status: str
    license: str = "mit"
    repo_id: str | None = None
    results: list[EvalResult] = field(default_factory=list)
    training_config: str | None = None  # file name in the folder, when the run's config was found
    training_data: str = ""
    crop: str = ""  # the crop recipe in words (fer.face.crop.describe_config)


def training_status(config: dict[str, Any], metadata: dict[str, str]) -> str:
    """UNTRAINED, SYNTHETIC (SynthFER only) or TRAINED, from the checkpoint's own records."""
    if not config.get("trained"):
        return UNTRAINED
    text = f"{config.get('provenance', '')} {metadata.get('training_data', '')}".lower()
    return SYNTHETIC if "synthfer" in text or "synthetic" in text else TRAINED


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return round(float(value), 4)


def locality_figures(doc: Any) -> tuple[dict[str, float], list[list[float]]]:
    """({measure: value}, cross-talk matrix) of an evaluation report's `locality` entry, which is
    `fer.robustness.locality`'s `LocalityResult.to_dict()` (as `fer evaluate` and `fer locality --json`
    write it). A one-head model's entry (locality does not apply) gives no figures."""
    if doc is None:
        return {}, []
    try:
        heads = [str(h) for h in doc["columns"]]
        matrix = [[float(v) for v in row] for row in doc["crosstalk"]]
        index, shares, applies = list(doc["locality"]), list(doc.get("cam_share") or []), bool(doc.get("applies", True))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"its locality entry is not in fer locality's format (crosstalk, locality, columns): "
                         f"{exc!r}") from None
    if not applies:
        return {}, []
    figures = {f"locality index {h}": _num(v) for h, v in zip(heads, index)}
    figures.update({f"CAM share {h}": _num(v) for h, v in zip(heads, shares)})
    figures["cross-talk off-diagonal / diagonal"] = _num(doc.get("offdiag_over_diag"))
    return {k: v for k, v in figures.items() if v is not None}, matrix


def dataset_id(name: str) -> str:
    """A Hub-style id for a data set's display name: "SynthFER (synthetic)" -> "synthfer"."""
    return re.sub(r"[^a-z0-9]+", "-", re.sub(r"\(.*?\)", "", name).lower()).strip("-") or "unknown"


def summary_line(inp: CardInputs) -> str:
    if inp.status in _STATUS_LINES:
        return _STATUS_LINES[inp.status]
    data = inp.training_data or "expression data"
    line = f"ALFJ-Net family model `{inp.config['name']}` trained on {data}"
    main = next((r for r in inp.results if ":" not in r.split), None)
    if main is not None:
        line += f": fused accuracy {main.accuracy:.4f} on {main.dataset} {main.split} ({main.n} images)"
    return line + "."


# ----------------------------------------------------------------------------- front matter


def _metrics(r: EvalResult) -> list[dict[str, Any]]:
    rows = [{"type": "accuracy", "name": "fused accuracy", "value": _num(r.accuracy)}]
    rows.append({"type": "accuracy", "name": "mean per-class accuracy", "value": _num(r.mean_class_accuracy)})
    rows += [
        {"type": "accuracy", "name": f"{head} head accuracy", "value": _num(v)}
        for head, v in r.per_head_accuracy.items()
    ]
    rows += [{"type": dataset_id(k).replace("-", "_"), "name": k, "value": v} for k, v in r.locality.items()]
    return [m for m in rows if m["value"] is not None]


def front_matter(inp: CardInputs) -> dict[str, Any]:
    tags = ["facial-expression-recognition", "image-classification", "alfj-net", "pytorch", "safetensors",
            "occlusion-robustness", inp.config["name"]]
    if inp.status == SYNTHETIC:
        tags += ["synthetic-data", "synthfer-only"]
    elif inp.status == UNTRAINED:
        tags.append("untrained")
    datasets = sorted({dataset_id(d) for d in [inp.training_data, *(r.dataset for r in inp.results)] if d})
    meta: dict[str, Any] = {
        "library_name": LIBRARY_NAME,
        "license": inp.license,
        "pipeline_tag": "image-classification",
        "tags": tags,
    }
    if datasets:
        meta["datasets"] = datasets
    results = []
    for r in inp.results:
        base, _, subset = r.split.partition(":")
        dataset = {"type": dataset_id(r.dataset), "name": r.dataset + (f" ({subset} subset)" if subset else ""),
                   "split": base}
        if subset:
            dataset["config"] = subset
        metrics = _metrics(r)
        if metrics:
            results.append({"task": dict(TASK), "dataset": dataset, "metrics": metrics})
    if results:
        meta["metrics"] = ["accuracy"]
        meta["model-index"] = [{"name": inp.repo_id.split("/")[-1] if inp.repo_id else inp.name, "results": results}]
    return meta


# ----------------------------------------------------------------------------- Markdown


def _table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4f}"
        return str(v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(out)


def _evaluation(inp: CardInputs) -> str:
    if not inp.results:
        return (
            "No evaluation report was given to `fer publish --eval`. Evaluate with\n"
            f"`python -m fer evaluate --checkpoint {CHECKPOINT_NAME} --data NAME:ROOT --subset all --out eval`."
        )
    heads = sorted(
        {h for r in inp.results for h in r.per_head_accuracy},
        key=lambda h: list(inp.results[0].per_head_accuracy).index(h) if h in inp.results[0].per_head_accuracy else 99,
    )
    rows = [
        [
            r.dataset,
            r.split,
            r.n,
            _num(r.accuracy),
            _num(r.mean_class_accuracy) or "–",
            *(_num(r.per_head_accuracy.get(h)) or "–" for h in heads),
        ]
        for r in inp.results
    ]
    parts = [
        "Figures from `fer evaluate` (fused = mean of the region heads' softmaxes).\n",
        _table(
            ["data set", "split", "images", "fused acc.", "mean per-class acc.", *(f"{h} head" for h in heads)], rows
        ),
    ]
    loc = [[r.dataset, r.split, k, v] for r in inp.results for k, v in r.locality.items()]
    if loc:
        parts += ["\n**Locality** (`fer locality`: hide the region a head is meant to see with grey and measure the "
                  "change of every head's probabilities; the locality index is the share of a head's change that "
                  "comes from its own region, 1 = local; see the project's docs/locality.md):\n",
                  _table(["data set", "split", "measure", "value"], loc)]
    for r in inp.results:
        if r.crosstalk and r.locality:
            heads = [k.removeprefix("locality index ") for k in r.locality if k.startswith("locality index ")]
            parts += [
                f"\nCross-talk, {r.dataset} {r.split} ({r.locality_faces} images; row = hidden region, "
                "column = head):\n",
                _table(["hidden", *heads], [[g, *row] for g, row in zip(REGION_NAMES, r.crosstalk)]),
            ]
    for r in inp.results:
        classes = [[c, v if v is not None else "–"] for c, v in r.per_class_accuracy.items()]
        if r.image or classes:
            parts.append(f"\n### {r.dataset} {r.split}\n")
        if r.image:
            parts.append(f"![confusion matrix, {r.dataset} {r.split}]({r.image})\n")
        if classes:
            parts.append(_table(["class", "accuracy"], classes))
    return "\n".join(parts)


def _crop_recipe(inp: CardInputs) -> str:
    config = inp.config
    pp = config.get("preprocess", {})
    lines = [f"{inp.crop[:1].upper()}{inp.crop[1:]}." if inp.crop else "No crop recipe is recorded in the checkpoint."]
    found = {k: v for k, v in config.items() if "crop" in k.lower() and v not in (None, "", {})}
    if found:
        lines.append(
            "\nAs stored in the checkpoint:\n\n```yaml\n" + yaml.safe_dump(found, sort_keys=False).strip() + "\n```"
        )
    lines.append(
        f"\nThe crop ({pp.get('input_size')}×{pp.get('input_size')}{', grey' if pp.get('grayscale') else ''}) is "
        f"normalised with mean {list(pp.get('mean', []))}, std {list(pp.get('std', []))} "
        "(x = (rgb / 255 - mean) / std). "
        "`fer.Predictor` detects the faces and applies the recipe itself."
    )
    return "\n".join(lines)


def _training(inp: CardInputs) -> str:
    lines = [f"- Provenance (from the checkpoint): {inp.config.get('provenance', '')}"]
    for key, value in inp.metadata.items():
        lines.append(f"- {key}: `{value}`")
    command = inp.metadata.get("command") or inp.metadata.get("train_command")
    if command:
        lines.append(f"\nThe run's own command:\n\n```bash\n{command}\n```")
    if inp.training_config:
        lines.append(f"\nThe run's resolved config is [`{inp.training_config}`]({inp.training_config}); to train "
                     f"again (set `data.root` to your copy of the data set):\n\n```bash\n"
                     f"python -m fer train --config {inp.training_config} --out runs/{dataset_id(inp.name)}\n```")
    elif not command:
        lines.append("\nNo training config was found beside the checkpoint (a `fer train` run writes `config.yaml` "
                     "into its output folder).")
    return "\n".join(lines)


def _how_to_load(inp: CardInputs) -> str:
    repo = inp.repo_id or "USER/REPO"
    return f"""Install alfj-fer (`bash scripts/install.sh` in its repository), then, with this repository
downloaded into a folder (`hf download {repo} --local-dir {dataset_id(inp.name)}`):

```python
import fer
predictor = fer.Predictor("{dataset_id(inp.name)}")   # the folder; its {CHECKPOINT_NAME} also works
for face in predictor("photo.jpg"):
    print(face.label, face.probs, face.head_probs)  # head order: top-left, top-right, bottom-left, bottom-right
```

```bash
python -m fer predict photo.jpg --checkpoint {dataset_id(inp.name)}
FER_WEIGHTS={dataset_id(inp.name)} python app.py      # the demo, offline
FER_HUB_REPO={repo} python app.py          # the demo (or a Space: set the variable FER_HUB_REPO)
```

The Space fetches `FER_HUB_REPO` only when the Hub is reachable (`HF_HUB_OFFLINE` unset); its model picker
shows this card's first line as the model's provenance."""


def render_card(inp: CardInputs) -> str:
    """The whole README.md: front matter, then the Markdown card."""
    warning = {
        UNTRAINED: "# NOT TRAINED ON EXPRESSION DATA: predictions are meaningless\n",
        SYNTHETIC: "# TRAINED ONLY ON SYNTHETIC SynthFER FACES: not a model of real expressions\n",
    }.get(inp.status, "")
    meta = yaml.safe_dump(front_matter(inp), sort_keys=False, allow_unicode=True)
    config_yaml = yaml.safe_dump(json.loads(json.dumps(inp.config)), sort_keys=False, allow_unicode=True).strip()
    options = [[k, json.dumps(v)] for k, v in inp.options.items()]
    classes = ", ".join(f"{i}: {c}" for i, c in enumerate(inp.config.get("class_names", [])))
    return f"""---
{warning}{meta}---

# {inp.name}

{summary_line(inp)}

Model `{inp.config['name']}` ({inp.family}): {inp.description}. Made with alfj-fer, the implementation of
"Attention-Guided Local Feature Joint Learning for Facial Expression Recognition" (ALFJ-Net): ResNet trunk
(stem + stages 1-3), ECA enhancement, the feature map split 2×2, per-region stage 4 + CBAM attention + a
classifier each, joint loss over the four heads, fusion = mean of the heads' softmaxes.

## Evaluation

{_evaluation(inp)}

## Architecture

Classes (output order): {classes}.

{_table(["option", "value"], options) if options else "No architecture options (a fixed reference model)."}

Every field of the checkpoint's config, as stored in `{CHECKPOINT_NAME}`'s metadata:

```yaml
{config_yaml}
```

## Crop recipe and preprocessing

{_crop_recipe(inp)}

## Training

{_training(inp)}

## How to load

{_how_to_load(inp)}

## Limitations

Expression labels are a coarse, culturally loaded reading of faces; accuracy on one data set does not carry
over to other people, cameras or settings. The four heads see parts of a feature map that already mixes the
whole face (see the project's benchmarks), so a head's vote is not evidence about one region alone. The licence
above covers these files; the training data's own terms (e.g. RAF-DB's, research use only) may restrict the weights.
"""


def options_of(model: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Every architecture option of a rebuilt model (its options dataclass), else the config's `arch`."""
    options = getattr(model, "options", None)
    if dataclasses.is_dataclass(options):
        return dataclasses.asdict(options)
    return dict(config.get("arch") or {})
