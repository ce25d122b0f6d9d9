"""A 68-point face shape (iBUG 300-W order) fitted to the 5 detector landmarks.

No 68-point detector ships offline with this project, so `fit_landmarks68` places a *mean*
face shape: it carries the proportions of an average adult face (jaw contour, brows, nose
bridge and base, eyes, outer and inner lips) but no expression or individual jaw detail
(an open mouth, a raised brow or a narrow jaw are not seen). It is good enough to place
occluders (mask over jaw and nose, glasses over the eyes, hands over the mouth); it is not a
landmark detector.

Construction. The shape is written in a face frame whose unit is the distance between the
eye centres (IPD) and whose origin is the midpoint of the eyes, x to the image's right and
y downwards. Proportions follow adult anthropometry expressed in IPD units (IPD ~ 63 mm):
eye fissure ~0.45 (28-30 mm), brows ~0.4 above the pupils, nose tip ~0.55 and subnasale
~0.73 below the eye line, mouth width ~0.84 with the stomion ~1.1 below, menton (chin)
~1.76 below, face outline half-width ~1.0 at the eyes narrowing to ~0.8 at the jaw angle.

Yaw. A turned head moves the nose tip off the line between the eye and mouth midpoints; the
shape is modelled as a vertical cylinder (radius 1.05 IPD) with the nose and lips standing out
of it, and turned (orthographic view) by the yaw that explains the nose's offset, so the far
jaw contour comes in and the near one goes out. Pitch is not modelled.

Fit. A least-squares similarity (rotation, uniform scale, translation) maps the shape's own
5-point summary (eye centroids, nose tip 30, mouth corners 48/54) to the detected points;
then the remaining residual at those 5 points is spread by a Gaussian radial-basis field
(sigma 0.6 IPD), so the fitted shape passes exactly through the detected points while far
points (jaw, brows) move mostly rigidly. This follows a yawed nose or a smiling mouth locally
without distorting the whole contour.
"""

from __future__ import annotations

import numpy as np

from fer.errors import InputError

# (x, y) in IPD units, eye midpoint at the origin, y down; left = the image's left.
_JAW_LEFT = [  # points 0..8 (8 = chin, menton)
    (-1.02, 0.05), (-1.00, 0.33), (-0.96, 0.61), (-0.90, 0.88), (-0.80, 1.13),
    (-0.65, 1.36), (-0.47, 1.55), (-0.25, 1.70), (0.00, 1.76),
]
_BROW_LEFT = [(-0.93, -0.30), (-0.78, -0.42), (-0.60, -0.46), (-0.42, -0.44), (-0.22, -0.37)]  # 17..21
_NOSE_BRIDGE = [(0.0, -0.08), (0.0, 0.13), (0.0, 0.34), (0.0, 0.55)]  # 27..30 (30 = tip)
_NOSE_BASE = [(-0.20, 0.67), (-0.10, 0.71), (0.0, 0.73), (0.10, 0.71), (0.20, 0.67)]  # 31..35
_EYE_LEFT = [(-0.73, 0.01), (-0.60, -0.08), (-0.42, -0.08), (-0.28, 0.02), (-0.42, 0.07), (-0.60, 0.07)]  # 36..41
_MOUTH_OUTER = [  # 48..59, from the left corner clockwise (upper lip first)
    (-0.42, 1.10), (-0.27, 1.02), (-0.11, 0.97), (0.0, 0.99), (0.11, 0.97), (0.27, 1.02),
    (0.42, 1.10), (0.28, 1.21), (0.13, 1.26), (0.0, 1.27), (-0.13, 1.26), (-0.28, 1.21),
]
_MOUTH_INNER = [  # 60..67
    (-0.36, 1.10), (-0.12, 1.07), (0.0, 1.075), (0.12, 1.07),
    (0.36, 1.10), (0.12, 1.13), (0.0, 1.135), (-0.12, 1.13),
]


def _mirror(points):
    return [(-x, y) for x, y in points]


def _build_mean_shape() -> np.ndarray:
    jaw = _JAW_LEFT + _mirror(_JAW_LEFT[:-1])[::-1]  # 0..16
    brows = _BROW_LEFT + _mirror(_BROW_LEFT)[::-1]  # 17..26
    eye_right = _mirror(_EYE_LEFT)  # 42..47: inner corner, upper, upper, outer, lower, lower
    eye_right = [eye_right[3], eye_right[2], eye_right[1], eye_right[0], eye_right[5], eye_right[4]]
    pts = jaw + brows + _NOSE_BRIDGE + _NOSE_BASE + _EYE_LEFT + eye_right + _MOUTH_OUTER + _MOUTH_INNER
    shape = np.asarray(pts, dtype=np.float64)
    assert shape.shape == (68, 2)
    return shape


MEAN_SHAPE_68 = _build_mean_shape()
MEAN_SHAPE_68.setflags(write=False)


def summary5(shape68: np.ndarray) -> np.ndarray:
    """The 5-point summary of a 68-point shape: eye centroids, nose tip, mouth corners."""
    s = np.asarray(shape68, dtype=np.float64)
    return np.stack([s[36:42].mean(0), s[42:48].mean(0), s[30], s[48], s[54]])


