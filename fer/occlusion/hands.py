"""Hands: over the mouth, over one eye, on the cheek, and a fist under the chin (chin rest).

A hand is built from smooth parts in *hand coordinates* (IPD units; knuckle line at x = 0,
fingers along +x, index finger at -y): a rounded palm, four tapered fingers of anthropometric
length and width (hand breadth ~1.35 IPD, middle finger ~1.3 IPD), an optional thumb and the
forearm. Each part is shaded like a cylinder (lit along its axis, darker at its sides, which
also draws the dark seams between touching fingers), knuckle creases and nails are added, the
colour is the skin tone sampled from the face (per image, so one rendered hand serves a batch),
the outline is feathered and the hand casts a soft shadow on the face.

Severity scales the hand (0.9..1.1 over the mouth, 0.9..1.15 elsewhere) and moves it further over
the face.
"""

from __future__ import annotations

import math

import numpy as np

from fer.occlusion.base import Layer, RenderContext, pick, pick_side, register
from fer.occlusion.render import Canvas, blur, capsule, drop_shadow, fill_poly, smooth_curve, stroke, value_noise

# index, middle, ring, little: knuckle position across the hand (y), width, length, spread (deg) and
# the knuckle's offset along the hand (dx, + towards the fingertips)
_FINGERS = (
    (-0.49, 0.31, 1.12, -4.0, 0.00),
    (-0.17, 0.31, 1.26, -1.0, 0.05),
    (0.15, 0.29, 1.18, 2.0, 0.01),
    (0.45, 0.25, 0.93, 6.0, -0.12),
)


