"""Drawing helpers shared by the occluders: anti-aliased shapes, a face-frame canvas, mesh warps,
skin tone and scene lighting estimates.

Most occluders draw in the *face frame* (IPD units, eye midpoint at the origin, upright) on a
small `Canvas`, then warp the canvas onto the image with one similarity transform, so a tilted
face gets a tilted occluder and the drawing code never deals with rotation or image size.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from fer.occlusion.base import FaceGeometry, Layer

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT


def _fixed(pts: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(pts, np.float64) * _ONE).astype(np.int32)


def fill_poly(shape: tuple[int, int], polys, value: float = 1.0) -> np.ndarray:
    """Anti-aliased filled polygon(s) (pixel coordinates, float) as float32 coverage in [0, value]."""
    buf = np.zeros(shape, np.uint8)
    cv2.fillPoly(buf, [_fixed(p).reshape(-1, 1, 2) for p in polys], 255, cv2.LINE_AA, _SHIFT)
    return buf.astype(np.float32) * (value / 255.0)


def stroke(shape: tuple[int, int], pts, thickness: float, closed: bool = False) -> np.ndarray:
    """Anti-aliased polyline coverage (float32 in [0, 1])."""
    buf = np.zeros(shape, np.uint8)
    cv2.polylines(buf, [_fixed(pts).reshape(-1, 1, 2)], closed, 255, max(1, int(round(thickness))), cv2.LINE_AA, _SHIFT)
    return buf.astype(np.float32) / 255.0


def window_of(shape: tuple[int, int], pts: np.ndarray, pad: float):
    """Slices of the box around pixel points `pts` (padded, clipped to `shape`) and its origin; None if empty."""
    h, w = shape
    x0 = int(np.clip(np.floor(pts[:, 0].min() - pad), 0, w))
    x1 = int(np.clip(np.ceil(pts[:, 0].max() + pad) + 1, 0, w))
    y0 = int(np.clip(np.floor(pts[:, 1].min() - pad), 0, h))
    y1 = int(np.clip(np.ceil(pts[:, 1].max() + pad) + 1, 0, h))
    if x1 <= x0 or y1 <= y0:
        return None
    return (slice(y0, y1), slice(x0, x1)), np.array([x0, y0], np.float64)


def capsule(p0, p1, r0: float, r1: float | None = None, n: int = 12) -> np.ndarray:
    """Polygon of a (tapered) capsule from p0 (radius r0) to p1 (radius r1): a finger, a strap."""
    r1 = r0 if r1 is None else r1
    p0, p1 = np.asarray(p0, np.float64), np.asarray(p1, np.float64)
    d = p1 - p0
    ang = math.atan2(d[1], d[0])
    a1 = np.linspace(ang - math.pi / 2, ang + math.pi / 2, n)  # cap around p1
    a0 = np.linspace(ang + math.pi / 2, ang + 3 * math.pi / 2, n)  # cap around p0
    cap1 = p1 + r1 * np.stack([np.cos(a1), np.sin(a1)], 1)
    cap0 = p0 + r0 * np.stack([np.cos(a0), np.sin(a0)], 1)
    return np.vstack([cap1, cap0])


def ellipse_poly(centre, axes, angle_deg: float = 0.0, n: int = 48) -> np.ndarray:
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    pts = np.stack([axes[0] * np.cos(t), axes[1] * np.sin(t)], 1)
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return pts @ rot.T + np.asarray(centre, np.float64)


def superellipse(centre, axes, power: float = 4.0, n: int = 64) -> np.ndarray:
    """A rounded rectangle-like closed curve |x/a|^p + |y/b|^p = 1 (lens shapes)."""
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    x = axes[0] * np.sign(c) * np.abs(c) ** (2 / power)
    y = axes[1] * np.sign(s) * np.abs(s) ** (2 / power)
    return np.stack([x, y], 1) + np.asarray(centre, np.float64)


def smooth_curve(pts, n: int = 64) -> np.ndarray:
    """Catmull-Rom spline through `pts` (open curve), `n` samples."""
    p = np.asarray(pts, np.float64)
    if len(p) < 3:
        t = np.linspace(0, 1, n)[:, None]
        return p[0] + (p[-1] - p[0]) * t
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    seg = len(p) - 1
    ts = np.linspace(0, seg, n)
    i = np.minimum(ts.astype(int), seg - 1)
    t = (ts - i)[:, None]
    p0, p1, p2, p3 = ext[i], ext[i + 1], ext[i + 2], ext[i + 3]
    return 0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                  + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)


def blur(a: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0.05:
        return a
    return cv2.GaussianBlur(a, (0, 0), sigma)


def value_noise(shape: tuple[int, int], scale: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth noise in [0, 1] with features of about `scale` pixels (bicubic-upsampled random grid)."""
    h, w = shape
    gh, gw = max(2, int(h / max(scale, 1)) + 2), max(2, int(w / max(scale, 1)) + 2)
    grid = rng.random((gh, gw)).astype(np.float32)
    return np.clip(cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC), 0, 1)


