"""Headwear and hair over the brows: a hair fringe (bangs) and a knitted beanie pulled low.

Both are drawn in the face frame from the brow and jaw landmarks. The fringe is a few hundred
hair strands (thin tapered curves with varied brightness) over a darker base, in the hair colour
sampled above the forehead; the beanie is a rib-knit cuff and a knitted crown, shaded like a
cylinder, casting a shadow on the forehead.

Severity lowers the lower edge: from the upper forehead (0) to over the brows / upper eyelids (1).
"""

from __future__ import annotations

import numpy as np

from fer.occlusion.base import Layer, RenderContext, pick_colour, register
from fer.occlusion.knit import knit_shading, knit_start
from fer.occlusion.render import (
    Canvas,
    Painter,
    blur,
    disc_pixels,
    drop_shadow,
    fill_poly,
    skin_tone,
    smooth_curve,
    stroke,
    window_of,
)

_DEFAULT_HAIR = np.array([92.0, 64.0, 40.0], np.float32)
HAIR_COLOURS = {"brown": (92, 64, 40), "black": (30, 26, 24), "blond": (196, 160, 100), "auburn": (130, 60, 34),
                "grey": (150, 146, 140)}


def hair_colour(ctx: RenderContext) -> np.ndarray:
    """Median colour just above the forehead, when it differs from the skin; else a mid brown."""
    geom = ctx.geom
    pts = geom.to_image(np.array([[0.0, -1.25], [-0.55, -1.15], [0.55, -1.15]]))
    px = disc_pixels(ctx.image, pts, 0.12 * geom.ipd).astype(np.float32)
    if len(px) < 10:
        return _DEFAULT_HAIR.copy()
    med = np.median(px, 0)
    skin = skin_tone(ctx.image, geom)
    if np.abs(med - skin).mean() < 25 or med.std() < 4 and med.mean() > 150:  # skin or a plain backdrop
        return _DEFAULT_HAIR.copy()
    return med


def _brow_y(c68: np.ndarray) -> float:
    return float(c68[17:27, 1].mean())


@register(
    "fringe", "headwear",
    "a hair fringe (bangs) over the forehead and brows, hair colour sampled above the forehead",
    "the fringe's lower edge moves from mid-forehead (0) to the upper eyelids (1)",
    colour="auto",
)
def fringe(ctx: RenderContext) -> Layer:
    geom, s, rng = ctx.geom, ctx.severity, ctx.rng
    c68 = geom.to_canon(geom.landmarks68)
    colour = ctx.params["colour"]
    base_col = hair_colour(ctx) if colour in (None, "auto") else pick_colour(colour, HAIR_COLOURS, rng)
    canvas = Canvas(geom, (-1.5, 1.5, -1.9, 0.4))
    ppu = canvas.ppu
    brow = _brow_y(c68)
    bottom = brow - 0.4 + 0.48 * s  # lower edge of the fringe at the centre
    half_w = 0.5 * (c68[16, 0] - c68[0, 0]) * 1.02
    hairline = brow - 0.75  # strands start here and fade in, merging with the real hair above
    crown = np.array([0.0, brow - 2.2])  # strands radiate from the crown
    X, Y = canvas.grid()
    fade_in = np.clip((Y - (hairline - 0.35)) / 0.35, 0, 1)
    painter = Painter(canvas.shape)

    def lower_edge(x):  # blunt across the middle, longer towards the temples
        return bottom + 0.35 * np.clip(np.abs(x) / half_w - 0.55, 0, 1) ** 1.5

    xs = np.linspace(-half_w, half_w, 48)
    edge = lower_edge(xs) - 0.1 + rng.normal(0, 0.025, xs.shape)
    sheet = np.vstack([[[-half_w * 0.55, hairline - 0.4]], [[-half_w * 0.95, hairline + 0.1]], np.stack([xs, edge], 1),
                       [[half_w * 0.95, hairline + 0.1]], [[half_w * 0.55, hairline - 0.4]]])
    painter.paint(blur(fill_poly(canvas.shape, [canvas.px(sheet)]), 0.03 * ppu) * fade_in, base_col * 0.72)
    for _ in range(300):
        x_end = rng.uniform(-half_w, half_w)
        y_end = lower_edge(x_end) + rng.normal(0, 0.04)
        d = np.array([x_end, y_end]) - crown
        start = crown + d * ((hairline - 0.4 - crown[1]) / d[1])
        mid = (start + np.array([x_end, y_end])) / 2 + np.array([rng.normal(0, 0.04) + 0.06 * x_end, 0])
        curve = smooth_curve(np.array([start, mid, [x_end, y_end]]), 12)
        w = rng.uniform(0.012, 0.028) * ppu
        bright, opacity = rng.uniform(0.65, 1.25), rng.uniform(0.5, 0.85)
        pts = canvas.px(curve)
        win = window_of(canvas.shape, pts, w + 2)
        if win is None:
            continue
        sl, off = win
        cov = stroke(Y[sl].shape, pts - off, max(1.0, w))
        taper = np.clip((y_end - Y[sl]) / 0.15, 0.2, 1.0)  # thinner, fainter tips
        painter.paint(cov * taper * fade_in[sl], np.clip(base_col * bright, 0, 255), opacity, window=sl)
    # subtle sheen band across the fringe
    sheen = np.exp(-((Y - (hairline + bottom) / 2) ** 2) / (2 * 0.08**2)) * painter.alpha
    painter.paint(sheen, np.clip(base_col * 1.6 + 30, 0, 255), 0.15)
    alpha = painter.alpha
    shadow = drop_shadow(alpha, max(1, int(0.05 * ppu)), 0, 0.05 * ppu, 0.35)
    return canvas.to_layer(ctx.shape, alpha, painter.rgb(), shadow=shadow)