def _rot(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


class HandPose:
    """Hand coordinates -> face frame: mirror across the hand (y -> -y), turn by `tilt_deg`, rotate by
    `angle_deg` and scale, then move to `origin` (angles in degrees)."""

    def __init__(self, origin, angle_deg: float, scale: float, mirror: bool = False, tilt_deg: float = 0.0):
        self.rot = _rot(angle_deg) * scale
        if tilt_deg:
            self.rot = self.rot @ _rot(tilt_deg)
        self.mirror = mirror
        self.origin = np.asarray(origin, np.float64)

    def __call__(self, pts) -> np.ndarray:
        p = np.array(pts, np.float64).reshape(-1, 2)
        if self.mirror:
            p[:, 1] = -p[:, 1]
        return p @ self.rot.T + self.origin


class _HandPainter:
    """Accumulates a hand on a canvas: coverage (alpha), shading (tint) and colour details (rgb).

    Every operation works on the bounding window of its shape only, so a big canvas (a forearm
    running out of the photo) stays cheap.
    """

    def __init__(self, canvas: Canvas):
        self.c = canvas
        self.alpha = np.zeros(canvas.shape, np.float32)
        self.shade = np.zeros(canvas.shape, np.float32)
        self.detail = np.zeros((*canvas.shape, 3), np.float32)

    def _window(self, pts_px: np.ndarray, pad: float):
        h, w = self.c.shape
        x0 = int(np.clip(np.floor(pts_px[:, 0].min() - pad), 0, w))
        x1 = int(np.clip(np.ceil(pts_px[:, 0].max() + pad) + 1, 0, w))
        y0 = int(np.clip(np.floor(pts_px[:, 1].min() - pad), 0, h))
        y1 = int(np.clip(np.ceil(pts_px[:, 1].max() + pad) + 1, 0, h))
        if x1 <= x0 or y1 <= y0:
            return None
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        return (slice(y0, y1), slice(x0, x1)), np.array([x0, y0], np.float64), xx, yy

    def part(self, poly_face, axis_face=None, radius: float = 0.0, base: float = 1.0, flat: float = 0.0) -> None:
        """Paint one part over the previous ones; cylinder shading across `axis` (face-frame points)."""
        pts = self.c.px(poly_face)
        win = self._window(pts, 2)
        if win is None:
            return
        sl, off, xx, yy = win
        cov = fill_poly(xx.shape, [pts - off])
        if axis_face is not None and radius > 0:
            p0, p1 = self.c.px(axis_face[0]), self.c.px(axis_face[1])
            d = p1 - p0
            length = float(np.hypot(*d)) or 1.0
            n = np.array([-d[1], d[0]]) / length
            across = ((xx - p0[0]) * n[0] + (yy - p0[1]) * n[1]) / (radius * self.c.ppu)
            along = ((xx - p0[0]) * d[0] + (yy - p0[1]) * d[1]) / length**2
            bulge = np.sqrt(np.clip(1 - np.clip(np.abs(across), 0, 1) ** 2, 0, 1))
            shade = base * (flat + (1 - flat) * (0.62 + 0.38 * bulge)) * (1 - 0.06 * np.clip(along, 0, 1))
        else:
            shade = np.full(xx.shape, base, np.float32)
        self.shade[sl] = self.shade[sl] * (1 - cov) + shade * cov
        self.alpha[sl] = np.maximum(self.alpha[sl], cov)

    def cloth(self, poly_face, axis_face, radius: float, colour) -> None:
        """An opaque, untinted part (a sleeve): cylinder-shaded `colour` with a few soft folds."""
        pts = self.c.px(poly_face)
        win = self._window(pts, 2)
        if win is None:
            return
        sl, off, xx, yy = win
        cov = fill_poly(xx.shape, [pts - off])
        p0, p1 = self.c.px(axis_face[0]), self.c.px(axis_face[1])
        d = p1 - p0
        length = float(np.hypot(*d)) or 1.0
        n = np.array([-d[1], d[0]]) / length
        across = ((xx - p0[0]) * n[0] + (yy - p0[1]) * n[1]) / (radius * self.c.ppu)
        along = ((xx - p0[0]) * d[0] + (yy - p0[1]) * d[1]) / length  # pixels along the sleeve
        bulge = np.sqrt(np.clip(1 - np.clip(np.abs(across), 0, 1) ** 2, 0, 1))
        # two or three soft, slanted creases where the sleeve bunches near the cuff
        folds = 1 - 0.14 * np.exp(-(((along / self.c.ppu) % 0.9 - 0.45 + 0.15 * across) ** 2) / (2 * 0.06**2))
        folds = np.where(along / self.c.ppu < 2.7, folds, 1.0)
        shade = (0.55 + 0.45 * bulge) * folds
        col = np.asarray(colour, np.float32)[None, None, :] * shade[..., None]
        self.detail[sl] = self.detail[sl] * (1 - cov[..., None]) + col * cov[..., None]
        self.shade[sl] *= 1 - cov
        self.alpha[sl] = np.maximum(self.alpha[sl], cov)

    def crease(self, pts_face, width: float, depth: float = 0.22) -> None:
        pts = self.c.px(smooth_curve(pts_face, 12))
        win = self._window(pts, width * self.c.ppu + 3)
        if win is None:
            return
        sl, off, xx, _ = win
        line = stroke(xx.shape, pts - off, max(1.0, width * self.c.ppu))
        self.shade[sl] *= 1 - depth * blur(line, 0.3) * (self.alpha[sl] > 0.5)

    def highlight(self, centre_face, radius: float, amount: float = 0.08) -> None:
        cx, cy = self.c.px(centre_face)
        r = radius * self.c.ppu
        win = self._window(np.array([[cx, cy]]), 3 * r + 1)
        if win is None:
            return
        sl, _, xx, yy = win
        self.shade[sl] *= 1 + amount * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))

    def nail(self, poly_face, edge_px: float) -> None:
        """A fingernail: a little pinker and shinier, with a pale free edge along its tip."""
        pts = self.c.px(poly_face)
        win = self._window(pts, 2)
        if win is None:
            return
        sl, off, xx, _ = win
        cov = fill_poly(xx.shape, [pts - off]) * (self.alpha[sl] > 0.5)
        self.detail[sl] += cov[..., None] * np.array([16.0, 3.0, 8.0], np.float32)
        self.shade[sl] *= 1 + 0.06 * cov
        half = len(pts) // 2
        edge = stroke(xx.shape, pts[:half] - off, max(1.0, edge_px)) * cov
        self.detail[sl] += edge[..., None] * np.array([26.0, 26.0, 26.0], np.float32)


