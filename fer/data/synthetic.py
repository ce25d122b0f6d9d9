"""SynthFER: a procedural, seeded generator of synthetic face-like expression images.

SynthFER is *synthetic*: cartoon faces drawn with OpenCV, for tests, benchmarks and offline
demonstrations. It is not a facial-expression data set of people and a model trained on it
says nothing about real faces.

The seven canonical classes (``fer.labels.CANONICAL_7``) are defined by *local* cues placed
where they are on real faces: brows and eyes in the upper half of the crop, mouth, cheeks and
nasolabial folds in the lower half. Which half carries which class:

====================  =============================  ==================================
class                 upper half (brows, eyes)       lower half (mouth, cheeks)
====================  =============================  ==================================
neutral               flat brows, open eyes          closed straight mouth
happiness             *same as neutral*              smile, raised cheeks
surprise              high arched brows, wide eyes   open round mouth
sadness               inner brows raised, drooping   corners down
fear                  raised brows drawn together,   stretched open mouth with teeth
                      wide eyes
disgust               lowered flat brows, squint,    raised upper lip, nasolabial folds
                      wrinkles at the nose bridge
anger                 V-shaped brows, narrowed eyes  *same as neutral*
====================  =============================  ==================================

So surprise, sadness, fear and disgust are recognisable from either half; happiness only from
the lower half (its upper half equals neutral's) and anger only from the upper half (its
lower half equals neutral's). With the mouth hidden, happiness cannot be told from neutral;
with the eyes hidden, anger cannot. Every cue's strength varies per image.

Nuisance factors, all drawn per image from the seed: identity (face shape, feature sizes and
spacing), in-plane rotation, a yaw-like shift of the features, scale and translation, skin
tone, hair colour and style (incl. fringes), background colours and clutter, directional
lighting, gain, sensor noise and blur.

Each image depends only on ``(seed, split, index)``, so any subset can be regenerated
exactly, in any order, in any worker process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from fer.labels import CANONICAL_7

NAME = "SynthFER (synthetic)"
SPLITS = {"train": 0, "val": 1, "test": 2}

# which half of the face shows each class (documented above; used by tests and docs)
CUE_REGIONS: dict[str, tuple[str, ...]] = {
    "neutral": ("upper", "lower"),
    "happiness": ("lower",),
    "surprise": ("upper", "lower"),
    "sadness": ("upper", "lower"),
    "anger": ("upper",),
    "disgust": ("upper", "lower"),
    "fear": ("upper", "lower"),
}

_SHIFT = 4  # cv2 sub-pixel bits
_SCALE = float(1 << _SHIFT)

# upper-face cue: brow offsets (inner, middle, outer; negative = up, in face heights),
# inner-brow shift towards the midline, eye openness, nose-bridge wrinkles
_UPPER = {
    "neutral": ((0.0, -0.006, 0.0), 0.0, 1.0, False),
    "happiness": ((0.0, -0.006, 0.0), 0.0, 1.0, False),
    "surprise": ((-0.045, -0.065, -0.04), 0.0, 1.55, False),
    "sadness": ((-0.045, -0.012, 0.012), 0.0, 0.6, False),
    "anger": ((0.035, 0.004, -0.018), 0.018, 0.45, False),
    "disgust": ((0.022, 0.022, 0.018), 0.008, 0.55, True),
    "fear": ((-0.04, -0.038, -0.02), 0.02, 1.5, False),
}
# lower-face cue: mouth shape, mouth width factor, corner lift (+ = up), opening, cheeks
_LOWER = {
    "neutral": ("line", 1.0, 0.0, 0.0, False),
    "anger": ("line", 1.0, 0.0, 0.0, False),
    "happiness": ("smile", 1.25, 0.034, 0.02, True),
    "surprise": ("round", 0.55, 0.0, 0.06, False),
    "sadness": ("frown", 0.95, -0.03, 0.0, False),
    "fear": ("stretch", 1.3, -0.006, 0.03, False),
    "disgust": ("sneer", 1.0, -0.008, 0.014, False),
}

_SKIN = np.array(
    [[255, 224, 196], [241, 194, 167], [224, 172, 130], [198, 134, 96], [161, 102, 68], [110, 70, 48], [80, 52, 38]],
    np.float32,
)
_HAIR = np.array(
    [[20, 16, 14], [60, 40, 28], [110, 72, 40], [170, 130, 80], [220, 190, 130], [140, 140, 140], [150, 50, 30]],
    np.float32,
)


@dataclass
class SynthSample:
    image: np.ndarray  # (S, S, 3) uint8 RGB
    label: int  # canonical index
    landmarks: np.ndarray  # (5, 2) float: eye (image left), eye (image right), nose, mouth left, mouth right
    # (rest positions: the same for every expression of one identity and pose)


def _lerp_colour(table: np.ndarray, t: float) -> np.ndarray:
    t = min(max(t, 0.0), 1.0) * (len(table) - 1)
    i = min(int(t), len(table) - 2)
    return table[i] * (1 - (t - i)) + table[i + 1] * (t - i)


class _Canvas:
    """Draws unit-square shapes through one affine map (pose) onto an RGB float image."""

    def __init__(self, size: int, matrix: np.ndarray, image: np.ndarray) -> None:
        self.size = size
        self.m = matrix  # 2x3, unit coordinates -> pixels
        self.img = image
        self.px = size / 112.0  # line widths are designed at 112 px

    def pts(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, np.float64).reshape(-1, 2)
        q = p @ self.m[:, :2].T + self.m[:, 2]
        return np.round(q * _SCALE).astype(np.int32)

    def poly(self, p, colour, closed: bool = True) -> None:
        fill = colour.tolist() if hasattr(colour, "tolist") else colour
        cv2.fillPoly(self.img, [self.pts(p)], fill, cv2.LINE_AA, _SHIFT)

    def line(self, p, colour, width: float) -> None:
        t = max(1, int(round(width * self.px)))
        c = colour.tolist() if hasattr(colour, "tolist") else colour
        cv2.polylines(self.img, [self.pts(p)], False, c, t, cv2.LINE_AA, _SHIFT)


def _ellipse(cx: float, cy: float, ax: float, ay: float, n: int = 28, a0: float = 0.0, a1: float = 2 * math.pi):
    t = np.linspace(a0, a1, n)
    return np.stack([cx + ax * np.cos(t), cy + ay * np.sin(t)], 1)


def _curve(x0: float, x1: float, y: float, lift: float, n: int = 9) -> np.ndarray:
    """Parabola from x0 to x1 at height y whose ends are `lift` above (negative y) its middle."""
    x = np.linspace(x0, x1, n)
    u = (x - (x0 + x1) / 2) / max((x1 - x0) / 2, 1e-6)
    return np.stack([x, y - lift * u**2], 1)


class SynthFER:
    """Seeded SynthFER generator. ``SynthFER(112, seed=0).sample('train', i)`` is one image.

    ``generate(split, n, start=0)`` returns ``(images uint8 N×S×S×3, labels int64 N)``.
    Classes are balanced: ``label = index % 7``.
    """

    class_names = CANONICAL_7
    name = NAME

    def __init__(self, image_size: int = 112, seed: int = 0) -> None:
        if image_size < 16:
            raise ValueError("SynthFER image_size must be at least 16 pixels")
        self.image_size = int(image_size)
        self.seed = int(seed)

    def rng(self, split: str, index: int) -> np.random.Generator:
        if split not in SPLITS:
            raise ValueError(f"SynthFER split must be one of {list(SPLITS)}, got {split!r}")
        return np.random.default_rng([self.seed, SPLITS[split], int(index)])

    def sample(self, split: str, index: int) -> SynthSample:
        label = int(index) % len(CANONICAL_7)
        return self.render(self.rng(split, index), label)

    def generate(self, split: str, n: int, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
        s = self.image_size
        images = np.empty((n, s, s, 3), np.uint8)
        labels = np.empty(n, np.int64)
        for k in range(n):
            smp = self.sample(split, start + k)
            images[k] = smp.image
            labels[k] = smp.label
        return images, labels

    # ------------------------------------------------------------------ drawing
    def render(self, rng: np.random.Generator, label: int) -> SynthSample:
        s = self.image_size
        cls = CANONICAL_7[label]
        u = rng.random(64)  # all uniform draws of this image, consumed in a fixed order
        k = iter(range(64))

        def U(lo: float, hi: float) -> float:
            return lo + (hi - lo) * float(u[next(k)])

        # background: gradient between two colours + a few low-contrast blobs
        c0, c1 = rng.integers(30, 226, size=(2, 3)).astype(np.float32)
        ang = U(0, 2 * math.pi)
        yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) / s
        g = (xx - 0.5) * math.cos(ang) + (yy - 0.5) * math.sin(ang) + 0.5
        img = (c0 + (c1 - c0) * g[..., None]).astype(np.float32)
        for _ in range(int(U(0, 4))):
            col = (c0 + c1) / 2 + rng.normal(0, 35, 3).astype(np.float32)
            cx, cy, r = U(0, 1) * s, U(0, 1) * s, U(0.05, 0.2) * s
            cv2.circle(img, (int(cx), int(cy)), int(r), np.clip(col, 0, 255).tolist(), -1, cv2.LINE_AA)

        # pose: roll, scale, translation (unit coordinates -> pixels); yaw shifts features
        roll = math.radians(U(-12, 12))
        scale = U(0.9, 1.08) * s
        yaw = U(-0.35, 0.35)
        cs, sn = math.cos(roll) * scale, math.sin(roll) * scale
        tx, ty = U(-0.04, 0.04) * s, U(-0.04, 0.04) * s
        # rotate about the unit centre (0.5, 0.5)
        m = np.array([[cs, -sn, 0.0], [sn, cs, 0.0]])
        centre = np.array([0.5, 0.5])
        m[:, 2] = s * centre + np.array([tx, ty]) - m[:, :2] @ centre
        cv = _Canvas(s, m, img)

        # identity
        skin = _lerp_colour(_SKIN, U(0, 1)) * U(0.9, 1.05)
        skin_dark = skin * 0.72
        hair = _lerp_colour(_HAIR, U(0, 1))
        fa, fb = U(0.27, 0.33), U(0.34, 0.40)  # face half-width, half-height
        fcx, fcy = 0.5, 0.52
        shift = yaw * 0.06  # features move towards the turned side
        eye_y = fcy + U(-0.12, -0.085)
        sep = U(0.105, 0.135) * (1 - 0.25 * abs(yaw))
        ew, eh = U(0.04, 0.052), U(0.018, 0.024)
        brow_gap = U(0.055, 0.07)
        mouth_y = fcy + U(0.17, 0.21)
        mw = U(0.07, 0.09)
        nose_y = fcy + U(0.06, 0.09)
        t_up, t_lo = U(0.65, 1.15), U(0.65, 1.15)  # cue strengths
        iris = np.array([U(40, 120), U(30, 90), U(20, 60)], np.float32)
        lip = skin * np.array([0.85, 0.6, 0.6]) if U(0, 1) < 0.7 else skin * 0.75
        gaze_x, gaze_y = U(-0.3, 0.3), U(-0.2, 0.2)
        hair_style = U(0, 1)
        fringe = U(0, 1)
        u_neck = U(0.1, 0.16)
        blur = U(0, 1)

        # neck, hair behind the head, face
        cv.poly(np.array([[fcx - u_neck, fcy + 0.2], [fcx + u_neck, fcy + 0.2],
                          [fcx + u_neck * 1.3, 1.2], [fcx - u_neck * 1.3, 1.2]]), skin_dark)
        if hair_style > 0.35:  # long hair
            cv.poly(_ellipse(fcx, fcy + 0.02, fa * 1.22, fb * 1.12 + 0.05 * hair_style), hair)
        cv.poly(_ellipse(fcx + shift * 0.3, fcy, fa, fb, 40), skin)
        # ears
        for sd in (-1, 1):
            cv.poly(_ellipse(fcx + sd * (fa * 0.98) + shift * 0.2, eye_y + 0.04, 0.03, 0.055, 14), skin_dark * 1.1)
        # hair cap on top
        top = _ellipse(fcx + shift * 0.2, fcy - fb * 0.35, fa * 1.08, fb * 0.75, 30, math.pi, 2 * math.pi)
        hair_line = eye_y - brow_gap - U(0.08, 0.13)
        cap = np.concatenate([top, [[fcx + fa * 1.05, hair_line + 0.06], [fcx - fa * 1.05, hair_line + 0.06]]])
        cap[:, 1] = np.minimum(cap[:, 1], hair_line + 0.06)
        cv.poly(cap, hair)
        if fringe > 0.7:  # a fringe down to just above the brows
            fr_y = eye_y - brow_gap - 0.03
            cv.poly(np.array([[fcx - fa * 0.9, hair_line], [fcx + fa * 0.9, hair_line],
                              [fcx + fa * 0.7, fr_y], [fcx - fa * 0.5, fr_y + 0.01]]), hair)

        # --- upper face: eyes and brows
        (b_in, b_mid, b_out), b_pull, openness, wrinkles = _UPPER[cls]
        openness = 1.0 + (openness - 1.0) * t_up
        white = np.array([240, 238, 235], np.float32)
        for sd in (-1, 1):
            ex = fcx + sd * sep + shift
            ey = eye_y
            h = eh * openness
            cv.poly(_ellipse(ex, ey, ew, h, 24), white)
            r = min(h, ew * 0.55)
            cv.poly(_ellipse(ex + gaze_x * ew * 0.4, ey + gaze_y * h * 0.3, r * 0.95, r, 16), iris)
            pupil = _ellipse(ex + gaze_x * ew * 0.4, ey + gaze_y * h * 0.3, r * 0.45, r * 0.5, 12)
            cv.poly(pupil, np.array([10, 10, 10], np.float32))
            cv.line(_ellipse(ex, ey, ew, h, 16, math.pi, 2 * math.pi), skin_dark * 0.6, 1.3)  # upper lid
            if openness < 0.8:  # heavy lid over the top of the eye
                cv.poly(_ellipse(ex, ey - h * 0.3, ew * 1.05, h * 0.8, 16, math.pi, 2 * math.pi), skin * 0.92)
            by = ey - brow_gap
            xin, xout = ex - sd * (0.052 - b_pull * t_up), ex + sd * 0.058
            brow = np.array([[xin, by + b_in * t_up], [ex, by + b_mid * t_up - 0.006], [xout, by + b_out * t_up]])
            # smooth the three points into a curve
            tt = np.linspace(0, 1, 9)[:, None]
            control = 2 * brow[1] - (brow[0] + brow[2]) / 2  # the quadratic Bezier through the middle point
            curve = (1 - tt) ** 2 * brow[0] + 2 * (1 - tt) * tt * control + tt**2 * brow[2]
            cv.line(curve, hair * 0.8, 3.0)
        if wrinkles:
            for j in range(3):
                wy = eye_y - 0.005 + j * 0.014
                cv.line(np.array([[fcx + shift - 0.025, wy], [fcx + shift + 0.025, wy - 0.004]]), skin_dark * 0.8, 1.0)

        # nose
        nx = fcx + shift * 1.4
        nose = np.array([[nx - 0.004, eye_y + 0.02], [nx - 0.012, nose_y], [nx + 0.014, nose_y + 0.006]])
        cv.line(nose, skin_dark, 1.2)
        for sd in (-1, 1):
            cv.poly(_ellipse(nx + sd * 0.016, nose_y + 0.008, 0.008, 0.005, 10), skin_dark * 0.7)

        # --- lower face: mouth, cheeks, folds
        shape, wf, lift, opening, cheeks = _LOWER[cls]
        mx = fcx + shift * 1.2
        w = mw * (1 + (wf - 1) * t_lo)
        lift *= t_lo
        opening *= t_lo
        if cheeks:
            for sd in (-1, 1):
                cheek = _ellipse(mx + sd * (w + 0.03), mouth_y - 0.06, 0.045, 0.03, 16)
                cv.poly(cheek, np.clip(skin * np.array([1.0, 0.82, 0.82]), 0, 255))
                turn = -0.5 * math.pi * sd + math.pi / 2
                dimple = _ellipse(mx + sd * (w + 0.01), mouth_y - 0.03, 0.03, 0.05, 8, turn - 0.6, turn + 0.6)
                cv.line(dimple, skin_dark * 0.85, 1.0)
        if shape == "line":
            cv.line(_curve(mx - w, mx + w, mouth_y, 0.0), lip * 0.7, 2.4)
        elif shape in ("smile", "frown"):
            upper = _curve(mx - w, mx + w, mouth_y, lift)
            if opening > 0:
                lower = _curve(mx - w, mx + w, mouth_y + opening, lift + opening)[::-1]
                cv.poly(np.concatenate([upper, lower]), np.array([70, 20, 25], np.float32))
                lower = _curve(mx - w, mx + w, mouth_y + opening * 0.45, lift + opening * 0.45)[::-1]
                cv.poly(np.concatenate([upper, lower]), white)
            cv.line(upper, lip * 0.7, 2.4)
        elif shape == "round":
            cv.poly(_ellipse(mx, mouth_y + 0.005, w, 0.02 + opening * 0.6, 24), np.array([60, 15, 20], np.float32))
            cv.line(_ellipse(mx, mouth_y + 0.005, w, 0.02 + opening * 0.6, 24), lip * 0.8, 2.0)
        elif shape == "stretch":
            box = np.array([[mx - w, mouth_y], [mx - w * 0.7, mouth_y - opening * 0.5],
                            [mx + w * 0.7, mouth_y - opening * 0.5], [mx + w, mouth_y],
                            [mx + w * 0.7, mouth_y + opening * 0.6], [mx - w * 0.7, mouth_y + opening * 0.6]])
            cv.poly(box, np.array([60, 15, 20], np.float32))
            teeth = np.array([[mx - w * 0.7, mouth_y - opening * 0.3], [mx + w * 0.7, mouth_y - opening * 0.3]])
            cv.line(teeth, white, 2.0)
            cv.line(np.concatenate([box, box[:1]]), lip * 0.8, 1.6)
        elif shape == "sneer":
            ul = np.array([[mx - w, mouth_y + 0.006], [mx - w * 0.45, mouth_y - opening * 1.2],
                           [mx, mouth_y - opening * 0.7], [mx + w * 0.45, mouth_y - opening * 1.2],
                           [mx + w, mouth_y + 0.006]])
            ll = _curve(mx - w, mx + w, mouth_y + 0.012, -0.004)[::-1]
            cv.poly(np.concatenate([ul, ll]), np.array([70, 20, 25], np.float32))
            cv.line(ul, lip * 0.7, 2.2)
            for sd in (-1, 1):  # nasolabial folds
                fold = np.array([[nx + sd * 0.03, nose_y + 0.005], [mx + sd * (w + 0.015), mouth_y - 0.01],
                                 [mx + sd * (w + 0.01), mouth_y + 0.02]])
                cv.line(fold, skin_dark * 0.75, 1.4)

        # lighting: directional gradient and gain, then noise and blur
        la = U(0, 2 * math.pi)
        lg = U(-0.35, 0.35)
        gain = U(0.75, 1.15)
        light = gain * (1 + lg * ((xx - 0.5) * math.cos(la) + (yy - 0.5) * math.sin(la)))
        img *= light[..., None]
        sigma = U(0, 7)
        if sigma > 1:
            img += rng.normal(0, sigma, img.shape).astype(np.float32)
        if blur > 0.75:
            img = cv2.GaussianBlur(img, (0, 0), 0.4 + (blur - 0.75) * 2.4 * s / 112)
        image = np.clip(img, 0, 255).astype(np.uint8)

        # landmarks at the identity's rest positions (mouth corners at the neutral width), so that
        # occluders placed from them carry no information about the expression
        lms = np.array([
            [fcx - sep + shift, eye_y], [fcx + sep + shift, eye_y], [nx, nose_y],
            [mx - mw, mouth_y], [mx + mw, mouth_y],
        ])
        landmarks = lms @ m[:, :2].T + m[:, 2]
        return SynthSample(image, label, landmarks.astype(np.float32))
