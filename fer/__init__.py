"""alfj-fer: facial expression recognition (ALFJ-Net) and occlusion-robustness analysis."""

import os as _os
import tempfile as _tempfile

# matplotlib (imported by pytorch-grad-cam) writes a font cache into HOME unless told otherwise: never litter HOME
_os.environ.setdefault(
    "MPLCONFIGDIR",
    _os.path.join(_tempfile.gettempdir(), f"fer-matplotlib-{_os.getuid() if hasattr(_os, 'getuid') else 0}"),
)

from fer.errors import CheckpointError, DatasetError, FERError, InputError, ModelNotFoundError

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "DatasetError",
    "FERError",
    "InputError",
    "ModelNotFoundError",
    "Predictor",
    "FacePrediction",
    "__version__",
]


def __getattr__(name):  # lazy: `import fer` must not import torch
    if name in ("Predictor", "FacePrediction"):
        from fer import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module 'fer' has no attribute {name!r}")
