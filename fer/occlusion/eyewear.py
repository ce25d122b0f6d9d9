"""Sunglasses and clear eyeglasses, drawn in the face frame and warped onto the face.

Lenses are centred on the detected eye centres (so they follow a tilted face) and lowered where
the brows sit close to the eyes, so the frame's top rim stays under the brows, frames are
thick anti-aliased rims with a highlight along the top, temples run to the face outline, and
a faint shadow falls on the cheeks under the frame. Sunglasses have tinted, graded lenses with
a soft reflection; clear glasses are nearly transparent lenses with thin streak reflections.
"""

from __future__ import annotations

import numpy as np

from fer.occlusion.base import Layer, RenderContext, pick, register
from fer.occlusion.render import Canvas, Painter, blur, fill_poly, smooth_curve, stroke, superellipse

FRAME_COLOURS = {
    "black": (22, 22, 25), "tortoise": (92, 56, 30), "gold": (190, 160, 90), "silver": (170, 172, 178),
    "navy": (30, 38, 70), "red": (150, 30, 35),
}
TINTS = {"grey": (28, 30, 30), "green": (30, 45, 32), "brown": (60, 40, 25), "blue": (25, 40, 70)}


def _lens(centre, half_w: float, half_h: float, power: float, side: int) -> np.ndarray:
    """Lens outline around `centre` (face frame): a superellipse narrowing at the bottom and towards the nose."""
    pts = superellipse((0, 0), (half_w, half_h), power, 72)
    x, y = pts[:, 0], pts[:, 1]
    x = x * (1 - 0.14 * np.clip(y / half_h, 0, 1))  # wayfarer-like: the lower edge is narrower
    inner = (x * side) < 0  # towards the nose: trim the lower inner corner
    y = np.where(inner & (y > 0), y * (1 - 0.18 * np.abs(x) / half_w), y)
    return np.stack([x, y], 1) + np.asarray(centre)


