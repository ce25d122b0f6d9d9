"""Face masks: real surgical-mask photos (insightface's bundled textures) warped onto the lower face.

The flat mask texture is mapped with a piecewise-affine mesh (a Coons patch between the mask's
top edge over the nose, its bottom edge under the chin and its sides along the jaw, all taken
from the 68 landmarks). The texture is compressed towards the sides like a cylinder seen from
the front, shaded darker at the sides, under the chin and beside the nose where the mask tents,
and lit like the photo under it. Ear loops are optional.

Severity moves the top edge from the lower nose (0) to the upper nose bridge (1), and the mask
widens slightly with it.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path

import cv2
import numpy as np

from fer.occlusion.base import Layer, RenderContext, pick, register
from fer.occlusion.render import blur, fill_poly, grid_triangles, mesh_warp, relative_lighting, smooth_curve, stroke

TEXTURE_COLOURS = ("white", "blue", "green", "black")
_TEX_W, _TEX_H = 320, 160
_NU, _NV = 11, 6  # mesh columns and rows

# cloth masks: fabric colours (RGB), the black texture gives the weave
CLOTH_COLOURS = {
    "charcoal": (52, 52, 58), "navy": (34, 48, 86), "burgundy": (112, 34, 46), "denim": (78, 100, 136),
    "beige": (196, 178, 150), "olive": (96, 104, 62), "rose": (206, 140, 150),
}


def texture_dir() -> Path | None:
    """insightface's `data/images` folder (it ships the mask textures), located without importing it."""
    spec = importlib.util.find_spec("insightface")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        d = Path(root) / "data" / "images"
        if d.is_dir():
            return d
    return None


@functools.lru_cache(maxsize=8)
def load_texture(colour: str) -> tuple[np.ndarray, bool]:
    """The mask texture (H, W, 3) float32 RGB at the working size; (texture, is_real_photo).

    Falls back to a drawn pleated texture when insightface's files are not installed.
    """
    d = texture_dir()
    path = d / f"mask_{colour}.jpg" if d else None
    if path is not None and path.is_file():
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is not None:
            h, w = bgr.shape[:2]
            iy, ix = int(0.025 * h), int(0.02 * w)  # the photos have a thin background margin
            rgb = bgr[iy:h - iy, ix:w - ix, ::-1]
            return cv2.resize(rgb, (_TEX_W, _TEX_H), interpolation=cv2.INTER_AREA).astype(np.float32), True
    base = {"white": (232, 234, 236), "blue": (120, 170, 215), "green": (110, 170, 140), "black": (50, 50, 54)}[colour]
    tex = np.ones((_TEX_H, _TEX_W, 3), np.float32) * np.array(base, np.float32)
    v = np.arange(_TEX_H, dtype=np.float32)[:, None] / _TEX_H
    pleats = 1 - 0.12 * np.exp(-(((v * 4) % 1 - 0.5) ** 2) / 0.004)
    return tex * pleats[..., None], False


@functools.lru_cache(maxsize=32)
def _shading(kind: str) -> np.ndarray:
    """Texture-space shading (H, W): cylinder-like falloff to the sides, darker under the chin."""
    u = np.linspace(0, 1, _TEX_W, dtype=np.float32)[None, :]
    v = np.linspace(0, 1, _TEX_H, dtype=np.float32)[:, None]
    side = 0.6 + 0.4 * np.clip(np.sin(np.pi * u), 0, 1) ** 0.6
    bottom = 1 - 0.22 * np.clip((v - 0.72) / 0.28, 0, 1) ** 2
    shade = side * bottom
    if kind == "cloth":  # a centre seam over the nose and chin
        seam = 1 - 0.35 * np.exp(-((u - 0.5) ** 2) / (2 * 0.004**2))
        ridge = 1 + 0.07 * np.exp(-((u - 0.47) ** 2) / (2 * 0.03**2))
        shade = shade * seam * ridge
    return np.ascontiguousarray(shade, np.float32)


