"""Everyday objects in front of the face: a handheld microphone and a coffee cup.

Both are shaded as lit solids (sphere or cylinder, light from the upper left) with specular
highlights, drawn in the face frame and placed from the mouth landmarks.
"""

from __future__ import annotations

import numpy as np

from fer.occlusion.base import Layer, RenderContext, pick_colour, pick_side, register
from fer.occlusion.render import Canvas, Painter, blur, capsule, drop_shadow, ellipse_poly, fill_poly, stroke

_LIGHT = np.array([-0.45, -0.6, 0.66])
_LIGHT = _LIGHT / np.linalg.norm(_LIGHT)


def _cylinder_shade(X, centre_x, radius):
    t = np.clip((X - centre_x) / radius, -1, 1)
    n = np.stack([t, np.zeros_like(t), np.sqrt(1 - t**2)], -1)
    lam = np.clip(n @ _LIGHT, 0, 1)
    spec = np.clip(n @ (_LIGHT + np.array([0, 0, 1.0])) / np.linalg.norm(_LIGHT + np.array([0, 0, 1.0])), 0, 1) ** 40
    return 0.35 + 0.75 * lam, spec


def _shadow_of(alpha, ppu):
    sh = max(1, int(0.06 * ppu))
    return drop_shadow(alpha, sh, sh, 0.07 * ppu, 0.35)


@register(
    "microphone", "objects",
    "a handheld microphone (metal mesh ball, dark handle) in front of the mouth",
    "size (ball radius 0.28..0.36 IPD) and height: from below the lips (0) over the mouth (1)",
    side="random",
)
def microphone(ctx: RenderContext) -> Layer:
    geom, s = ctx.geom, ctx.severity
    side = pick_side(ctx.params["side"], ctx.rng)
    c68 = geom.to_canon(geom.landmarks68)
    mouth = (c68[48] + c68[54]) / 2
    r = 0.28 + 0.08 * s
    centre = mouth + np.array([side * 0.15, 0.5 - 0.45 * s])
    canvas = Canvas(geom, (-2.2, 2.2, -0.5, 3.8))
    ppu = canvas.ppu
    X, Y = canvas.grid()
    painter = Painter(canvas.shape)
    # handle: a tapered black cylinder going down and outwards
    end = centre + np.array([side * 0.55, 2.4])
    handle = capsule(centre + [0, 0.2], end, 0.16, 0.11, 16)
    cov = fill_poly(canvas.shape, [canvas.px(handle)])
    d = (end - centre) / np.linalg.norm(end - centre)
    across = (X - centre[0]) * d[1] - (Y - centre[1]) * d[0]
    shade, spec = _cylinder_shade(across, 0.0, 0.16)
    painter.paint(cov, np.stack([shade * 30, shade * 30, shade * 33], -1) + 200 * spec[..., None])
    # collar ring
    ring = fill_poly(canvas.shape, [canvas.px(ellipse_poly(centre + [0, r * 0.78], (r * 0.7, r * 0.24)))])
    shade_r, spec_r = _cylinder_shade(X, centre[0], r * 0.7)
    painter.paint(ring, np.stack([shade_r * 70] * 3, -1) + 160 * spec_r[..., None])
    # mesh ball: sphere shading times a diamond wire grid
    dx, dy = (X - centre[0]) / r, (Y - centre[1]) / r
    rr = np.clip(dx**2 + dy**2, 0, 1)
    n = np.stack([dx, dy, np.sqrt(1 - rr)], -1)
    lam = np.clip(n @ _LIGHT, 0, 1)
    h = _LIGHT + np.array([0, 0, 1.0])
    spec_b = np.clip(n @ (h / np.linalg.norm(h)), 0, 1) ** 25
    k = 9.0
    u, v = (dx + dy) * k, (dx - dy) * k
    wires = np.maximum(np.abs(np.sin(u * np.pi)) < 0.35, np.abs(np.sin(v * np.pi)) < 0.35).astype(np.float32)
    wires = blur(wires, 0.4)
    base = 55 + 150 * lam
    col = ((base * (0.45 + 0.55 * wires))[..., None] * np.array([1.0, 1.0, 1.03])
           + 140 * spec_b[..., None] * wires[..., None])
    ball = fill_poly(canvas.shape, [canvas.px(ellipse_poly(centre, (r, r), n=64))])
    painter.paint(ball, np.clip(col, 0, 255))
    ball_edge = stroke(canvas.shape, canvas.px(ellipse_poly(centre, (r, r), n=64)), max(1.0, 0.02 * ppu), True)
    painter.paint(ball_edge, (60, 60, 64), 0.6)
    alpha = blur(painter.alpha, 0.4)
    return canvas.to_layer(ctx.shape, alpha, painter.rgb(), shadow=_shadow_of(alpha, ppu))