def _finger(hp: _HandPainter, pose: HandPose, y: float, width: float, length: float, spread: float, dx: float,
            scale: float, nails: bool = True) -> None:
    a = math.radians(spread)
    base = np.array([dx, y])
    tip = base + length * np.array([math.cos(a), math.sin(a)])
    r0, r1 = width / 2, width * 0.41
    poly = capsule(base - [0.15, 0], tip, r0, r1, 14)
    axis = pose(np.array([base, tip]))
    hp.part(pose(poly), axis, r0 * scale, base=1.0)
    # creases at the middle (PIP) and end (DIP) joints, knuckle highlight at the base
    d = (tip - base) / max(length, 1e-6)
    n = np.array([-d[1], d[0]])
    for frac, w, depth in ((0.42, 0.62, 0.2), (0.72, 0.5, 0.16)):
        c = base + d * length * frac
        for k in (-0.03, 0.03):
            pts = np.array([c - n * r0 * w + d * k, c + d * (k + 0.025), c + n * r0 * w + d * k])
            hp.crease(pose(pts), 0.012 * scale, depth)
    hp.highlight(pose(base + d * 0.04)[0], 0.09 * scale, 0.1)
    if nails:
        nail_c = base + d * length * 0.88
        nail = capsule(nail_c - d * 0.08, nail_c + d * 0.06, r1 * 0.72, r1 * 0.68, 10)
        hp.nail(pose(nail), 0.012 * scale * hp.c.ppu)


SLEEVE_COLOURS = {"navy": (40, 52, 88), "grey": (110, 112, 118), "black": (34, 34, 38), "white": (226, 226, 222),
                  "red": (150, 40, 44), "green": (52, 92, 66), "denim": (70, 96, 134), "beige": (190, 172, 142)}


def _forearm(hp: _HandPainter, pose: HandPose, scale: float, wrist, direction=None, base: float = 0.92,
             sleeve=None) -> None:
    """The forearm from the wrist (hand coordinates) along `direction` (face frame; default: the hand's
    axis), in a sleeve of colour `sleeve` from 1.3 IPD past the wrist (None: a bare arm)."""
    w = pose(np.asarray(wrist, np.float64))[0]
    if direction is None:
        direction = pose(np.array([[-1.0, 0.0]]))[0] - pose(np.array([[0.0, 0.0]]))[0]
    d = np.asarray(direction, np.float64)
    d = d / (np.linalg.norm(d) or 1.0)
    end = w + d * 7.0  # long enough to leave any photo the canvas covers
    hp.part(capsule(w, end, 0.46 * scale, 0.56 * scale, 16), np.array([w, end]), 0.5 * scale, base=base)
    if sleeve is not None:
        start = w + d * 1.3 * scale
        hp.cloth(capsule(start, end, 0.6 * scale, 0.7 * scale, 16), np.array([start, end]), 0.65 * scale, sleeve)


def _open_hand(hp: _HandPainter, pose: HandPose, scale: float, thumb: bool = True, arm_direction=None,
               sleeve=None, rng: np.random.Generator | None = None) -> None:
    """An open hand, back towards the camera, fingers together along +x.

    With `rng`, each hand differs a little: how far the fingers spread, and each finger's length (±3 %).
    """
    _forearm(hp, pose, scale, [[-1.45, 0.05]], arm_direction, sleeve=sleeve)
    palm = smooth_curve(np.array([
        [0.08, -0.66], [0.12, -0.3], [0.14, 0.0], [0.1, 0.3], [-0.02, 0.6], [-0.5, 0.66], [-1.0, 0.55],
        [-1.5, 0.46], [-1.55, 0.0], [-1.5, -0.42], [-1.0, -0.62], [-0.45, -0.7], [0.08, -0.66],
    ]), 80)
    hp.part(pose(palm), pose(np.array([[-1.5, 0.0], [0.1, 0.0]])), 0.75 * scale, base=0.98, flat=0.35)
    # faint tendons on the back of the hand
    for y in (-0.45, -0.15, 0.15, 0.42):
        hp.crease(pose(np.array([[-1.1, y * 0.6], [-0.55, y * 0.85], [-0.1, y]])), 0.05 * scale, -0.025)
    if thumb:
        t0, t1 = np.array([-1.05, -0.55]), np.array([-0.2, -1.05])
        hp.part(pose(capsule(t0, t1, 0.2, 0.15, 14)), pose(np.array([t0, t1])), 0.2 * scale, base=0.95)
        hp.crease(pose(np.array([[-0.6, -0.69], [-0.52, -0.82], [-0.45, -0.95]])), 0.012 * scale, 0.2)
        d = (t1 - t0) / np.linalg.norm(t1 - t0)
        hp.nail(pose(capsule(t1 - d * 0.14, t1 - d * 0.01, 0.1, 0.09, 10)), 0.012 * scale * hp.c.ppu)
    spread_k = 1.0 if rng is None else float(rng.uniform(0.3, 2.2))
    for y, w, length, spread, dx in _FINGERS:
        jitter = 1.0 if rng is None else float(1 + np.clip(rng.normal(0, 0.03), -0.06, 0.06))
        _finger(hp, pose, y, w, length * jitter, spread * spread_k, dx, scale)


