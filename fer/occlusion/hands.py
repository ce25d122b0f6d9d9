"""Hands: over the mouth, over one eye, on the cheek, and a fist under the chin (chin rest).

A hand is built from smooth parts in *hand coordinates* (IPD units; knuckle line at x = 0,
fingers along +x, index finger at -y): a rounded palm, four tapered fingers of anthropometric
length and width (hand breadth ~1.35 IPD, middle finger ~1.3 IPD), an optional thumb and the
forearm. Each part is shaded like a cylinder (lit along its axis, darker at its sides, which
also draws the dark seams between touching fingers), knuckle creases and nails are added, the
colour is the skin tone sampled from the face (per image, so one rendered hand serves a batch),
the outline is feathered and the hand casts a soft shadow on the face.

Severity scales the hand (0.9..1.15) and moves it further over the face.
"""

from __future__ import annotations

import math

import numpy as np

from fer.errors import InputError
from fer.occlusion.base import Layer, RenderContext, register
from fer.occlusion.render import Canvas, blur, capsule, fill_poly, smooth_curve, stroke, value_noise

# index, middle, ring, little: knuckle position across the hand, width, length, spread (deg)
_FINGERS = (
    (-0.49, 0.31, 1.12, -4.0, 0.00),
    (-0.17, 0.31, 1.26, -1.0, 0.05),
    (0.15, 0.29, 1.18, 2.0, 0.01),
    (0.45, 0.25, 0.93, 6.0, -0.12),
)


class HandPose:
    """Hand coordinates -> face frame: rotate by `angle` (deg), scale, mirror across the hand, move to `origin`."""

    def __init__(self, origin, angle_deg: float, scale: float, mirror: bool = False):
        a = math.radians(angle_deg)
        self.rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) * scale
        self.mirror = mirror
        self.origin = np.asarray(origin, np.float64)

    def __call__(self, pts) -> np.ndarray:
        p = np.array(pts, np.float64).reshape(-1, 2)
        if self.mirror:
            p[:, 1] = -p[:, 1]
        return p @ self.rot.T + self.origin


class _HandPainter:
    """Accumulates a hand on a canvas: coverage (alpha), shading (tint) and colour details (rgb)."""

    def __init__(self, canvas: Canvas):
        self.c = canvas
        self.alpha = np.zeros(canvas.shape, np.float32)
        self.shade = np.zeros(canvas.shape, np.float32)
        self.detail = np.zeros((*canvas.shape, 3), np.float32)
        yy, xx = np.mgrid[0:canvas.h, 0:canvas.w].astype(np.float32)
        self.xx, self.yy = xx, yy

    def part(self, poly_face, axis_face=None, radius: float = 0.0, base: float = 1.0, flat: float = 0.0) -> np.ndarray:
        """Paint one part over the previous ones; cylinder shading across `axis` (face-frame points)."""
        cov = fill_poly(self.c.shape, [self.c.px(poly_face)])
        if axis_face is not None and radius > 0:
            p0, p1 = self.c.px(axis_face[0]), self.c.px(axis_face[1])
            d = p1 - p0
            length = float(np.hypot(*d)) or 1.0
            n = np.array([-d[1], d[0]]) / length
            across = ((self.xx - p0[0]) * n[0] + (self.yy - p0[1]) * n[1]) / (radius * self.c.ppu)
            along = ((self.xx - p0[0]) * d[0] + (self.yy - p0[1]) * d[1]) / length**2
            bulge = np.sqrt(np.clip(1 - np.clip(np.abs(across), 0, 1) ** 2, 0, 1))
            shade = base * (flat + (1 - flat) * (0.62 + 0.38 * bulge)) * (1 - 0.06 * np.clip(along, 0, 1))
        else:
            shade = np.full(self.c.shape, base, np.float32)
        self.shade = self.shade * (1 - cov) + shade * cov
        self.alpha = np.maximum(self.alpha, cov)
        return cov

    def crease(self, pts_face, width: float, depth: float = 0.22) -> None:
        line = stroke(self.c.shape, self.c.px(smooth_curve(pts_face, 12)), max(1.0, width * self.c.ppu))
        self.shade *= 1 - depth * blur(line, 0.3) * (self.alpha > 0.5)

    def highlight(self, centre_face, radius: float, amount: float = 0.08) -> None:
        cx, cy = self.c.px(centre_face)
        r = radius * self.c.ppu
        g = np.exp(-((self.xx - cx) ** 2 + (self.yy - cy) ** 2) / (2 * r * r))
        self.shade *= 1 + amount * g


