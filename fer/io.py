"""Image input in one place: any source -> RGB uint8 array, or an `InputError` a person understands.

Every entry point (Python API, CLI, Gradio app, robustness tools) goes through `load_image`, so the
rules below hold everywhere:

- Sources: a path (str / os.PathLike), bytes, a binary file-like object, a PIL image or a NumPy array
  (H×W grey, H×W×1, H×W×3 RGB, H×W×4 RGBA, H×W×2 grey+alpha; uint8, uint16, other ints, bool, float).
- Only raster formats that PIL decodes without external programs are accepted (JPEG, PNG, GIF, BMP,
  TIFF, WebP, AVIF, PPM, ICO); SVG, PDF, EPS and text files are refused with a message saying so.
- The pixel count is checked from the header before any pixel is decoded, so a file that claims
  30000×30000 pixels ("decompression bomb") is refused cheaply; PIL's own bomb guard is caught too.
- EXIF orientation is applied (a phone photo taken sideways comes out upright).
- Animated images: the first frame. CMYK, palette, YCbCr, LAB, 1-bit: converted to RGB.
- Transparency is composited on WHITE: pixels under alpha = 0 often hold arbitrary colours (or
  black), and white is what a person sees in an image viewer. The alpha channel is not kept.
- 16-bit images are scaled to 8 bits (v / 257), floats in [0, 1] are scaled by 255, floats above 1
  are taken as 0..255 and clipped.
- Nothing is ever written: decoding happens in memory.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from fer.errors import InputError

DEFAULT_MAX_PIXELS = int(os.environ.get("FER_MAX_PIXELS", 50_000_000))  # 50 MP: every phone camera fits
DEFAULT_MAX_BYTES = int(os.environ.get("FER_MAX_BYTES", 100 * 1024 * 1024))  # encoded file size
# JPEG includes MPO (phone photos)
SAFE_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "DIB", "TIFF", "WEBP", "AVIF", "PPM", "ICO")
_SUPPORTED = "JPEG, PNG, GIF, BMP, TIFF, WebP, AVIF, PPM or ICO"

__all__ = ["DEFAULT_MAX_PIXELS", "is_rgb_uint8", "load_image", "load_rgba", "require_rgb_uint8"]


def is_rgb_uint8(image: Any, batch: bool = False) -> bool:
    """True for what `load_image` returns: an (H, W, 3) uint8 array ((N, H, W, 3) with `batch`)."""
    ndim = 4 if batch else 3
    return isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == ndim and image.shape[-1] == 3


def require_rgb_uint8(image: Any, what: str = "image", batch: bool = False, error: type = InputError) -> np.ndarray:
    """`image` itself when `is_rgb_uint8`, else `error` (an InputError by default) naming `what` and what it got."""
    if is_rgb_uint8(image, batch):
        return image
    got = f"shape {image.shape}, dtype {image.dtype}" if isinstance(image, np.ndarray) else type(image).__name__
    shape = "(N, H, W, 3)" if batch else "(H, W, 3)"
    raise error(f"the {what} must be an {shape} uint8 RGB array, got {got}")


def load_image(src: Any, max_pixels: int | None = None, max_bytes: int | None = None) -> np.ndarray:
    """Decode `src` into an (H, W, 3) uint8 RGB array (a new array; `src` is never modified).

    Raises `fer.errors.InputError` for anything that is not a usable image.
    """
    max_pixels = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
    max_bytes = DEFAULT_MAX_BYTES if max_bytes is None else int(max_bytes)
    from PIL import Image

    if src is None:
        raise InputError("No image was given.")
    if isinstance(src, np.ndarray):
        return _from_array(src, max_pixels)
    if isinstance(src, Image.Image):
        if type(getattr(src, "_im", None)).__name__ == "DeferredError":  # what PIL's close() leaves behind
            raise InputError("The PIL image is closed; pass an open image.")
        _check_pixels(src.size, max_pixels)
        return _from_pil(src, max_pixels, first_frame=False)  # a caller's image: keep its current frame
    if isinstance(src, (str, os.PathLike)):
        data = _read_path(Path(src), max_bytes)
    elif isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
    elif hasattr(src, "read"):
        if getattr(src, "closed", False):
            raise InputError("The file object is closed; pass an open file (opened with 'rb'), a path or bytes.")
        try:
            data = src.read(max_bytes + 1)
        except (ValueError, OSError) as exc:
            raise InputError(f"Cannot read from the file object: {_short(exc)}.") from None
        if not isinstance(data, (bytes, bytearray)):
            raise InputError("The file object was opened in text mode; open images in binary mode ('rb').")
        data = bytes(data)
    else:
        raise InputError(
            f"Cannot read an image from a {type(src).__name__}; give a file path, bytes, "
            "a PIL image or a NumPy array."
        )
    if len(data) > max_bytes:
        raise InputError(f"The file is larger than {max_bytes // (1024 * 1024)} MB; use a smaller image.")
    return _decode_bytes(data, max_pixels)


def load_rgba(
    path: str | os.PathLike | bytes, max_pixels: int | None = None, max_bytes: int | None = None
) -> np.ndarray:
    """An image file as (H, W, 4) uint8 RGBA, alpha kept (a drawing layer); same formats and limits as photos."""
    from PIL import Image

    max_pixels = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
    max_bytes = DEFAULT_MAX_BYTES if max_bytes is None else int(max_bytes)
    data = bytes(path) if isinstance(path, (bytes, bytearray, memoryview)) else _read_path(Path(path), max_bytes)
    if len(data) > max_bytes:
        raise InputError(f"The drawing layer is larger than {max_bytes // 2**20} MB.")
    if not data:
        raise InputError("The drawing layer is empty (0 bytes).")
    try:
        with Image.open(io.BytesIO(data), formats=SAFE_FORMATS) as im:
            _check_pixels(im.size, max_pixels)
            im.load()
            return np.array(im.convert("RGBA"), dtype=np.uint8)
    except InputError:
        raise
    except Image.DecompressionBombError:
        raise InputError(_too_many_pixels_message(_png_claimed_size(data), max_pixels)) from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a plain message
        raise InputError(f"A drawing layer could not be read ({_short(exc)}); use {_SUPPORTED}.") from None


def _read_path(path: Path, max_bytes: int) -> bytes:
    try:
        exists, is_file = path.exists(), path.is_file()
    except OSError as exc:  # e.g. "File name too long"
        raise InputError(f"Cannot use the file name {str(path)[:60]}...: {exc.strerror or exc}") from None
    if not exists:
        raise InputError(f"No such file: {path}")
    if not is_file:
        raise InputError(f"Not a file: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(f"{path.name} is {size / 2**20:.0f} MB, more than the {max_bytes // 2**20} MB allowed.")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror or exc}") from None


def _describe_non_image(data: bytes) -> str | None:
    """A specific message for common non-image content, or None."""
    head = data[:2048].lstrip().lower()
    if b"<svg" in head or (head.startswith(b"<?xml") and b"svg" in head):
        return f"SVG vector images are not supported; export the picture as PNG or JPEG ({_SUPPORTED})."
    if head.startswith(b"%pdf"):
        return "PDF files are not supported; export the page as a PNG or JPEG image."
    if head.startswith(b"%!ps") or data[:4] == b"\xc5\xd0\xd3\xc6":
        return "PostScript/EPS files are not supported; export the picture as PNG or JPEG."
    if head.startswith((b"<!doctype html", b"<html")):
        return "This is a web page (HTML), not an image."
    sample = data[:1024]
    if b"\x00" not in sample:
        try:
            sample.decode("utf-8")
            return "This file contains text, not an image (was a text file renamed to .jpg/.png?)."
        except UnicodeDecodeError:
            pass
    return None


_MAGIC = (
    (b"\xff\xd8", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def _png_claimed_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk (for the message when PIL refuses the header)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None


def _sniff_format(data: bytes) -> str | None:
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return None


def _decode_bytes(data: bytes, max_pixels: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    if len(data) == 0:
        raise InputError("The file is empty (0 bytes).")
    try:
        im = Image.open(io.BytesIO(data), formats=SAFE_FORMATS)  # reads the header only
    except Image.DecompressionBombError:
        raise InputError(_too_many_pixels_message(_png_claimed_size(data), max_pixels)) from None
    except UnidentifiedImageError:
        kind = _sniff_format(data)
        if kind:
            raise InputError(f"The file starts like a {kind} image but is corrupt and cannot be read.") from None
        raise InputError(
            _describe_non_image(data) or f"This is not an image format that can be read; use {_SUPPORTED}."
        ) from None
    except Exception as exc:  # a broken header in a known format
        raise InputError(f"The image is corrupt and cannot be read ({_short(exc)}).") from None
    with im:
        _check_pixels(im.size, max_pixels)
        return _from_pil(im, max_pixels)


def _from_pil(im, max_pixels: int, first_frame: bool = True) -> np.ndarray:
    from PIL import Image, ImageOps

    try:
        if first_frame and getattr(im, "is_animated", False):
            im.seek(0)
        im.load()
        im = ImageOps.exif_transpose(im) or im
    except Image.DecompressionBombError:
        raise InputError(_too_many_pixels_message(im.size, max_pixels)) from None
    except MemoryError:
        raise InputError("The image is too large to decode in the memory available.") from None
    except Exception as exc:
        msg = str(exc).lower()
        if "truncated" in msg or isinstance(exc, EOFError):
            raise InputError("The image file is truncated (incomplete download or upload?).") from None
        raise InputError(f"The image is corrupt and cannot be decoded ({_short(exc)}).") from None
    if im.width < 1 or im.height < 1:
        raise InputError("The image has no pixels.")
    return _pil_to_rgb(im)


def _pil_to_rgb(im) -> np.ndarray:
    try:
        return _pil_mode_to_rgb(im)
    except (ValueError, OSError) as exc:
        if "closed" in str(exc).lower():
            raise InputError("The PIL image is closed; pass an open image.") from None
        raise InputError(f"Images in PIL mode {im.mode!r} cannot be converted to RGB ({_short(exc)}).") from None


def _pil_mode_to_rgb(im) -> np.ndarray:
    mode = im.mode
    if mode == "La":  # grey premultiplied by alpha (PIL cannot convert it): on white is L + (1 - alpha) * 255
        la = np.asarray(im).astype(np.float32)
        grey = np.clip(np.rint(la[..., 0] + 255.0 - la[..., 1]), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=-1)
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _from_array(np.asarray(im), max_pixels=None)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info)
    if has_alpha:
        rgba = np.asarray(im.convert("RGBA"))
        return _composite_on_white(rgba[..., :3], rgba[..., 3])
    rgb = np.asarray(im.convert("RGB"))
    return np.ascontiguousarray(rgb, dtype=np.uint8).copy()


def _composite_on_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.float32)[..., None] / 255.0
    out = rgb.astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _to_uint8(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    if a.dtype.kind == "u" and a.dtype.itemsize == 2:  # 16-bit, either byte order
        return np.rint(a / 257.0).astype(np.uint8)
    if np.issubdtype(a.dtype, np.integer):
        if a.size and (a.min() < 0 or a.max() > 65535):
            raise InputError(f"Integer pixel values outside 0..65535 (dtype {a.dtype}) cannot be shown as an image.")
        if a.size and a.max() > 255:  # 16-bit data stored in a wider type
            return np.rint(a / 257.0).astype(np.uint8)
        return a.astype(np.uint8)
    if np.issubdtype(a.dtype, np.floating):
        if not np.all(np.isfinite(a)):
            raise InputError("The image contains NaN or infinite values.")
        scale = 255.0 if a.size and a.max() <= 1.0 else 1.0
        return np.clip(np.rint(a * scale), 0, 255).astype(np.uint8)
    raise InputError(f"Pixel type {a.dtype} is not supported.")


def _from_array(a: np.ndarray, max_pixels: int | None) -> np.ndarray:
    if a.ndim == 3 and a.shape[-1] not in (1, 2, 3, 4) and a.shape[0] in (1, 3, 4):
        raise InputError(
            f"The array has shape {a.shape}: channels first? Pass height x width x channels (RGB), "
            "e.g. array.transpose(1, 2, 0)."
        )
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (1, 2, 3, 4)):
        raise InputError(f"An image array must be H x W or H x W x 1/2/3/4, not shape {a.shape}.")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise InputError("The image has no pixels.")
    if max_pixels is not None:
        _check_pixels((a.shape[1], a.shape[0]), max_pixels)
    a = _to_uint8(np.asarray(a))
    if a.ndim == 2:
        a = a[..., None]
    c = a.shape[-1]
    if c == 1:
        out = np.repeat(a, 3, axis=-1)
    elif c == 2:
        out = _composite_on_white(np.repeat(a[..., :1], 3, axis=-1), a[..., 1])
    elif c == 4:
        out = _composite_on_white(a[..., :3], a[..., 3])
    else:
        out = a
    return np.array(out, dtype=np.uint8, order="C", copy=True)


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    w, h = int(size[0]), int(size[1])
    if w * h > max_pixels:
        raise InputError(_too_many_pixels_message((w, h), max_pixels))


def _too_many_pixels_message(size, max_pixels: int) -> str:
    claimed = f" ({size[0]} x {size[1]} = {size[0] * size[1] / 1e6:.0f} megapixels)" if size else ""
    return (
        f"The image is too large{claimed}; the limit is {max_pixels / 1e6:.0f} megapixels. "
        "Files that claim huge sizes are refused before decoding (decompression-bomb protection); "
        "resize the photo and try again."
    )


def _short(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 120 else text[:117] + "..."