@functools.lru_cache(maxsize=16)
def _cloth_texture(colour: str) -> np.ndarray:
    weave, _ = load_texture("black")
    lum = weave.mean(axis=2)
    h, w = lum.shape
    centre = lum[h // 8:h - h // 8, w // 8:w - w // 8]  # avoid the welded border seam of the photo
    lum = cv2.resize(centre, (w, h), interpolation=cv2.INTER_LINEAR)
    detail = lum - cv2.GaussianBlur(lum, (0, 0), 1.2)  # fine weave only, not the pleats
    detail = np.clip(detail / 40.0, -1, 1)
    base = np.array(CLOTH_COLOURS[colour], np.float32)
    return np.clip(base[None, None, :] * (1 + 0.45 * detail[..., None]) + 6 * detail[..., None], 0, 255)


def _param_curve(pts: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Sample the Catmull-Rom curve through pts at arc-length fractions t in [0, 1]."""
    dense = smooth_curve(pts, 200)
    seg = np.linalg.norm(np.diff(dense, axis=0), axis=1)
    s = np.concatenate([[0], np.cumsum(seg)])
    s /= max(s[-1], 1e-9)
    return np.stack([np.interp(t, s, dense[:, 0]), np.interp(t, s, dense[:, 1])], 1)


def mask_mesh(canon68: np.ndarray, severity: float, kind: str) -> np.ndarray:
    """Mesh points (_NV, _NU, 2) of the mask in the face frame (IPD units)."""
    L = canon68
    s = severity
    nose_len = L[30, 1] - L[27, 1]
    if kind == "cloth":
        top_c = L[30] - np.array([0, (0.35 + 0.35 * s) * nose_len])
        sag = 0.16
        chin_drop = 0.16
    else:
        top_c = L[30] - np.array([0, (0.2 + 0.4 * s) * nose_len])
        sag = 0.10
        chin_drop = 0.15
    widen = 0.03 + 0.03 * s
    out = lambda p, d: p + np.array([np.sign(p[0]) * d, 0.0])  # noqa: E731  push sideways
    eye_l_bottom = L[40:42].mean(0)
    eye_r_bottom = L[46:48].mean(0)
    top = np.array([
        out(L[1], widen) + [0, 0.06 - 0.08 * s],
        [0.5 * (L[1, 0] + eye_l_bottom[0]), top_c[1] + sag + 0.1],
        [eye_l_bottom[0] + 0.05, top_c[1] + sag],
        top_c,
        [eye_r_bottom[0] - 0.05, top_c[1] + sag],
        [0.5 * (L[15, 0] + eye_r_bottom[0]), top_c[1] + sag + 0.1],
        out(L[15], widen) + [0, 0.06 - 0.08 * s],
    ])
    down = lambda p, d: p + np.array([0.0, d])  # noqa: E731
    bottom = np.array([
        out(L[4], widen), out(down(L[5], chin_drop * 0.4), widen), down(L[6], chin_drop * 0.7),
        down(L[7], chin_drop), down(L[8], chin_drop), down(L[9], chin_drop), down(L[10], chin_drop * 0.7),
        out(down(L[11], chin_drop * 0.4), widen), out(L[12], widen),
    ])
    left = np.array([top[0], out(L[2], widen), out(L[3], widen), bottom[0]])
    right = np.array([top[-1], out(L[14], widen), out(L[13], widen), bottom[-1]])
    uu = np.linspace(0, 1, _NU)
    tu = (1 - np.cos(np.pi * uu)) / 2  # texture squeezed towards the sides, as on a cylinder
    vv = np.linspace(0, 1, _NV)
    T, B = _param_curve(top, tu), _param_curve(bottom, tu)
    Lc, Rc = _param_curve(left, vv), _param_curve(right, vv)
    P00, P10, P01, P11 = T[0], T[-1], B[0], B[-1]
    U = tu[None, :, None]
    V = vv[:, None, None]
    mesh = ((1 - V) * T[None] + V * B[None] + (1 - U) * Lc[:, None] + U * Rc[:, None]
            - ((1 - U) * (1 - V) * P00 + U * (1 - V) * P10 + (1 - U) * V * P01 + U * V * P11))
    return mesh


def _outline(mesh: np.ndarray) -> np.ndarray:
    return np.vstack([mesh[0], mesh[1:, -1], mesh[-1, ::-1][1:], mesh[::-1, 0][1:-1]])


def _render_mask(ctx: RenderContext, tex: np.ndarray, kind: str) -> Layer:
    geom = ctx.geom
    canon = geom.to_canon(geom.landmarks68)
    mesh_c = mask_mesh(canon, ctx.severity, kind)
    mesh = geom.to_image(mesh_c.reshape(-1, 2))
    ih, iw = ctx.shape
    pad = 3 + 0.15 * geom.ipd
    x0 = int(max(0, math.floor(mesh[:, 0].min() - pad)))
    y0 = int(max(0, math.floor(mesh[:, 1].min() - pad)))
    x1 = int(min(iw, math.ceil(mesh[:, 0].max() + pad)))
    y1 = int(min(ih, math.ceil(mesh[:, 1].max() + pad)))
    if x1 <= x0 or y1 <= y0:
        return Layer(0, 0, np.zeros((1, 1), np.float32), np.zeros((1, 1, 3), np.float32))
    shape = (y1 - y0, x1 - x0)
    local = mesh - (x0, y0)
    uu, vv = np.meshgrid(np.linspace(0, _TEX_W - 1, _NU), np.linspace(0, _TEX_H - 1, _NV))
    src_pts = np.stack([uu.ravel(), vv.ravel()], 1)
    src = np.dstack([tex, _shading(kind)])
    warped, _ = mesh_warp(src, src_pts, local, grid_triangles(_NU, _NV), shape)
    rgb, shade = warped[..., :3], warped[..., 3]
    # face-frame shading: shadows beside the nose where the fabric tents, a highlight on the ridge
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    cpts = geom.to_canon(np.stack([xx.ravel() + x0, yy.ravel() + y0], 1)).reshape(*shape, 2)
    cx, cy = cpts[..., 0], cpts[..., 1]
    nose_x = canon[30, 0]
    top_y = mesh_c[0, _NU // 2, 1]
    along = np.clip((cy - top_y) / 0.35, 0, 1) * np.clip((0.75 - cy) / 0.2, 0, 1)  # from the top edge down the nose
    tent = 1 - 0.14 * along * (np.exp(-((np.abs(cx - nose_x) - 0.2) ** 2) / (2 * 0.07**2)))
    ridge = 1 + 0.08 * np.exp(-((cx - nose_x) ** 2) / (2 * 0.06**2)) * (cy < canon[33, 1])
    light = relative_lighting(ctx.image, geom, x0, y0, shape)
    rgb = rgb * (shade * tent * ridge * light)[..., None].astype(np.float32)
    alpha = blur(fill_poly(shape, [_outline(local.reshape(_NV, _NU, 2))]), 0.5)
    # a slightly darker rim where the fabric folds at the edge
    rim = np.clip(alpha - blur(alpha, max(0.8, 0.03 * geom.ipd)) * 1.0, 0, 1)
    rgb *= (1 - 0.3 * rim)[..., None]
    if ctx.params.get("ear_loops", True):
        m = local.reshape(_NV, _NU, 2)
        loop_col = np.clip(np.median(tex.reshape(-1, 3), 0) * 1.05 + 15, 0, 255)
        loops = np.zeros(shape, np.float32)
        lm = canon
        for side, col_idx, jaw_top in ((-1, 0, 0), (1, -1, 16)):
            ear = geom.to_image(np.array([[lm[jaw_top, 0] + side * 0.12, lm[jaw_top, 1] + 0.15]]))[0] - (x0, y0)
            for row in (0, -1):
                a = m[row, col_idx]
                mid = (a + ear) / 2 + np.array([side * 0.04, -0.04]) * geom.ipd
                loop = smooth_curve(np.array([a, mid, ear]), 16)
                loops = np.maximum(loops, stroke(shape, loop, max(1.0, 0.025 * geom.ipd)))
        loops *= 0.9
        rgb = rgb * (1 - loops[..., None]) + loop_col * (loops[..., None]) * light[..., None]
        alpha = np.maximum(alpha, loops)
        rgb = np.where(alpha[..., None] > 0, rgb, 0)
    return Layer(x0, y0, alpha.astype(np.float32), np.clip(rgb, 0, 255).astype(np.float32))


def _mask_occluder(name: str, description: str):
    """`register` with what the masks share: the family, what severity does, the colour and ear-loop parameters."""
    severity = "the top edge rises from the lower nose (0) to the upper nose bridge (1)"
    return register(name, "masks", description, severity, colour="random", ear_loops=True)


@_mask_occluder(
    "surgical_mask",
    "a pleated surgical mask (real photo texture from insightface) over nose, mouth and chin",
)
def surgical_mask(ctx: RenderContext) -> Layer:
    colour = pick(ctx.params["colour"], ("blue", "white", "green", "black"), ctx.rng, weights=(5, 3, 2, 1))
    tex, _ = load_texture(colour)
    return _render_mask(ctx, tex, "surgical")


@_mask_occluder(
    "cloth_mask",
    "a contoured fabric mask with a centre seam (weave from insightface's black mask photo, dyed)",
)
def cloth_mask(ctx: RenderContext) -> Layer:
    colour = pick(ctx.params["colour"], CLOTH_COLOURS, ctx.rng)
    return _render_mask(ctx, _cloth_texture(colour), "cloth")