def _fist(hp: _HandPainter, pose: HandPose, scale: float, sleeve=None) -> None:
    """A loose fist seen from the front with the curled fingers' backs on top (x = up the fingers)."""
    _forearm(hp, pose, scale, [[-1.3, 0.0]], base=0.9, sleeve=sleeve)
    back = smooth_curve(np.array([[-0.2, -0.68], [-0.7, -0.66], [-1.4, -0.5], [-1.45, 0.0], [-1.4, 0.5],
                                  [-0.7, 0.62], [-0.2, 0.62], [-0.2, -0.68]]), 60)
    hp.part(pose(back), pose(np.array([[-1.4, 0.0], [-0.2, 0.0]])), 0.7 * scale, base=0.95, flat=0.3)
    for y, w, _, _, dx in _FINGERS:  # curled fingers: short segments ending in the middle knuckles
        base, tip = np.array([-0.3 + dx * 0.5, y]), np.array([0.02 + dx * 0.6, y])
        hp.part(pose(capsule(base, tip, w / 2 + 0.01, w / 2, 12)), pose(np.array([base, tip])), (w / 2) * scale)
        hp.highlight(pose(tip - [0.05, 0])[0], 0.08 * scale, 0.12)
        hp.crease(pose(np.array([[tip[0] - 0.17, y - w * 0.3], [tip[0] - 0.15, y], [tip[0] - 0.17, y + w * 0.3]])),
                  0.012 * scale, 0.22)
    # the thumb folds across the front of the curled index and middle fingers
    t0, t1 = np.array([-0.55, -0.78]), np.array([-0.22, -0.02])
    hp.part(pose(capsule(t0, t1, 0.2, 0.16, 14)), pose(np.array([t0, t1])), 0.2 * scale, base=1.0)
    d = (t1 - t0) / np.linalg.norm(t1 - t0)
    hp.crease(pose(np.array([t0 + d * 0.35 - [0.1, 0], t0 + d * 0.38, t0 + d * 0.35 + [0.1, 0]])), 0.012 * scale, 0.2)
    hp.nail(pose(capsule(t1 - d * 0.15, t1 - d * 0.01, 0.1, 0.09, 10)), 0.012 * scale * hp.c.ppu)