def drop_shadow(alpha: np.ndarray, dy: int, dx: int, sigma: float, strength: float) -> np.ndarray:
    """The soft shadow a layer of coverage `alpha` casts: moved `dy` pixels down and `dx` right, blurred by
    `sigma`, `strength` dark at most, and only where the layer itself does not cover."""
    h, w = alpha.shape
    shadow = np.zeros_like(alpha)
    shadow[dy:, dx:] = alpha[: h - dy, : w - dx]
    return blur(shadow, sigma) * strength * (1 - alpha)


class Painter:
    """Paints colours 'over' each other with coverage maps (premultiplied alpha), on one plane."""

    def __init__(self, shape: tuple[int, int]):
        self.prem = np.zeros((*shape, 3), np.float32)
        self.alpha = np.zeros(shape, np.float32)

    def paint(self, coverage: np.ndarray, colour, opacity=1.0, window: tuple[slice, slice] | None = None) -> None:
        """Paint `colour` with `coverage` x `opacity` over what is there; `window` = the slices the
        coverage covers when it is smaller than the plane."""
        sl = window or (slice(None), slice(None))
        a = np.clip(coverage * opacity, 0, 1).astype(np.float32)
        col = np.asarray(colour, np.float32)
        col = col if col.ndim == 3 else col[None, None, :]
        self.prem[sl] = self.prem[sl] * (1 - a[..., None]) + col * a[..., None]
        self.alpha[sl] = self.alpha[sl] * (1 - a) + a

    def rgb(self) -> np.ndarray:
        return self.prem / np.maximum(self.alpha, 1e-6)[..., None]