def _glasses(ctx: RenderContext, sun: bool) -> Layer:
    geom, s, rng = ctx.geom, ctx.severity, ctx.rng
    canvas = Canvas(geom, (-1.5, 1.5, -0.85, 0.8))
    c68 = geom.to_canon(geom.landmarks68)
    eyes = geom.to_canon(geom.landmarks[:2])
    ppu = canvas.ppu
    if sun:
        half_w, half_h, power = 0.36 + 0.06 * s, 0.26 + 0.05 * s, 2.6
        rim = 0.05 + 0.02 * s
    else:
        half_w, half_h, power = 0.33 + 0.03 * s, 0.22 + 0.03 * s, 2.8
        rim = 0.016 + 0.016 * s
    frame = np.asarray(FRAME_COLOURS[pick(ctx.params["frame"], FRAME_COLOURS, rng, "frame colour")], np.float32)
    painter = Painter(canvas.shape)
    # the frame's top (2 rims above the lens edge, as drawn) stays 0.04 IPD under the brows' arches: real
    # 68 points often put the brows ~0.35 IPD above the eye centres (the mean shape: 0.49). The lenses get
    # shallower first (to 0.8 of their height), then move down, by at most 0.12 IPD (the eyes stay behind
    # the lenses on a frowning face); glasses are rigid, so both lenses get the same size and shift
    room = min(eye[1] - float(c68[arch, 1].mean()) for eye, arch in ((eyes[0], [18, 19, 20]), (eyes[1], [23, 24, 25])))
    room -= 0.04 + 0.01 + 2 * rim  # from the lens edge to 0.04 IPD under the brows, the lens centred 0.01 IPD up
    half_h = float(np.clip(room, 0.8 * half_h, half_h))
    drop = float(np.clip(half_h - room, 0.0, 0.12))
    lenses, centres, lens_cov = [], [], np.zeros(canvas.shape, np.float32)
    for side, eye in ((-1, eyes[0]), (1, eyes[1])):
        centre = eye + np.array([side * 0.05, -0.01 + drop])
        outline = _lens(centre, half_w, half_h, power, side)
        lenses.append(outline)
        centres.append(centre)
        lens_cov = np.maximum(lens_cov, fill_poly(canvas.shape, [canvas.px(outline)]))
    X, Y = canvas.grid()
    # lens body
    if sun:
        tint = np.asarray(TINTS[pick(ctx.params["tint"], TINTS, rng, "tint")], np.float32)
        opacity = 0.7 + 0.25 * s
        grade = np.clip(opacity + 0.1 - 0.25 * (Y + half_h) / (2 * half_h), 0.35, 0.97)  # darker at the top
        painter.paint(lens_cov, tint, grade)
        refl_strength = 0.22
    else:
        painter.paint(lens_cov, (215, 228, 235), 0.07)
        refl_strength = 0.12 + 0.18 * s
    # reflections: a broad soft diagonal band and a thin streak on each lens
    for eye in centres:
        u = (X - eye[0]) * 0.8 + (Y - eye[1]) * 0.6
        band = np.exp(-((u + 0.08) ** 2) / (2 * 0.05**2)) + 0.6 * np.exp(-((u - 0.1) ** 2) / (2 * 0.015**2))
        fade = np.clip(1 - ((X - eye[0]) ** 2 + (Y - eye[1]) ** 2) / (1.2 * half_w) ** 2, 0, 1)
        painter.paint(lens_cov * band * fade, (255, 255, 255), refl_strength)
    # frame rims, bridge, temples
    rim_px = max(1.0, rim * ppu)
    rims = np.zeros(canvas.shape, np.float32)
    for outline in lenses:
        rims = np.maximum(rims, stroke(canvas.shape, canvas.px(outline), rim_px, closed=True))
        top = outline[outline[:, 1] < outline[:, 1].mean() - 0.3 * half_h]
        top = top[np.argsort(top[:, 0])]
        rims = np.maximum(rims, stroke(canvas.shape, canvas.px(top - [0, rim * 0.3]), rim_px * 1.4))
    inner_l, inner_r = lenses[0][np.argmax(lenses[0][:, 0])], lenses[1][np.argmin(lenses[1][:, 0])]
    bridge_y = min(inner_l[1], inner_r[1]) - 0.06
    bridge_mid = [0.5 * (inner_l[0] + inner_r[0]), bridge_y]
    bridge = smooth_curve(np.array([inner_l + [0, -0.05], bridge_mid, inner_r + [0, -0.05]]), 24)
    rims = np.maximum(rims, stroke(canvas.shape, canvas.px(bridge), rim_px * 0.9))
    for side, outline, jaw in ((-1, lenses[0], c68[0]), (1, lenses[1], c68[16])):
        outer = outline[np.argmax(side * outline[:, 0])]
        start = outer + np.array([0, -0.6 * half_h])
        end = np.array([jaw[0] - side * 0.03, start[1] + 0.04])
        if side * (end[0] - start[0]) > 0.02:
            rims = np.maximum(rims, stroke(canvas.shape, canvas.px(np.array([start, end])), rim_px * 0.8))
    # frame colour with a lighter highlight along the upper edges and a darker underside
    shade = np.clip(1.0 - 0.35 * blur(np.gradient(blur(rims, 0.8), axis=0), 0.5) * ppu / 8, 0.6, 1.6)
    frame_rgb = np.clip(frame[None, None, :] * shade[..., None] + 25 * (shade[..., None] - 1), 0, 255)
    painter.paint(rims, frame_rgb, 1.0)
    # a faint shadow of the frame on the cheeks
    shift = int(round(0.05 * ppu))
    shadow = np.zeros(canvas.shape, np.float32)
    shadow[shift:] = rims[:-shift] if shift else rims
    shadow = blur(np.maximum(shadow, lens_cov * (0.5 if sun else 0.0)), 0.04 * ppu) * 0.25
    return canvas.to_layer(ctx.shape, painter.alpha, painter.rgb(), shadow=shadow * (1 - painter.alpha))


@register(
    "sunglasses", "eyewear",
    "sunglasses: thick frame with highlights, graded tinted lenses with a soft reflection",
    "lens half-width 0.36..0.42 IPD and tint opacity 0.7..0.95 grow with severity",
    frame="black", tint="grey",
)
def sunglasses(ctx: RenderContext) -> Layer:
    return _glasses(ctx, sun=True)


@register(
    "eyeglasses", "eyewear",
    "clear eyeglasses: thin frame, nearly transparent lenses with streak reflections",
    "frame thickness 0.016..0.032 IPD, lens size and reflection strength grow with severity",
    frame="random",
)
def eyeglasses(ctx: RenderContext) -> Layer:
    return _glasses(ctx, sun=False)