def _finger(hp: _HandPainter, pose: HandPose, y: float, width: float, length: float, spread: float, dx: float,
            scale: float, curl: float = 0.0, nails: bool = True) -> None:
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
        cov = fill_poly(hp.c.shape, [hp.c.px(pose(nail))]) * (hp.alpha > 0.5)
        hp.detail += cov[..., None] * np.array([16.0, 3.0, 8.0], np.float32)
        hp.shade *= 1 + 0.06 * cov
        edge = stroke(hp.c.shape, hp.c.px(pose(nail[:14])), max(1.0, 0.012 * scale * hp.c.ppu)) * cov
        hp.detail += edge[..., None] * np.array([26.0, 26.0, 26.0], np.float32)


def _open_hand(hp: _HandPainter, pose: HandPose, scale: float, thumb: bool = True, forearm: bool = True) -> None:
    """An open hand, back towards the camera, fingers together along +x."""
    if forearm:
        arm = capsule([-1.45, 0.05], [-4.2, 0.2], 0.46, 0.52, 16)
        hp.part(pose(arm), pose(np.array([[-1.45, 0.05], [-4.2, 0.2]])), 0.5 * scale, base=0.92)
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
        nail = capsule(t1 - d * 0.14, t1 - d * 0.01, 0.1, 0.09, 10)
        cov = fill_poly(hp.c.shape, [hp.c.px(pose(nail))]) * (hp.alpha > 0.5)
        hp.detail += cov[..., None] * np.array([16.0, 3.0, 8.0], np.float32)
    for y, w, length, spread, dx in _FINGERS:
        _finger(hp, pose, y, w, length, spread, dx, scale)


def _fist(hp: _HandPainter, pose: HandPose, scale: float) -> None:
    """A loose fist seen from the front with the curled fingers' backs on top (x = up the fingers)."""
    arm = capsule([-1.3, 0.0], [-4.5, 0.1], 0.47, 0.55, 16)
    hp.part(pose(arm), pose(np.array([[-1.3, 0.0], [-4.5, 0.1]])), 0.5 * scale, base=0.9)
    back = smooth_curve(np.array([[-0.2, -0.68], [-0.7, -0.66], [-1.4, -0.5], [-1.45, 0.0], [-1.4, 0.5],
                                  [-0.7, 0.62], [-0.2, 0.62], [-0.2, -0.68]]), 60)
    hp.part(pose(back), pose(np.array([[-1.4, 0.0], [-0.2, 0.0]])), 0.7 * scale, base=0.95, flat=0.3)
    for y, w, _, _, dx in _FINGERS:  # curled fingers: short segments ending in the middle knuckles
        base, tip = np.array([-0.3 + dx * 0.5, y]), np.array([0.02 + dx * 0.6, y])
        hp.part(pose(capsule(base, tip, w / 2 + 0.01, w / 2, 12)), pose(np.array([base, tip])), (w / 2) * scale)
        hp.highlight(pose(tip - [0.05, 0])[0], 0.08 * scale, 0.12)
        hp.crease(pose(np.array([[tip[0] - 0.17, y - w * 0.3], [tip[0] - 0.15, y], [tip[0] - 0.17, y + w * 0.3]])),
                  0.012 * scale, 0.22)
    t0, t1 = np.array([-0.9, -0.62]), np.array([0.05, -0.85])
    hp.part(pose(capsule(t0, t1, 0.21, 0.17, 14)), pose(np.array([t0, t1])), 0.2 * scale, base=0.97)


