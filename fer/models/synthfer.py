"""Small ALFJ-Net family checkpoints trained on SynthFER (synthetic faces only), shipped in fer/weights/.

`<architecture>_synthfer` (e.g. `alfj_resnet18_half_synthfer`) is the registered architecture
with the weights `benchmarks/synthfer_learning.py` trained on SynthFER's cartoon faces (64 px,
half-width ResNet-18, stored in half precision; see fer/weights/NOTICE-synthfer.md for the exact
commands). They are for exploring locality on data whose answer is known (the demo's SynthFER
lab), never a model of real expressions: their provenance says "trained on synthetic SynthFER
faces only", and the demo labels them so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fer.errors import CheckpointError, ModelNotFoundError
from fer.models.base import FERModel
from fer.models.registry import register_model

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
SUFFIX = "_synthfer"
# shipped name -> what it is (the architecture is the name without the suffix)
SYNTHFER_MODELS = {
    "base_resnet18_half_synthfer": "base model (one head)",
    "alfj_resnet18_half_synthfer": "paper ALFJ-Net (split of the stage-3 map)",
    "alfj_patch_resnet18_half_synthfer": "input split (each image quadrant through the trunk alone: exactly local)",
}
SYNTHFER_NOTE = "trained on synthetic SynthFER faces only"


def weights_path(name: str) -> Path:
    return WEIGHTS_DIR / f"{name}.safetensors"


def load_synthfer(name: str, num_classes: int = 7, **arch: Any) -> FERModel:
    """The shipped model `name`, in float32 and eval mode. `arch`, when given, must match the file's."""
    from safetensors.torch import load_file

    from fer.models.checkpoint import read_checkpoint_config
    from fer.models.registry import create_model

    path = weights_path(name)
    if not path.is_file():
        raise ModelNotFoundError(f"the weights of {name!r} are missing: {path} (see fer/weights/NOTICE-synthfer.md)")
    config = read_checkpoint_config(path)
    if num_classes != config.num_classes:
        raise ValueError(f"{name} is a {config.num_classes}-class model; num_classes={num_classes} is not possible")
    different = sorted(k for k, v in arch.items() if config.arch.get(k, v) != v or k not in config.arch)
    if different:
        raise ValueError(f"{name} is a trained model with fixed options; cannot change {different}")
    model = create_model(name.removesuffix(SUFFIX), num_classes=num_classes, **config.arch)
    try:
        model.load_state_dict(load_file(str(path)), strict=True)  # half-precision tensors copied into float32
    except RuntimeError as exc:
        raise CheckpointError(f"{path} does not fit {name!r}: {exc}") from exc
    config.name = name  # checkpoints saved from it rebuild through this entry (weights then overwritten)
    model.config = config
    return model.eval()


def _register(name: str, what: str) -> None:
    def builder(num_classes: int = 7, **arch: Any) -> FERModel:
        return load_synthfer(name, num_classes, **arch)

    register_model(name, f"{what}; half-width ResNet-18, 64 px, {SYNTHFER_NOTE}", family="synthfer")(builder)


for _name, _what in SYNTHFER_MODELS.items():
    _register(_name, _what)