MUG_COLOURS = {"white": (236, 234, 228), "red": (180, 40, 40), "blue": (40, 80, 150), "yellow": (226, 186, 60),
               "black": (40, 40, 42)}


@register(
    "cup", "objects",
    "a mug held up to the mouth (glazed ceramic cylinder with a handle)",
    "mug size 0.75..0.95 IPD wide and height: from the chin (0) over the mouth and nose tip (1)",
    side="random", colour="random",
)
def cup(ctx: RenderContext) -> Layer:
    geom, s, rng = ctx.geom, ctx.severity, ctx.rng
    side = pick_side(ctx.params["side"], rng)
    colour = pick_colour(ctx.params["colour"], MUG_COLOURS, rng)
    c68 = geom.to_canon(geom.landmarks68)
    mouth = (c68[48] + c68[54]) / 2
    half = 0.38 + 0.1 * s
    height = half * 2.3
    top = mouth[1] + 0.15 - 0.55 * s
    cx = mouth[0] + side * 0.1
    canvas = Canvas(geom, (-2.0, 2.0, -0.6, 3.4))
    ppu = canvas.ppu
    X, Y = canvas.grid()
    painter = Painter(canvas.shape)
    ell = half * 0.22  # rim ellipse half-height (seen slightly from above)
    body = np.vstack([[[cx + half, top]], [[cx + half * 0.96, top + height - ell]],
                      ellipse_poly((cx, top + height - ell), (half * 0.96, ell), n=64)[0:33], [[cx - half, top]]])
    # handle on the outer side
    hx = cx + side * half
    handle_outer = ellipse_poly((hx + side * 0.05, top + height * 0.45), (half * 0.45, height * 0.3), n=40)
    handle_inner = ellipse_poly((hx + side * 0.05, top + height * 0.45), (half * 0.25, height * 0.18), n=40)
    hcov = np.clip(
        fill_poly(canvas.shape, [canvas.px(handle_outer)]) - fill_poly(canvas.shape, [canvas.px(handle_inner)]), 0, 1
    )
    shade_h, spec_h = _cylinder_shade(X, hx + side * 0.05, half * 0.45)
    painter.paint(hcov, colour[None, None, :] * shade_h[..., None] * 0.9 + 120 * spec_h[..., None])
    bcov = fill_poly(canvas.shape, [canvas.px(body)])
    shade, spec = _cylinder_shade(X, cx, half)
    painter.paint(bcov, np.clip(colour[None, None, :] * shade[..., None] + 180 * spec[..., None], 0, 255))
    # rim: the lip of the mug and the dark coffee inside
    rim = fill_poly(canvas.shape, [canvas.px(ellipse_poly((cx, top), (half, ell), n=64))])
    inner = fill_poly(canvas.shape, [canvas.px(ellipse_poly((cx, top + ell * 0.1), (half * 0.9, ell * 0.8), n=64))])
    painter.paint(rim, np.clip(colour * 1.08, 0, 255))
    painter.paint(inner, (62, 40, 26))
    alpha = blur(painter.alpha, 0.4)
    return canvas.to_layer(ctx.shape, alpha, painter.rgb(), shadow=_shadow_of(alpha, ppu))
