"""Foreign face-recognition weights: reading them safely, mapping them onto a backbone, the catalogue.

* torchvision-style ResNet state dicts (`conv1`, `bn1`, `layer1..4`, any `fc`), bare or inside a
  `state_dict` / `model` wrapper, with or without `module.` prefixes (e.g. resnet18_msceleb.pth).
* VGGFace2 `resnet50_ft_weight.pkl`: a Python pickle of numpy arrays with torchvision names. It is
  read by an unpickler that accepts numpy arrays, dtypes and plain containers only. Its Caffe
  layout (stride on the bottleneck's first 1x1 conv; stem max pool padding 0, ceil_mode) is
  applied to the model, and by default conv1 is flipped BGR->RGB and the preprocessing set to
  VGGFace2's (0..255 minus the BGR mean), so the pretrained features see the input they expect.
* face.evoLVe IR-50 (`input_layer.*`, `body.0..23.*`, `output_layer.*`), for `alfj_ir50`.

Which names go where is each backbone's own key map (`fer.models.backbones.BACKBONE_SPECS`); stage-4
weights go into every per-region copy of stage 4. Any pickle other than the VGGFace2 one is opened with
`torch.load(weights_only=True)` only. The project's own format is `fer.models.checkpoint`.
"""

from __future__ import annotations

import glob
import logging
import os
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open

from fer.errors import CheckpointError
from fer.models.backbones import apply_caffe_resnet_layout, backbone_spec
from fer.models.base import FERModel, Preprocess
from fer.models.checkpoint import check_file

log = logging.getLogger(__name__)