@register(
    "beanie", "headwear",
    "a knitted beanie pulled low over the forehead (rib-knit cuff, knitted crown)",
    "the cuff's lower edge moves from the upper forehead (0) to over the brows (1)",
    colour="random",
)
def beanie(ctx: RenderContext) -> Layer:
    s, rng = ctx.severity, ctx.rng
    c68, colour, canvas, X, Y = knit_start(ctx, (-1.6, 1.6, -3.0, 0.5))
    ppu = canvas.ppu
    lower = _brow_y(c68) - 0.42 + 0.5 * s
    top = _brow_y(c68) - 2.37  # the crown stays on the top of the head: pulled lower, the hat stretches
    k = (lower - top) / 1.95
    half_w = 0.5 * (c68[16, 0] - c68[0, 0]) + 0.3
    cuff_h = 0.38
    # lower edge curves up slightly at the sides (the hat wraps the head)
    edge = lower - 0.18 * (X / half_w) ** 2
    cuff_top = edge - cuff_h
    crown = smooth_curve(np.array([[-half_w, lower - 0.1], [-half_w * 1.04, lower - 0.7 * k],
                                   [-half_w * 0.85, lower - 1.5 * k], [0, top], [half_w * 0.85, lower - 1.5 * k],
                                   [half_w * 1.04, lower - 0.7 * k], [half_w, lower - 0.1]]), 60)
    brim = smooth_curve(np.array([[half_w, lower - 0.18], [0, lower], [-half_w, lower - 0.18]]), 30)
    outline = np.vstack([crown, brim])
    cov = blur(fill_poly(canvas.shape, [canvas.px(outline)]), 0.01 * ppu)
    in_cuff = (Y > cuff_top).astype(np.float32)
    in_cuff = blur(in_cuff, 0.01 * ppu)
    knit = in_cuff * knit_shading(X, Y, ppu, rng, rib=True) + (1 - in_cuff) * knit_shading(X, Y, ppu, rng, rib=False)
    cyl = 0.62 + 0.38 * np.sqrt(np.clip(1 - (X / (half_w * 1.05)) ** 2, 0, 1))
    fold = 1 - 0.3 * np.exp(-((Y - cuff_top) ** 2) / (2 * 0.025**2))  # the shadow line of the folded cuff
    dome = 1 - 0.25 * np.clip((cuff_top - Y - 0.2) / 1.6, 0, 1)  # the crown turns away from the camera
    rgb = colour[None, None, :] * (knit * cyl * fold * dome)[..., None]
    rgb = np.clip(rgb, 0, 255).astype(np.float32)
    shadow = drop_shadow(cov, max(1, int(0.06 * ppu)), 0, 0.06 * ppu, 0.4)
    return canvas.to_layer(ctx.shape, cov, rgb, shadow=shadow)