MEAN_SHAPE_5 = summary5(MEAN_SHAPE_68)
_RBF_SIGMA = 0.6  # IPD units

# Depth model for yaw: the face as a vertical cylinder of radius ~1.05 IPD, with the nose and
# lips standing out of it (IPD units, towards the camera).
_RADIUS = 1.05
_PROTRUSION = np.zeros(68)
_PROTRUSION[27:31] = (0.05, 0.15, 0.25, 0.35)
_PROTRUSION[31:36] = (0.15, 0.2, 0.22, 0.2, 0.15)
_PROTRUSION[48:68] = 0.1
_EYE_DEPTH = float(np.sqrt(_RADIUS**2 - 0.25))
_NOSE_LEVER = _RADIUS + _PROTRUSION[30] - _EYE_DEPTH  # nose-tip shift per unit sin(yaw), relative to the eyes


def yawed_shape(sin_yaw: float) -> np.ndarray:
    """The mean shape turned about the vertical axis (orthographic view; sin_yaw > 0 turns the nose right)."""
    s = float(np.clip(sin_yaw, -0.8, 0.8))
    c = np.sqrt(1 - s * s)
    x, y = MEAN_SHAPE_68[:, 0], MEAN_SHAPE_68[:, 1]
    z = np.sqrt(np.clip(_RADIUS**2 - x**2, 0, None)) + _PROTRUSION
    return np.stack([x * c + (z - _EYE_DEPTH) * s, y], 1)


def estimate_sin_yaw(landmarks5: np.ndarray) -> float:
    """sin(yaw) from how far the nose tip sits off the eye/mouth midline, in IPD units."""
    lm = np.asarray(landmarks5, np.float64)
    sym = [0, 1, 3, 4]  # eyes and mouth corners: symmetric, so they fix the face frame without the nose
    m = similarity_fit(MEAN_SHAPE_5[sym], lm[sym])
    inv = np.linalg.inv(m[:, :2])
    nose = inv @ (lm[2] - m[:, 2])
    return float(np.clip(nose[0] / _NOSE_LEVER, -0.8, 0.8))


def similarity_fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (no reflection) mapping src (N,2) onto dst (N,2); returns (2,3)."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    ms, md = src.mean(0), dst.mean(0)
    s0, d0 = src - ms, dst - md
    var = (s0**2).sum()
    if var <= 0:
        raise InputError("landmarks are degenerate (all points coincide)")
    # complex-number formulation: dst ~ z * src, z = a + ib
    a = (s0[:, 0] * d0[:, 0] + s0[:, 1] * d0[:, 1]).sum() / var
    b = (s0[:, 0] * d0[:, 1] - s0[:, 1] * d0[:, 0]).sum() / var
    rot = np.array([[a, -b], [b, a]])
    t = md - rot @ ms
    return np.hstack([rot, t[:, None]])


def fit_landmarks68(landmarks5: np.ndarray) -> np.ndarray:
    """Fit the mean 68-point shape to 5 landmarks (eyes, nose tip, mouth corners); returns (68, 2).

    The result passes through the 5 given points exactly (eye centroids, points 30, 48 and 54)
    and keeps mean-face proportions elsewhere. See the module docstring for what it cannot show.
    """
    lm = np.asarray(landmarks5, dtype=np.float64)
    if lm.shape != (5, 2) or not np.isfinite(lm).all():
        raise InputError(f"landmarks5 must be a finite (5, 2) array, got shape {lm.shape}")
    if np.linalg.norm(lm[1] - lm[0]) < 1e-6:
        raise InputError("landmarks are degenerate (the eyes coincide)")
    shape = yawed_shape(estimate_sin_yaw(lm))
    shape5 = summary5(shape)
    m = similarity_fit(shape5, lm)
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    if scale < 1e-6:
        raise InputError("landmarks are degenerate (zero face size)")
    placed5 = shape5 @ m[:, :2].T + m[:, 2]
    placed = shape @ m[:, :2].T + m[:, 2]
    residual = lm - placed5  # (5, 2), in pixels
    # Gaussian RBF interpolation of the residual, computed in the mean-shape frame (IPD units)
    d2 = ((shape5[:, None, :] - shape5[None, :, :]) ** 2).sum(-1)
    kernel = np.exp(-d2 / (2 * _RBF_SIGMA**2))
    weights = np.linalg.solve(kernel + 1e-9 * np.eye(5), residual)
    d2_all = ((shape[:, None, :] - shape5[None, :, :]) ** 2).sum(-1)
    field = np.exp(-d2_all / (2 * _RBF_SIGMA**2)) @ weights
    field[36:42] = residual[0]  # move each eye rigidly so its centroid lands on the detected centre
    field[42:48] = residual[1]
    return placed + field


__all__ = [
    "MEAN_SHAPE_68", "MEAN_SHAPE_5", "estimate_sin_yaw", "fit_landmarks68", "similarity_fit", "summary5", "yawed_shape",
]
