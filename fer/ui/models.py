"""The demo's model picker: which models can be offered, where their weights come from, and loading.

Offered, in this order:
1. ALFJ-Net (or any project) checkpoints: `.safetensors` files given with `--weights` or
   `FER_WEIGHTS` (a file, or a folder searched recursively; several separated by `os.pathsep`),
   and from the Hugging Face Hub repo `FER_HUB_REPO` when the Hub is reachable
   (`HF_HUB_OFFLINE` unset). A checkpoint is labelled trained only when its own metadata says so.
2. The offline reference models (pretrained classifiers shipped with the package), always.
3. Optionally the untrained ALFJ-Net architectures (`UNTRAINED_MODELS`: the paper's split, the split after
   stage 2 and the input split), labelled "untrained (random weights)", for looking at the architecture
   (four heads, CAMs, cross-talk) only; never presented as a prediction to trust.

The bank maps picker labels to `fer.Predictor`s; a Predictor holds no model, the process-wide bounded
cache does (`fer.models.cache`, a few models at most, loading serialised by a lock), so switching
between more models than the cache keeps releases the least recently used one.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from fer.errors import FERError, ModelNotFoundError

log = logging.getLogger(__name__)

UNTRAINED_NOTE = "untrained (random weights) – for architecture demo only"
UNTRAINED_MODELS = ("alfj_resnet18", "alfj_split2_resnet18", "alfj_patch_resnet18")  # the paper's split, then the
# two earlier splits of docs/locality.md, so the demo shows every architecture's heads and cross-talk
UNAVAILABLE: dict[str, str] = {}  # checkpoint path -> why it is not offered (from the last discovery)


@dataclass(frozen=True)
class ModelChoice:
    """One entry of the model picker."""

    label: str  # what the dropdown shows (unique)
    source: str  # a registered model name, or a checkpoint path
    kind: str  # "checkpoint" | "hub" | "reference" | "untrained"
    trained: bool
    provenance: str


def _checkpoint_files(spec: str) -> list[Path]:
    files: list[Path] = []
    for part in filter(None, (p.strip() for p in spec.split(os.pathsep))):
        path = Path(part).expanduser()
        try:
            if path.is_file() and path.suffix == ".safetensors":
                files.append(path)
            elif path.is_dir():
                files.extend(sorted(p for p in path.rglob("*.safetensors") if not p.is_dir()))
            else:
                _unavailable(path, "not a .safetensors file or a folder")
        except OSError as exc:  # unreadable folder, a name too long, ...
            _unavailable(path, f"cannot be read ({exc.strerror or exc})")
    return files


def _unavailable(path: Path, reason: str) -> None:
    log.warning("FER_WEIGHTS / --weights: %s skipped: %s", path, reason)
    UNAVAILABLE[str(path)] = reason


def _checkpoint_choice(path: Path, kind: str) -> ModelChoice | None:
    from fer.hub.folder import resolve_published
    from fer.models.checkpoint import read_checkpoint_config

    try:
        config = read_checkpoint_config(path)  # reads the header only, not the tensors
        published = resolve_published(path)  # a published folder's card gives the summary line
    except FERError as exc:
        _unavailable(path, str(exc))
        return None
    except Exception as exc:  # noqa: BLE001 - whatever is wrong with one file, the demo starts without it
        _unavailable(path, f"unreadable ({type(exc).__name__}: {exc})")
        return None
    from fer.models import list_models

    if config.name not in list_models():  # cheap here; tensors and options are checked when it is loaded
        _unavailable(path, f"model {config.name!r} is not a registered model")
        return None
    trained, name, provenance = bool(config.trained), config.name, config.provenance
    status = "trained" if trained else UNTRAINED_NOTE
    if trained and "synthfer" in provenance.lower():  # never let a synthetic-data model pass for a real one
        status = "trained on synthetic SynthFER faces only"
    shown = published.folder.name if published.summary and kind != "hub" else path.name
    return ModelChoice(f"{name} · {shown} ({status})", str(path), kind, trained, published.summary or provenance)


def _hub_files(repo: str) -> list[Path]:
    """Checkpoint files of a Hub repo, downloaded (or taken from the local cache) when online."""
    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False"):
        log.info("HF_HUB_OFFLINE is set: not fetching FER_HUB_REPO=%s", repo)
        return []
    try:
        from huggingface_hub import snapshot_download

        folder = snapshot_download(repo, allow_patterns=["*.safetensors", "*.md", "NOTICE*"], etag_timeout=10)
    except Exception as exc:  # noqa: BLE001 - the Hub is optional; the demo works without it
        log.warning("could not fetch checkpoints from the Hub repo %s: %s", repo, exc)
        return []
    return sorted(Path(folder).rglob("*.safetensors"))


def _reference_choices() -> list[ModelChoice]:
    from fer.models import list_models, model_entry

    out = []
    for name in list_models(family="reference"):
        entry = model_entry(name)
        out.append(ModelChoice(f"{name} (pretrained reference)", name, "reference", True, entry.description))
    return out


def discover_models(weights: str | None = None, include_untrained: bool = True) -> list[ModelChoice]:
    """Every model the demo can offer right now (see the module docstring for the order)."""
    choices: list[ModelChoice] = []
    UNAVAILABLE.clear()
    spec = os.pathsep.join(filter(None, [weights, os.environ.get("FER_WEIGHTS", "")]))
    for path in _checkpoint_files(spec):
        choice = _checkpoint_choice(path, "checkpoint")
        if choice:
            choices.append(choice)
    repo = os.environ.get("FER_HUB_REPO", "").strip()
    if repo:
        for path in _hub_files(repo):
            choice = _checkpoint_choice(path, "hub")
            if choice:
                choices.append(dataclasses.replace(choice, label=f"{choice.label} [hub: {repo}]"))
    choices.extend(_reference_choices())
    if include_untrained:
        from fer.models import list_models

        known = list_models()
        choices += [
            ModelChoice(f"{name} – {UNTRAINED_NOTE}", name, "untrained", False,
                        "randomly initialised; never trained on expression data: its predictions mean nothing")
            for name in UNTRAINED_MODELS if name in known
        ]
    # trained checkpoints first, then reference models, then anything untrained
    choices.sort(key=lambda c: 1 if c.kind == "reference" else (0 if c.trained else 2))  # stable
    seen: set[str] = set()
    unique = []
    for c in choices:
        if c.label not in seen:
            seen.add(c.label)
            unique.append(c)
    return unique


def default_choice(choices: list[ModelChoice]) -> ModelChoice:
    """A trained checkpoint when there is one, else the first reference model."""
    if not choices:
        raise ModelNotFoundError("No model is available: no checkpoint was given and no reference model is installed.")
    for c in choices:
        if c.trained:
            return c
    return choices[0]


class ModelBank:
    """The picker's labels → their sources, and one `fer.Predictor` per label (thread-safe).

    The Predictors are light (a source and settings); their models live in the bounded cache of
    `fer.models.cache`, loaded on first use and released when evicted.
    """

    def __init__(self, choices: list[ModelChoice]) -> None:
        self.choices = {c.label: c for c in choices}
        self._predictors: dict[str, object] = {}
        self._lock = threading.Lock()

    def choice(self, label: str | None) -> ModelChoice:
        if not label or label not in self.choices:
            raise ModelNotFoundError(f"Unknown model {label!r}; pick one of: {', '.join(self.choices)}.")
        return self.choices[label]

    def get(self, label: str | None):
        """The `fer.Predictor` of a picker entry (its model loaded now if the cache does not hold it)."""
        choice = self.choice(label)
        with self._lock:
            predictor = self._predictors.get(choice.label)
            if predictor is None:
                predictor = _load(choice)
                self._predictors[choice.label] = predictor
        predictor.model  # noqa: B018 - (re)load into the cache now, under the cache's own lock
        return predictor


def _load(choice: ModelChoice):
    """A `fer.Predictor` for a picker entry (a registered model name or a checkpoint path)."""
    from fer import Predictor

    log.info("loading model %s from %s", choice.label, choice.source)
    return Predictor(choice.source)


def unavailable_markdown() -> str:
    """The checkpoints given with --weights / FER_WEIGHTS that are not offered, and why ('' when none)."""
    if not UNAVAILABLE:
        return ""
    rows = [f"- `{Path(p).name}`: {why[:200]}" for p, why in list(UNAVAILABLE.items())[:100]]
    return "Checkpoints not offered (unavailable):\n" + "\n".join(rows)


def provenance_markdown(choice: ModelChoice, predictor=None) -> str:
    """Plain-language description of where a model's weights come from."""
    config = getattr(getattr(predictor, "model", None), "config", None)
    lines = []
    if choice.kind == "untrained":
        lines.append("⚠️ **Untrained (random weights) – for architecture demo only.** Its predictions mean nothing.")
    elif not choice.trained:
        lines.append("⚠️ **This checkpoint is not marked as trained**; treat its predictions as meaningless.")
    elif choice.kind == "reference":
        lines.append(
            "**Pretrained reference classifier, not ALFJ-Net.** Its four region votes are one classifier read out "
            "on each quadrant of its last feature map; its fused prediction is the classifier's own output."
        )
    else:
        lines.append("**Trained checkpoint** (as recorded in its metadata).")
    own = choice.provenance if choice.kind in ("checkpoint", "hub") else None  # a published card's summary
    provenance = own or getattr(config, "provenance", None) or choice.provenance
    lines.append(f"Provenance: {provenance}")
    if config is not None:
        pp = config.preprocess
        lines.append(
            f"Model `{config.name}` · {len(config.class_names)} classes · input {pp.input_size}×{pp.input_size}"
            f"{' grey' if pp.grayscale else ' RGB'} · source `{Path(choice.source).name}`"
        )
        from fer.face.crop import describe_config

        lines.append(f"The model sees its own crop — {describe_config(config)}.")
    if unavailable_markdown():
        lines.append(unavailable_markdown())
    return "\n\n".join(lines)