def _finish(ctx: RenderContext, canvas: Canvas, hp: _HandPainter) -> Layer:
    ppu = canvas.ppu
    alpha = blur(hp.alpha, max(0.5, 0.012 * ppu))  # feathered outline
    noise = blur(value_noise(canvas.shape, 0.12 * ppu, ctx.rng), 0.04 * ppu)
    shade = np.clip(hp.shade * (1 + 0.05 * (noise - 0.5)), 0.05, 1.3)  # skin is not flat
    # skin in shadow turns redder (light scattered under the skin): per-channel falloff, and hands
    # are a little more saturated than cheeks
    tint = 255.0 * np.stack([shade**0.8 * 1.03, shade**1.0 * 0.97, shade**1.2 * 0.93], -1)
    detail = hp.detail * (hp.alpha > 0)[..., None]
    shift = max(1, int(round(0.07 * ppu)))
    shadow = drop_shadow(alpha, shift, shift // 2, 0.07 * ppu, 0.35)
    return canvas.to_layer(ctx.shape, alpha, rgb=detail, tint=tint, shadow=shadow)


def _sleeve(ctx: RenderContext):
    value = ctx.params["sleeve"]
    if value in (None, "none", False):
        return None
    return SLEEVE_COLOURS[pick(value, SLEEVE_COLOURS, ctx.rng, "sleeve", also=("'random'", "'none'"))]


def _start(ctx: RenderContext, gain: float) -> tuple[float, int, float, np.ndarray]:
    """What every hand occluder places its hand from: severity, side (parameter `side`; -1 = the image's
    left), the hand's scale 0.9 + gain * severity, and the 68 landmarks in the face frame."""
    s = ctx.severity
    side = pick_side(ctx.params["side"], ctx.rng)
    return s, side, 0.9 + gain * s, ctx.geom.to_canon(ctx.geom.landmarks68)


def _render(ctx: RenderContext, pose: HandPose, scale: float, fist: bool = False, **hand) -> Layer:
    """The hand at `pose` (an open hand with options `hand`, or a fist) in the sleeve of parameter `sleeve`,
    painted on a fresh canvas, then the shared skin shading, feathering and cast shadow."""
    canvas = Canvas(ctx.geom, (-3.8, 3.8, -2.4, 6.5), ppu=float(np.clip(ctx.geom.ipd, 24, 110)))
    hp = _HandPainter(canvas)
    sleeve = _sleeve(ctx)
    if fist:
        _fist(hp, pose, scale, sleeve=sleeve)
    else:
        _open_hand(hp, pose, scale, sleeve=sleeve, rng=ctx.rng, **hand)
    return _finish(ctx, canvas, hp)


def _hand_occluder(name: str, description: str, severity: str):
    """`register` with what the hand occluders share: the family, the skin tint and the side and sleeve parameters."""
    return register(name, "hands", description, severity, uses_skin=True, side="random", sleeve="random")


@_hand_occluder(
    "hand_mouth",
    "a hand across the mouth, back of the hand to the camera, fingers pointing across the face",
    "hand scale 0.9..1.1 and height: at 1 the index finger covers the nostrils",
)
def hand_mouth(ctx: RenderContext) -> Layer:
    s, side, scale, c = _start(ctx, 0.2)
    mouth = (c[48] + c[54]) / 2
    # over the mouth, and low enough that the little finger's edge (0.58 scale under the knuckle line)
    # passes 0.08 IPD under the chin: real 68 points put the chin 0.6..0.75 IPD under the mouth corners
    y = max(mouth[1] + 0.14 - 0.1 * s, c[8][1] + 0.08 - 0.58 * scale)
    origin = np.array([mouth[0] + side * 0.5, min(y, mouth[1] + 0.3)])
    pose = HandPose(origin, 180 if side > 0 else 0, scale, mirror=side > 0, tilt_deg=side * 8)
    return _render(ctx, pose, scale, thumb=False, arm_direction=(side * 0.5, 1.0))


@_hand_occluder(
    "hand_eye",
    "a palm over one eye, fingers up over the forehead, wrist coming from below at the side",
    "hand scale 0.9..1.15; the palm moves from the outer eye (0) towards the nose (1)",
)
def hand_eye(ctx: RenderContext) -> Layer:
    s, side, scale, _ = _start(ctx, 0.25)
    eye = ctx.geom.to_canon(ctx.geom.landmarks[:2])[0 if side < 0 else 1]
    origin = eye + np.array([side * (0.22 - 0.14 * s), -0.42])
    pose = HandPose(origin, -90 - side * 12, scale, mirror=side > 0)  # thumb on the outer side
    return _render(ctx, pose, scale, thumb=True)


@_hand_occluder(
    "hand_cheek",
    "a hand resting on one cheek, fingers up along the temple, palm on the jaw",
    "hand scale 0.9..1.15; the hand moves from the face's side (0) over the cheek (1)",
)
def hand_cheek(ctx: RenderContext) -> Layer:
    s, side, scale, c = _start(ctx, 0.25)
    jaw = c[2] if side < 0 else c[14]
    origin = np.array([jaw[0] + side * (0.1 - 0.35 * s), 0.45])
    return _render(ctx, HandPose(origin, -90 + side * 18, scale, mirror=side > 0), scale, thumb=True)


@_hand_occluder(
    "chin_rest",
    "a loose fist under the chin (chin resting on the hand), forearm going down",
    "fist scale 0.9..1.15; the fist rises from under the chin (0) over the mouth (1)",
)
def chin_rest(ctx: RenderContext) -> Layer:
    s, side, scale, c = _start(ctx, 0.25)
    origin = np.array([c[8][0] + side * 0.12, c[8][1] + 0.05 - 0.55 * s])
    return _render(ctx, HandPose(origin, -90 + side * 8, scale, mirror=side < 0), scale, fist=True)