# --- face-frame canvas --------------------------------------------------------------------
class Canvas:
    """A drawing surface covering `extent` = (x0, x1, y0, y1) of the face frame (IPD units).

    `ppu` is canvas pixels per IPD: about the face's own IPD in the image (so the warp neither
    blurs nor aliases much), bounded to keep small faces drawable and big ones cheap.
    """

    def __init__(self, geom: FaceGeometry, extent: tuple[float, float, float, float], ppu: float | None = None):
        self.geom = geom
        self.extent = extent
        self.ppu = float(ppu if ppu is not None else np.clip(geom.ipd, 24.0, 160.0))
        x0, x1, y0, y1 = extent
        self.w = max(2, int(math.ceil((x1 - x0) * self.ppu)))
        self.h = max(2, int(math.ceil((y1 - y0) * self.ppu)))

    @property
    def shape(self) -> tuple[int, int]:
        return (self.h, self.w)

    def px(self, pts) -> np.ndarray:
        """Face-frame points -> canvas pixels."""
        p = np.asarray(pts, np.float64)
        return (p - np.array([self.extent[0], self.extent[2]])) * self.ppu

    def landmarks68(self) -> np.ndarray:
        """The face's 68 landmarks in canvas pixels."""
        return self.px(self.geom.to_canon(self.geom.landmarks68))

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Face-frame coordinates (X, Y) of every canvas pixel (cv2 convention: pixel centres at integers)."""
        xs = self.extent[0] + np.arange(self.w, dtype=np.float32) / self.ppu
        ys = self.extent[2] + np.arange(self.h, dtype=np.float32) / self.ppu
        return np.meshgrid(xs, ys)

    def matrix_to_image(self) -> np.ndarray:
        """(2, 3) affine canvas pixel -> image pixel."""
        to_canon = np.array([[1 / self.ppu, 0, self.extent[0]], [0, 1 / self.ppu, self.extent[2]], [0, 0, 1]])
        return self.geom.canon_matrix() @ to_canon

    def to_layer(self, image_shape: tuple[int, int], alpha: np.ndarray, rgb: np.ndarray | None = None,
                 tint: np.ndarray | None = None, shadow: np.ndarray | None = None) -> Layer:
        """Warp the canvas planes into the image; the layer is clipped to the image rectangle."""
        m = self.matrix_to_image()
        corners = np.array([[0, 0], [self.w, 0], [self.w, self.h], [0, self.h]], np.float64)
        img_c = corners @ m[:, :2].T + m[:, 2]
        h, w = image_shape
        x0 = int(max(0, math.floor(img_c[:, 0].min())))
        y0 = int(max(0, math.floor(img_c[:, 1].min())))
        x1 = int(min(w, math.ceil(img_c[:, 0].max()) + 1))
        y1 = int(min(h, math.ceil(img_c[:, 1].max()) + 1))
        if x1 <= x0 or y1 <= y0:
            return Layer(0, 0, np.zeros((1, 1), np.float32), np.zeros((1, 1, 3), np.float32))
        mm = m.copy()
        mm[:, 2] -= (x0, y0)
        size = (x1 - x0, y1 - y0)

        def warp(a):
            if a is None:
                return None
            a = np.ascontiguousarray(a, np.float32)
            return cv2.warpAffine(a, mm, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

        return Layer(x0, y0, np.clip(warp(alpha), 0, 1), warp(rgb), warp(tint), warp(shadow))


# --- mesh warp ----------------------------------------------------------------------------
def mesh_warp(src: np.ndarray, src_pts: np.ndarray, dst_pts: np.ndarray, triangles: np.ndarray,
              out_shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-affine warp of `src` (h, w, C float32) so that src_pts land on dst_pts.

    Returns (warped (H, W, C), inside (H, W) bool) for an output of `out_shape`. One pass: the
    triangles are rasterised to an id map, each pixel gets its triangle's inverse affine, and a
    single `cv2.remap` samples the source.
    """
    h, w = out_shape
    ids = np.zeros((h, w), np.int32)
    tri_dst = dst_pts[triangles]  # (T, 3, 2)
    for t, tri in enumerate(tri_dst):
        cv2.fillConvexPoly(ids, _fixed(tri).reshape(-1, 1, 2), t + 1, cv2.LINE_8, _SHIFT)
    # grow by 2 px so anti-aliased outline pixels just outside the mesh still get a mapping
    grown = cv2.dilate(ids.astype(np.float32), np.ones((5, 5), np.uint8)).astype(np.int32)
    inside = ids > 0
    ids = np.where(inside, ids, grown)
    affines = np.zeros((len(triangles) + 1, 2, 3), np.float32)
    for t, tri in enumerate(triangles):
        affines[t + 1] = cv2.getAffineTransform(dst_pts[tri].astype(np.float32), src_pts[tri].astype(np.float32))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = affines[ids]  # (H, W, 2, 3)
    map_x = a[..., 0, 0] * xx + a[..., 0, 1] * yy + a[..., 0, 2]
    map_y = a[..., 1, 0] * xx + a[..., 1, 1] * yy + a[..., 1, 2]
    # pixels just outside the mesh extrapolate their triangle's affine: replicate the source edge
    warped = cv2.remap(np.ascontiguousarray(src, np.float32), map_x, map_y, cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
    warped[ids == 0] = 0
    if warped.ndim == 2:
        warped = warped[..., None]
    return warped, inside


def grid_triangles(nu: int, nv: int) -> np.ndarray:
    """Triangles of a nu x nv grid of points indexed v * nu + u."""
    tris = []
    for v in range(nv - 1):
        for u in range(nu - 1):
            a, b, c, d = v * nu + u, v * nu + u + 1, (v + 1) * nu + u, (v + 1) * nu + u + 1
            tris += [(a, b, d), (a, d, c)]
    return np.asarray(tris, np.int32)


# --- appearance estimates from the photo --------------------------------------------------
def disc_pixels(image: np.ndarray, centres: np.ndarray, radius: float) -> np.ndarray:
    h, w = image.shape[:2]
    r = max(1, int(round(radius)))
    out = []
    for cx, cy in centres:
        x1, x2 = int(max(0, cx - r)), int(min(w, cx + r + 1))
        y1, y2 = int(max(0, cy - r)), int(min(h, cy + r + 1))
        if x2 > x1 and y2 > y1:
            out.append(image[y1:y2, x1:x2].reshape(-1, 3))
    return np.concatenate(out) if out else np.zeros((0, 3), np.uint8)


_DEFAULT_SKIN = np.array([224.0, 172.0, 140.0], np.float32)


def skin_tone(image: np.ndarray, geom: FaceGeometry) -> np.ndarray:
    """Median RGB of skin-coloured pixels on the cheeks and nose bridge (float32, 0..255).

    Falls back to all sampled pixels, then to a neutral tone, when the face is covered or off-image.
    """
    lm = geom.landmarks68
    centres = np.array([(lm[2] + lm[31]) / 2, (lm[14] + lm[35]) / 2, (lm[28] + lm[29]) / 2])
    px = disc_pixels(image, centres, 0.12 * geom.ipd).astype(np.float32)
    if len(px) == 0:
        return _DEFAULT_SKIN.copy()
    r, g, b = px[:, 0], px[:, 1], px[:, 2]
    skin = px[(r > g) & (g >= b * 0.85) & (r > 60) & (r - b > 10)]
    pick = skin if len(skin) >= max(8, len(px) // 5) else px
    return np.median(pick, axis=0).astype(np.float32)


def relative_lighting(image: np.ndarray, geom: FaceGeometry, x0: int, y0: int, shape: tuple[int, int],
                      strength: float = 0.6) -> np.ndarray:
    """Low-frequency brightness of the photo under a layer, relative to the face's median (float32).

    Multiplying an occluder's colour by it makes the occluder share the photo's light: a side-lit
    face gets a side-lit mask. Clipped to [0.55, 1.3] and softened by `strength` (an exponent).
    """
    h, w = shape
    ih, iw = image.shape[:2]
    out = np.ones((h, w), np.float32)
    x1, y1, x2, y2 = max(0, x0), max(0, y0), min(iw, x0 + w), min(ih, y0 + h)
    if x2 <= x1 or y2 <= y1:
        return out
    lum = image[y1:y2, x1:x2].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    lum = blur(lum, max(1.0, 0.25 * geom.ipd))
    ref = float(np.median(skin_tone(image, geom) @ np.array([0.299, 0.587, 0.114], np.float32)))
    rel = np.clip(lum / max(ref, 1.0), 0.55, 1.3) ** strength
    out[y1 - y0:y2 - y0, x1 - x0:x2 - x0] = rel
    return out