VGGFACE2_MEAN_BGR = (91.4953, 103.8827, 131.0912)  # VGGFace2 resnet50_ft.prototxt, on 0..255 BGR input


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Accepts numpy arrays, dtypes, scalars and plain containers; refuses every other global."""

    def find_class(self, module: str, name: str) -> Any:
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name in ("_reconstruct", "scalar"):
            from numpy._core import multiarray

            return getattr(multiarray, name)
        if (module, name) == ("numpy", "ndarray"):
            return np.ndarray
        if (module, name) == ("numpy", "dtype"):
            return np.dtype
        if (module, name) == ("collections", "OrderedDict"):
            from collections import OrderedDict

            return OrderedDict
        if (module, name) == ("_codecs", "encode"):  # how Python 3 pickles bytes at protocol 2
            import codecs

            return codecs.encode
        raise pickle.UnpicklingError(
            f"refused to load {module}.{name}: only numpy arrays and plain containers are accepted"
        )


def _load_numpy_pickle(path: Path) -> Any:
    with open(path, "rb") as f:
        return _NumpyOnlyUnpickler(f, encoding="latin1").load()


def read_foreign_state_dict(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], str]:
    """Read tensors from a foreign checkpoint safely. Returns (flat state dict, container kind).

    Container kinds: "safetensors", "torch" (torch.load with weights_only=True), "numpy-pickle".
    Wrappers (`state_dict`, `model`, ...) are unwrapped and `module.` prefixes stripped.
    """
    path = Path(path)
    check_file(path)
    if path.suffix == ".safetensors":
        try:
            with safe_open(str(path), framework="pt", device="cpu") as f:
                obj: Any = {k: f.get_tensor(k) for k in f.keys()}
        except Exception as exc:
            raise CheckpointError(f"{path} is truncated or not a valid safetensors file: {exc}") from exc
        kind = "safetensors"
    else:
        try:
            obj, kind = torch.load(path, map_location="cpu", weights_only=True), "torch"
        except Exception as torch_exc:
            if zipfile.is_zipfile(path):
                raise CheckpointError(f"refused or unreadable PyTorch file {path}: {torch_exc}") from torch_exc
            try:
                obj, kind = _load_numpy_pickle(path), "numpy-pickle"
            except pickle.UnpicklingError as exc:
                raise CheckpointError(f"refused to load {path}: {exc}") from exc
            except Exception as exc:
                raise CheckpointError(
                    f"{path} is not a readable checkpoint (truncated or unknown format): {exc}"
                ) from exc
    return _flatten_state_dict(obj, path), kind


def _flatten_state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    for _ in range(3):  # unwrap {"state_dict": {...}} and similar training checkpoints
        if isinstance(obj, dict):
            for key in ("state_dict", "model_state_dict", "model", "net", "backbone"):
                if isinstance(obj.get(key), dict):
                    obj = obj[key]
                    break
            else:
                break
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path} does not hold a state dict (found {type(obj).__name__})")
    out: dict[str, torch.Tensor] = {}
    for key, value in obj.items():
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                continue
            value = torch.from_numpy(np.ascontiguousarray(value))
        if not isinstance(value, torch.Tensor):
            continue
        key = str(key)
        while key.startswith("module."):
            key = key[len("module.") :]
        out[key] = value
    if not out:
        raise CheckpointError(f"{path} holds no tensors")
    return out


# ----------------------------------------------------------------------------- backbone initialisation

LAYOUTS = ("torchvision", "vggface2", "ir50")


@dataclass
class LoadReport:
    """What `load_backbone_weights` did (logged at INFO level when `verbose`).

    Keys in `loaded`/`missing`/`new_modules` are the model's.
    """

    source: str
    layout: str
    loaded: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # source key -> reason
    missing: list[str] = field(default_factory=list)  # backbone tensors the source did not provide
    new_modules: list[str] = field(default_factory=list)  # ECA, CBAM, heads: not in any backbone
    adjustments: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"backbone weights from {self.source} (layout: {self.layout})",
            f"  loaded: {len(self.loaded)} tensors",
            f"  skipped: {len(self.skipped)} source tensors",
        ]
        lines += [f"    {k}: {why}" for k, why in list(self.skipped.items())[:20]]
        if len(self.skipped) > 20:
            lines.append(f"    ... and {len(self.skipped) - 20} more")
        lines.append(f"  missing backbone tensors (left as initialised): {len(self.missing)}")
        lines += [f"    {k}" for k in self.missing[:20]]
        lines.append(f"  new modules, trained from scratch: {len(self.new_modules)} tensors")
        lines += [f"  adjusted: {a}" for a in self.adjustments]
        return "\n".join(lines)


def detect_layout(state: dict[str, torch.Tensor], container: str) -> str:
    keys = list(state)
    if any(k.startswith(("input_layer.", "body.")) for k in keys):
        return "ir50"
    if "conv1.weight" in state or any(k.startswith("layer1.") for k in keys):
        return "vggface2" if container == "numpy-pickle" else "torchvision"
    raise CheckpointError(
        f"unrecognised backbone layout (first keys: {keys[:5]}); expected torchvision ResNet, VGGFace2 or IR-50 names"
    )


def _switch_to_vggface2(model: FERModel, state: dict[str, torch.Tensor], match_preprocess: bool) -> list[str]:
    notes = []
    if not model.options.caffe_resnet:
        apply_caffe_resnet_layout(model.trunk, model.local_stages)
        model.options.caffe_resnet = True
        model.config.arch["caffe_resnet"] = True
        notes.append(
            "Caffe layout: stride moved to each downsampling bottleneck's 1x1 conv; max pool padding 0, ceil_mode"
        )
    if match_preprocess and "conv1.weight" in state:
        state["conv1.weight"] = state["conv1.weight"].flip(1)  # the model receives RGB; Caffe expected BGR
        mean_rgb = tuple(m / 255.0 for m in reversed(VGGFACE2_MEAN_BGR))
        old = model.config.preprocess
        model.config.preprocess = Preprocess(old.input_size, mean_rgb, (1 / 255.0,) * 3, old.grayscale, old.face_scale)
        notes.append("conv1 flipped BGR->RGB; preprocess set to VGGFace2's (0..255 input minus its channel mean)")
    return notes


def load_backbone_weights(
    model: FERModel,
    source: str | os.PathLike | dict[str, torch.Tensor],
    layout: str = "auto",
    match_preprocess: bool = True,
    verbose: bool = True,
) -> LoadReport:
    """Copy face-recognition backbone weights into an ALFJ-Net family model (trunk + every stage-4 copy).

    Tensors are matched by name and shape; everything else is reported, never silently dropped.
    Raises CheckpointError when nothing matches (a backbone of another architecture).
    """
    if not all(hasattr(model, a) for a in ("trunk", "local_stages", "options")):
        raise CheckpointError(f"backbone initialisation applies to ALFJ-Net family models, not {type(model).__name__}")
    if isinstance(source, dict):
        state, container, name = _flatten_state_dict(dict(source), Path("<state dict>")), "dict", "<state dict>"
    else:
        state, container = read_foreign_state_dict(source)
        name = str(source)
    state = dict(state)
    if layout == "auto":
        layout = detect_layout(state, container)
    if layout not in LAYOUTS:
        raise CheckpointError(f"layout must be 'auto' or one of {LAYOUTS}, got {layout!r}")
    backbone = model.options.backbone
    spec = backbone_spec(backbone)
    if layout not in spec.layouts:
        raise CheckpointError(f"{name} is a {layout} backbone; it does not fit a model with backbone {backbone!r}")

    report = LoadReport(source=name, layout=layout)
    if layout == "vggface2":
        report.adjustments = _switch_to_vggface2(model, state, match_preprocess)

    own = model.state_dict()
    n_stages = len(model.local_stages)
    with torch.no_grad():
        for key, value in state.items():
            targets = spec.key_map(key, n_stages)
            if isinstance(targets, str):
                report.skipped[key] = targets
                continue
            for target in targets:
                if target not in own:
                    report.skipped[key] = f"no tensor {target} in the model"
                elif own[target].shape != value.shape:
                    report.skipped[key] = f"shape {tuple(value.shape)} != model {tuple(own[target].shape)}"
                else:
                    own[target].copy_(value.to(own[target].dtype))
                    report.loaded.append(target)
    if not report.loaded:
        raise CheckpointError(f"no tensor of {name} fits the model {model.config.name!r}: {report}")
    loaded = set(report.loaded)
    for key in own:
        if key.endswith("num_batches_tracked") or key in loaded:
            continue
        (report.missing if key.startswith(("trunk.", "local_stages.")) else report.new_modules).append(key)
    model.config.provenance = (
        f"backbone initialised from {Path(name).name} ({layout} layout, {len(loaded)} tensors); "
        "other modules randomly initialised; not trained on expression data"
    )
    if verbose:
        log.info("%s", report)
    return report


# ----------------------------------------------------------------------------- known init options


@dataclass(frozen=True)
class PretrainedInit:
    name: str
    patterns: tuple[str, ...]  # file name globs
    layout: str
    backbones: tuple[str, ...]
    description: str


PRETRAINED_INITS: tuple[PretrainedInit, ...] = (
    PretrainedInit(
        "resnet18_msceleb", ("resnet18_msceleb.pth",), "torchvision", ("resnet18",),
        "ResNet-18 trained for face recognition on MS-Celeb-1M (the file DAN and SCN use)",
    ),
    PretrainedInit(
        "vggface2_resnet50_ft", ("resnet50_ft_weight.pkl",), "vggface2", ("resnet50",),
        "ResNet-50 pre-trained on MS-Celeb-1M, fine-tuned on VGGFace2 (cydonia999/VGGFace2-pytorch pickle)",
    ),
    PretrainedInit(
        "ir50_ms1m", ("backbone_ir50_ms1m*.pth", "ir50*.pth", "*IR_50*.pth"), "ir50", ("ir50",),
        "face.evoLVe IR-50 trained on MS-Celeb-1M (112x112; used by POSTER and APViT)",
    ),
    PretrainedInit(
        "imagenet_torchvision", ("resnet18-*.pth", "resnet50-*.pth"), "torchvision", ("resnet18", "resnet50"),
        "torchvision ImageNet weights (not face-specific; a weaker starting point)",
    ),
)


def default_weight_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("FER_WEIGHTS_DIR", "").split(os.pathsep) if p]
    dirs.append(Path(torch.hub.get_dir()) / "checkpoints")
    return dirs


def list_pretrained_inits(search_dirs: list[str | os.PathLike] | None = None) -> list[dict[str, Any]]:
    """Supported backbone initialisations, each with the local files found for it (nothing is downloaded).

    Searches `search_dirs`, default: $FER_WEIGHTS_DIR (path list) and torch hub's checkpoints folder.
    """
    dirs = [Path(d) for d in search_dirs] if search_dirs is not None else default_weight_dirs()
    rows = []
    for init in PRETRAINED_INITS:
        found = sorted({m for d in dirs for p in init.patterns for m in glob.glob(str(Path(d) / p))})
        rows.append(
            {
                "name": init.name,
                "layout": init.layout,
                "backbones": list(init.backbones),
                "description": init.description,
                "files": found,
            }
        )
    return rows
