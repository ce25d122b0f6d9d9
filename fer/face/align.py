"""Face alignment: a similarity transform (rotation, uniform scale, shift) of the 5 landmarks onto a
canonical template, the warped size×size crop, and the maps between photo and crop.

Canonical template: the 5-point ArcFace template for 112×112 crops (eye centres, nose tip, mouth
corners), expressed as fractions of the crop side so it serves any size. `face_scale` shrinks
(< 1) or grows (> 1) the template about the crop centre: 0.8 puts more forehead, chin and
background in the crop.

The transform is estimated by least squares (Umeyama, 1991) over the 5 point pairs. Pixels outside
the photo are black. When the crop is much smaller than the face (scale < 1/2) the photo is first
shrunk with area averaging so the crop does not alias.
"""

from __future__ import annotations

import numpy as np

from fer.errors import InputError
from fer.face.types import AlignedFace, Face

ARCFACE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)
TEMPLATE = ARCFACE_112 / 112.0  # fractions of the crop side


def template(size: int, face_scale: float = 1.0) -> np.ndarray:
    """The 5 canonical points (5, 2) for a size×size crop, in pixel coordinates."""
    if not face_scale > 0:
        raise ValueError(f"face_scale must be positive, got {face_scale}")
    return ((TEMPLATE - 0.5) * face_scale + 0.5) * float(size)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The (2, 3) similarity that maps src points onto dst points with least squared error (Umeyama)."""
    src = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s_c, d_c = src - mu_s, dst - mu_d
    var_s = (s_c**2).sum() / len(src)
    if not np.isfinite(var_s) or var_s < 1e-12:
        raise InputError("The face landmarks are degenerate (all at one point); the face cannot be aligned.")
    cov = d_c.T @ s_c / len(src)
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # a reflection: flip the weakest axis
        d[-1] = -1
    rot = u @ np.diag(d) @ vt
    scale = (sig * d).sum() / var_s
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - scale * rot @ mu_s
    return m


def invert(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a (2, 3) affine map."""
    a = np.asarray(matrix, dtype=np.float64)
    inv = np.linalg.inv(a[:, :2])
    return np.hstack([inv, -inv @ a[:, 2:3]])


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine map to (N, 2) points."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    m = np.asarray(matrix, dtype=np.float64)
    return p @ m[:, :2].T + m[:, 2]


def align(image, face: Face, size: int = 224, face_scale: float = 1.0) -> AlignedFace:
    """Warp the face onto the canonical template: a size×size RGB crop plus photo<->crop maps.

    `image` is anything `fer.io.load_image` accepts (the photo `face` was detected in).
    """
    import cv2

    from fer.face.detect import _as_rgb

    size = int(size)
    if size < 8:
        raise ValueError(f"crop size must be at least 8 pixels, got {size}")
    rgb = _as_rgb(image)
    matrix = similarity_transform(face.landmarks, template(size, face_scale))

    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    src, warp = rgb, matrix
    if scale < 0.5:  # pre-shrink by area averaging so the bilinear warp does not alias
        k = min(1.0, 2.0 * scale)
        h, w = rgb.shape[:2]
        small = (max(1, round(w * k)), max(1, round(h * k)))
        src = cv2.resize(rgb, small, interpolation=cv2.INTER_AREA)
        kx, ky = small[0] / w, small[1] / h
        pre = np.array([[kx, 0, 0.5 * kx - 0.5], [0, ky, 0.5 * ky - 0.5]])  # pixel-centre convention
        warp = _compose(matrix, invert(pre))
    crop = cv2.warpAffine(
        src, warp, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0)
    )
    lm68 = None if face.landmarks68 is None else transform_points(face.landmarks68, matrix)
    return AlignedFace(
        image=crop,
        matrix=matrix,
        inverse=invert(matrix),
        face=face,
        landmarks=transform_points(face.landmarks, matrix),
        landmarks68=lm68,
    )


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """outer ∘ inner for (2, 3) affine maps."""
    a = np.vstack([outer, [0, 0, 1]])
    b = np.vstack([inner, [0, 0, 1]])
    return (a @ b)[:2]


def to_photo(points: np.ndarray, aligned: AlignedFace) -> np.ndarray:
    """Crop coordinates -> photo coordinates."""
    return transform_points(points, aligned.inverse)


def to_crop(points: np.ndarray, aligned: AlignedFace) -> np.ndarray:
    """Photo coordinates -> crop coordinates."""
    return transform_points(points, aligned.matrix)


def paste_back(
    values: np.ndarray,
    aligned: AlignedFace,
    photo_shape: tuple[int, ...],
    fill: float = 0.0,
    interpolation: str = "linear",
) -> np.ndarray:
    """Warp a map defined over the crop (any resolution: a 7×7 CAM, a 224×224 heatmap, an RGB
    crop, a mask) back onto the photo; photo pixels the crop does not cover get `fill`.

    Returns an array of shape photo_shape[:2] (+ channels of `values`) and the dtype of `values`
    (float maps stay float).
    """
    import cv2

    values = np.asarray(values)
    if values.ndim not in (2, 3):
        raise ValueError(f"paste_back expects an H×W or H×W×C map, not shape {values.shape}")
    mh, mw = values.shape[:2]
    s = float(aligned.size)
    # photo -> crop, then crop pixel centres -> map pixel centres (the map covers the whole crop)
    sx, sy = mw / s, mh / s
    crop_to_map = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5]])
    photo_to_map = _compose(crop_to_map, aligned.matrix)
    flags = {"linear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST}[interpolation] | cv2.WARP_INVERSE_MAP
    src = values
    if values.dtype == np.bool_:
        src = values.astype(np.uint8)
    elif values.dtype == np.float16 or values.dtype.kind in "iu" and values.dtype != np.uint8:
        src = values.astype(np.float32)
    h, w = int(photo_shape[0]), int(photo_shape[1])
    channels = 1 if src.ndim == 2 else src.shape[2]
    border = (fill,) * min(4, channels) if channels <= 4 else fill
    if channels > 4:  # OpenCV warps at most 4 channels at a time
        out = np.stack(
            [
                cv2.warpAffine(np.ascontiguousarray(src[..., c]), photo_to_map, (w, h), flags=flags,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
                for c in range(channels)
            ],
            axis=-1,
        )
    else:
        out = cv2.warpAffine(src, photo_to_map, (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=border)
        if src.ndim == 3 and out.ndim == 2:  # OpenCV drops a single channel axis
            out = out[..., None]
    if values.dtype == np.bool_:
        return out.astype(bool)
    return out.astype(values.dtype, copy=False)


def crop_footprint(aligned: AlignedFace, photo_shape: tuple[int, ...]) -> np.ndarray:
    """Boolean (H, W) mask of the photo pixels the crop covers."""
    return paste_back(np.ones((aligned.size, aligned.size), dtype=np.float32), aligned, photo_shape) > 0.5