def _side(value, rng) -> int:
    if value in (None, "random"):
        return 1 if rng.random() < 0.5 else -1
    if value in ("left", "right"):
        return -1 if value == "left" else 1
    raise InputError(f"side must be 'left', 'right' or 'random', got {value!r}")


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
    shadow = np.zeros_like(alpha)
    shadow[shift:, shift // 2:] = alpha[:-shift, : alpha.shape[1] - shift // 2]
    shadow = blur(shadow, 0.07 * ppu) * 0.35 * (1 - alpha)
    return canvas.to_layer(ctx.shape, alpha, rgb=detail, tint=tint, shadow=shadow)


def _canvas(ctx: RenderContext) -> Canvas:
    return Canvas(ctx.geom, (-2.6, 2.6, -2.2, 3.0), ppu=float(np.clip(ctx.geom.ipd, 24, 110)))


@register(
    "hand_mouth", "hands",
    "a hand across the mouth, back of the hand to the camera, fingers pointing across the face",
    "hand scale 0.9..1.1 and height: at 1 the index finger covers the nostrils",
    uses_skin=True, side="random",
)
def hand_mouth(ctx: RenderContext) -> Layer:
    s, side = ctx.severity, _side(ctx.params["side"], ctx.rng)
    c = ctx.geom.to_canon(ctx.geom.landmarks68)
    scale = 0.9 + 0.2 * s
    mouth = (c[48] + c[54]) / 2
    origin = np.array([mouth[0] + side * 0.5, mouth[1] + 0.14 - 0.1 * s])
    pose = HandPose(origin, 180 if side > 0 else 0, scale, mirror=side > 0)
    pose.rot = pose.rot @ _rot(side * 8)
    canvas = _canvas(ctx)
    hp = _HandPainter(canvas)
    _open_hand(hp, pose, scale, thumb=False)
    return _finish(ctx, canvas, hp)


def _rot(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


@register(
    "hand_eye", "hands",
    "a palm over one eye, fingers up over the forehead, wrist coming from below at the side",
    "hand scale 0.9..1.15; the palm moves from the outer eye (0) towards the nose (1)",
    uses_skin=True, side="random",
)
def hand_eye(ctx: RenderContext) -> Layer:
    s, side = ctx.severity, _side(ctx.params["side"], ctx.rng)
    scale = 0.9 + 0.25 * s
    eye = ctx.geom.to_canon(ctx.geom.landmarks[:2])[0 if side < 0 else 1]
    origin = eye + np.array([side * (0.22 - 0.14 * s), -0.42])
    pose = HandPose(origin, -90 - side * 12, scale, mirror=side > 0)  # thumb on the outer side
    canvas = _canvas(ctx)
    hp = _HandPainter(canvas)
    _open_hand(hp, pose, scale, thumb=True)
    return _finish(ctx, canvas, hp)


@register(
    "hand_cheek", "hands",
    "a hand resting on one cheek, fingers up along the temple, palm on the jaw",
    "hand scale 0.9..1.15; the hand moves from the face's side (0) over the cheek (1)",
    uses_skin=True, side="random",
)
def hand_cheek(ctx: RenderContext) -> Layer:
    s, side = ctx.severity, _side(ctx.params["side"], ctx.rng)
    c = ctx.geom.to_canon(ctx.geom.landmarks68)
    scale = 0.9 + 0.25 * s
    jaw = c[2] if side < 0 else c[14]
    origin = np.array([jaw[0] + side * (0.1 - 0.35 * s), 0.45])
    pose = HandPose(origin, -90 + side * 18, scale, mirror=side > 0)
    canvas = _canvas(ctx)
    hp = _HandPainter(canvas)
    _open_hand(hp, pose, scale, thumb=True)
    return _finish(ctx, canvas, hp)


@register(
    "chin_rest", "hands",
    "a loose fist under the chin (chin resting on the hand), forearm going down",
    "fist scale 0.9..1.15; the fist rises from under the chin (0) over the mouth (1)",
    uses_skin=True, side="random",
)
def chin_rest(ctx: RenderContext) -> Layer:
    s, side = ctx.severity, _side(ctx.params["side"], ctx.rng)
    c = ctx.geom.to_canon(ctx.geom.landmarks68)
    scale = 0.9 + 0.25 * s
    chin = c[8]
    origin = np.array([chin[0] + side * 0.12, chin[1] + 0.05 - 0.55 * s])
    pose = HandPose(origin, -90 + side * 8, scale, mirror=side < 0)
    canvas = _canvas(ctx)
    hp = _HandPainter(canvas)
    _fist(hp, pose, scale)
    return _finish(ctx, canvas, hp)
