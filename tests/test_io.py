"""fer.io.load_image: every source type, colour mode, EXIF, and every kind of bad input."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from fer.errors import InputError
from fer.io import load_image


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def _png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes whose PNG header claims width x height RGB pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def small(astronaut):
    return np.ascontiguousarray(astronaut[::4, ::4])  # 128 x 128


# ---- sources ---------------------------------------------------------------------------------


def test_sources_agree(small, tmp_path):
    png = _encode(Image.fromarray(small), "PNG")
    path = tmp_path / "a.png"
    path.write_bytes(png)
    for src in (png, bytearray(png), io.BytesIO(png), str(path), path, Image.fromarray(small), small):
        out = load_image(src)
        assert out.dtype == np.uint8 and out.shape == small.shape
        assert np.array_equal(out, small), type(src)


def test_result_is_a_copy(small):
    out = load_image(small)
    out[:] = 0
    assert small.any()


def test_nothing_is_written(small, tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(_encode(Image.fromarray(small), "JPEG"))
    before = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    load_image(path)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before


# ---- colour modes and pixel types --------------------------------------------------------------


def test_grayscale_becomes_three_equal_channels(small):
    grey = small[..., 1]
    for src in (grey, grey[..., None], _encode(Image.fromarray(grey), "PNG")):
        out = load_image(src)
        assert out.shape == small.shape
        assert np.array_equal(out[..., 0], grey) and np.array_equal(out[..., 2], grey)


def test_16bit_png_scaled_to_8_bits(small):
    g16 = small[..., 0].astype(np.uint16) * 257
    im = Image.fromarray(g16)
    assert im.mode.startswith("I;16")
    out = load_image(_encode(im, "PNG"))
    assert np.array_equal(out[..., 0], small[..., 0])
    assert np.array_equal(load_image(g16)[..., 1], small[..., 0])


def test_float_and_bool_arrays(small):
    assert np.array_equal(load_image(small.astype(np.float32) / 255.0), small)
    assert np.array_equal(load_image(small.astype(np.float64)), small)
    assert load_image(np.ones((4, 4), bool)).max() == 255
    with pytest.raises(InputError, match="NaN"):
        load_image(np.full((4, 4, 3), np.nan, np.float32))


def test_rgba_composited_on_white(small):
    rgba = np.dstack([small, np.full(small.shape[:2], 255, np.uint8)])
    rgba[:10, :, 3] = 0  # transparent band
    rgba[10:20, :, 3] = 128  # half transparent
    for src in (rgba, _encode(Image.fromarray(rgba), "PNG")):
        out = load_image(src)
        assert out.shape == small.shape
        assert (out[:10] == 255).all()
        assert np.array_equal(out[20:], small[20:])
        expected = np.rint(small[10:20] * (128 / 255) + 255 * (127 / 255))
        assert np.abs(out[10:20].astype(int) - expected).max() <= 1


def test_cmyk_jpeg_converted(small):
    out = load_image(_encode(Image.fromarray(small).convert("CMYK"), "JPEG", quality=95))
    assert out.shape == small.shape
    assert np.abs(out.astype(int) - small).mean() < 6  # JPEG loss only, no inverted or swapped channels


def test_palette_and_one_bit(small):
    assert load_image(_encode(Image.fromarray(small).convert("P"), "PNG")).shape == small.shape
    assert load_image(_encode(Image.fromarray(small).convert("1"), "PNG")).shape == small.shape


def test_animated_gif_gives_first_frame(small):
    frames = [Image.fromarray(small), Image.fromarray(255 - small)]
    gif = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    out = load_image(gif)
    assert out.shape == small.shape
    assert np.abs(out.astype(int) - small).mean() < 20  # the first frame, not the inverted one


def test_exif_orientation_applied(small):
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(small, 1)))  # sideways
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    out = load_image(_encode(stored, "PNG", exif=exif))
    assert np.array_equal(out, small)
    pil = Image.open(io.BytesIO(_encode(stored, "PNG", exif=exif)))
    assert np.array_equal(load_image(pil), small)


# ---- bad input -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good(small):
    return {"jpeg": _encode(Image.fromarray(small), "JPEG"), "png": _encode(Image.fromarray(small), "PNG")}


def _bad_inputs(good):
    rng = np.random.default_rng(0)
    png = bytearray(good["png"])
    png[60:400] = rng.integers(0, 256, 340, dtype=np.uint8).tobytes()
    return {
        "0 bytes": (b"", "empty"),
        "text renamed .jpg": (b"hello, this is not a picture\n" * 10, "text"),
        "SVG": (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="9"/>', "SVG"),
        "HTML": (b"<!DOCTYPE html><html></html>", "web page"),
        "PDF": (b"%PDF-1.4\n%%EOF\n", "PDF"),
        "corrupt JPEG": (good["jpeg"][:2] + rng.integers(0, 256, 3000, dtype=np.uint8).tobytes(), "JPEG.*corrupt"),
        "corrupt PNG": (bytes(png), "corrupt"),
        "truncated JPEG": (good["jpeg"][: len(good["jpeg"]) // 2], "truncated"),
        "truncated PNG": (good["png"][: len(good["png"]) // 2], "truncated"),
        "random bytes": (rng.integers(0, 256, 500, dtype=np.uint8).tobytes(), "not an image"),
        "30000x30000 header": (_png_claiming(30000, 30000), "30000 x 30000.*decompression"),
        "60 MP header": (_png_claiming(10000, 6000), "too large"),
    }


@pytest.mark.parametrize(
    "name",
    ["0 bytes", "text renamed .jpg", "SVG", "HTML", "PDF", "corrupt JPEG", "corrupt PNG", "truncated JPEG",
     "truncated PNG", "random bytes", "30000x30000 header", "60 MP header"],
)
def test_bad_bytes_raise_input_error(good, tmp_path, name):
    data, pattern = _bad_inputs(good)[name]
    with pytest.raises(InputError, match=pattern):
        load_image(data)
    path = tmp_path / "upload.jpg"  # the same through a path (how the app and CLI receive files)
    path.write_bytes(data)
    with pytest.raises(InputError, match=pattern):
        load_image(path)


def test_pixel_limit_is_configurable(good):
    with pytest.raises(InputError, match="too large"):
        load_image(good["png"], max_pixels=100 * 100)
    assert load_image(good["png"], max_pixels=128 * 128).shape == (128, 128, 3)
    with pytest.raises(InputError, match="too large"):
        load_image(np.zeros((200, 200, 3), np.uint8), max_pixels=100 * 100)


def test_file_size_limit(good):
    with pytest.raises(InputError, match="larger than"):
        load_image(good["png"], max_bytes=1000)


@pytest.mark.parametrize(
    "src, pattern",
    [
        (None, "No image"),
        (12345, "int"),
        ("/no/such/file.jpg", "No such file"),
        (np.zeros((0, 5, 3), np.uint8), "no pixels"),
        (np.zeros((5, 5, 7), np.uint8), "shape"),
        (np.zeros((3, 64, 64), np.uint8), "channels first"),
        (np.zeros((2, 2, 2, 3), np.uint8), "shape"),
        (np.zeros((4, 4), np.complex64), "not supported"),
        (np.full((4, 4), -5, np.int32), "outside"),
    ],
)
def test_bad_objects(src, pattern):
    with pytest.raises(InputError, match=pattern):
        load_image(src)


def test_directory_and_text_mode_file(tmp_path):
    with pytest.raises(InputError, match="Not a file"):
        load_image(tmp_path)
    p = tmp_path / "t.txt"
    p.write_text("abc")
    with open(p) as fh, pytest.raises(InputError, match="binary"):
        load_image(fh)
