"""Face pipeline: detection (+5 / 68 landmarks), alignment to a canonical template, photo<->crop maps.

    from fer.face import detect, align, paste_back
    faces = detect("photo.jpg")                    # list[Face], largest first
    crop = align("photo.jpg", faces[0], size=224)  # AlignedFace: .image, .matrix, .inverse

Note: `fer.face.detect` and `fer.face.align` are the functions; the modules of the same name are
`sys.modules["fer.face.detect"]` / `importlib.import_module("fer.face.detect")`.
Importing this package imports neither torch nor OpenCV (they load on first use).
"""

from fer.face.types import AlignedFace, Face  # noqa: I001  (types first: the modules below use them)
from fer.face.detect import BACKENDS, DEFAULT_MIN_SIZE, detect, resolve_backend
from fer.face.align import (
    align,
    crop_footprint,
    paste_back,
    similarity_transform,
    template,
    to_crop,
    to_photo,
    transform_points,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_MIN_SIZE",
    "AlignedFace",
    "Face",
    "align",
    "crop_footprint",
    "detect",
    "paste_back",
    "resolve_backend",
    "similarity_transform",
    "template",
    "to_crop",
    "to_photo",
    "transform_points",
]
