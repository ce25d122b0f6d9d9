"""A corpus of bad (and valid-but-odd) inputs, generated into a folder by `make_corpus(folder)`.

Every item says what must happen to it (`expect`):
  "error" - a clear `fer.errors` message (CLI: exit code 2; app: an error toast), nothing else;
  "ok"    - valid but unusual: it must succeed (e.g. grey-scale, 16-bit, EXIF-rotated, 20 faces);
  "any"   - success or a clear error are both acceptable (e.g. a face too small to detect),
            but never a crash or a stack trace.

`kind` says which entry point the item targets: "image", "checkpoint", "model_name" or
"occluder" (occluder parameters, with the image `astronaut.png`).
The malicious pickles would create `SENTINEL_NAME` next to themselves if ever unpickled.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

SENTINEL_NAME = "PWNED_BY_PICKLE"


@dataclass
class Item:
    name: str
    kind: str  # image | checkpoint | model_name | occluder
    expect: str  # error | ok | any
    path: Path | None = None
    value: str = ""  # model name, or occluder spec "kind:severity"
    why: str = ""
    min_faces: int = 0  # for "ok" images: at least this many faces must be found
    extra: dict = field(default_factory=dict)


class _CreatesFileWhenUnpickled:
    """Unpickling this calls open(path, "w"): the file appears if anyone unpickles it."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _astronaut() -> np.ndarray:
    """The astronaut at half size (256 x 256): every file stays quick to decode and to search for faces."""
    from skimage import data

    return np.asarray(Image.fromarray(data.astronaut()).resize((256, 256), Image.Resampling.LANCZOS))


def _face_tile(img: np.ndarray) -> np.ndarray:
    return img[10:115, 70:165]  # the astronaut's head, ~105 x 95


def _png_bytes(a: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG", **kw)
    return buf.getvalue()


def _jpeg_bytes(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=90, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def _bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose header claims width x height RGB pixels (a 'decompression bomb')."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * (3 * width)
    comp = zlib.compressobj(9)
    idat = comp.compress(row * 64) + comp.flush()  # far fewer rows than claimed; the header is what matters
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _exif_rotated(img: np.ndarray) -> bytes:
    """Pixels stored rotated 90 deg counter-clockwise with EXIF Orientation 6 (view: rotate clockwise)."""
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(img, 1)))
    exif = Image.Exif()
    exif[0x0112] = 6
    return _jpeg_bytes(stored, exif=exif)


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _image_items(folder: Path) -> list[Item]:
    astro = _astronaut()
    upright = astro[:, 20:220]  # 256 x 200: not square, so an unapplied EXIF rotation shows
    face = _face_tile(astro)
    good_jpeg = _jpeg_bytes(Image.fromarray(upright))
    good_png = _png_bytes(upright)
    items: list[Item] = []

    def add(name, data, expect, why, **kw):
        items.append(Item(name, "image", expect, _write(folder, name, data), why=why, **kw))

    rng = np.random.default_rng(0)
    add("astronaut.png", _png_bytes(astro), "ok", "a plain valid photo (the control)", min_faces=1)
    add("corrupt.jpg", good_jpeg[:2] + bytes(rng.integers(0, 256, 4000, dtype=np.uint8)), "error", "JPEG marker then garbage")
    bad_png = bytearray(good_png)
    bad_png[40:4000] = bytes(rng.integers(0, 256, 3960, dtype=np.uint8))
    add("corrupt.png", bytes(bad_png), "error", "PNG with its data chunk overwritten (CRC mismatch)")
    add("truncated.jpg", good_jpeg[: len(good_jpeg) // 3], "error", "first third of a JPEG")
    add("truncated.png", good_png[: len(good_png) // 2], "error", "first half of a PNG")
    add("empty.jpg", b"", "error", "0 bytes")
    add("text.jpg", b"This is not an image, just text renamed to .jpg\n" * 20, "error", "text file named .jpg")
    add("page.png", b"<!DOCTYPE html><html><body>not an image</body></html>", "error", "HTML named .png")
    svg = (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        b'<circle cx="50" cy="50" r="40" fill="red"/></svg>'
    )
    add("vector.svg", svg, "error", "SVG (vector, not decoded)")
    add("doc.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "error", "a PDF")
    add("bomb.png", _bomb_png(), "error", "PNG header claims 30000 x 30000 pixels")
    add("one_pixel.png", _png_bytes(np.full((1, 1, 3), 200, np.uint8)), "any", "1 x 1 image: no face can be found")
    add("wide_strip.png", _png_bytes(np.full((4, 1500, 3), 90, np.uint8)), "any", "4 x 1500 strip")
    # valid but odd: must succeed
    frames = [Image.fromarray(upright), Image.fromarray(upright[:, ::-1].copy()), Image.fromarray(255 - upright)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    add("animated.gif", buf.getvalue(), "ok", "animated GIF (first frame is used)", min_faces=1)
    buf = io.BytesIO()
    Image.fromarray(upright[..., 1].astype(np.uint16) * 257).save(buf, format="PNG")
    add("gray16.png", buf.getvalue(), "ok", "16-bit grey-scale PNG", min_faces=1)
    add("gray.jpg", _jpeg_bytes(Image.fromarray(upright).convert("L")), "ok", "8-bit grey-scale JPEG", min_faces=1)
    add("cmyk.jpg", _jpeg_bytes(Image.fromarray(upright).convert("CMYK")), "ok", "CMYK JPEG", min_faces=1)
    add("palette.png", _png_bytes(np.asarray(Image.fromarray(upright).convert("P").convert("RGB"))), "ok", "palette colours", min_faces=1)
    add("exif_rotated.jpg", _exif_rotated(upright), "ok", "stored sideways, EXIF orientation 6", min_faces=1)
    rgba = np.dstack([upright, np.full(upright.shape[:2], 255, np.uint8)])
    rgba[15:120, 55:150, 3] = 0  # the face is fully transparent
    add("rgba_transparent_face.png", _png_bytes(rgba), "any", "RGBA whose face area is transparent")
    add("rgba_opaque.png", _png_bytes(np.dstack([upright, np.full(upright.shape[:2], 255, np.uint8)])), "ok", "RGBA, opaque", min_faces=1)
    yy, xx = np.mgrid[0:300, 0:400]
    grad = np.dstack([xx * 255 // 400, yy * 255 // 300, np.full_like(xx, 128)]).astype(np.uint8)
    add("no_face.png", _png_bytes(grad), "any", "a colour gradient: no face")
    grid = np.concatenate([np.concatenate([face] * 5, 1)] * 4, 0)
    add("twenty_faces.jpg", _jpeg_bytes(Image.fromarray(grid)), "ok", "the astronaut's head tiled 5 x 4", min_faces=10)
    tiny = np.full((240, 320, 3), 235, np.uint8)
    tiny[100:116, 150:165] = np.asarray(Image.fromarray(face).resize((15, 16)))
    add("tiny_face.png", _png_bytes(tiny), "any", "a 15 x 16 px face in a 320 x 240 photo")
    add("face_cut_by_border.png", _png_bytes(astro[60:, 100:]), "any", "the face half outside the frame")
    return items


def _checkpoint_items(folder: Path) -> list[Item]:
    import torch
    from safetensors.torch import save_file

    items: list[Item] = []
    sentinel = folder / SENTINEL_NAME

    def add(name, expect, why, path=None, **kw):
        items.append(Item(name, "checkpoint", expect, path if path is not None else folder / name, why=why, **kw))

    foreign = {"conv1.weight": torch.randn(8, 3, 3, 3), "fc.weight": torch.randn(10, 8), "fc.bias": torch.zeros(10)}
    save_file(foreign, str(folder / "foreign_no_metadata.safetensors"))
    add("foreign_no_metadata.safetensors", "error", "safetensors of some other network, no fer metadata")
    config = {
        "name": "alfj_resnet18",
        "num_classes": 7,
        "arch": {"backbone": "resnet18"},
        "preprocess": {"input_size": 64},
    }
    save_file(foreign, str(folder / "other_arch.safetensors"), metadata={"fer_config": json.dumps(config), "config": json.dumps(config)})
    add("other_arch.safetensors", "error", "metadata says alfj_resnet18, tensors are another network's")
    good = io.BytesIO()
    save_file({"w": torch.randn(256, 256)}, str(folder / "_tmp.safetensors"))
    data = (folder / "_tmp.safetensors").read_bytes()
    (folder / "_tmp.safetensors").unlink()
    good.write(data)
    _write(folder, "truncated.safetensors", data[: len(data) // 2])
    add("truncated.safetensors", "error", "first half of a safetensors file")
    _write(folder, "empty.safetensors", b"")
    add("empty.safetensors", "error", "0 bytes")
    torch.save({"state_dict": _CreatesFileWhenUnpickled(sentinel)}, folder / "malicious.pth")
    add("malicious.pth", "error", "torch.save zip whose pickle opens a file when loaded")
    _write(folder, "malicious.pkl", pickle.dumps(_CreatesFileWhenUnpickled(sentinel)))
    add("malicious.pkl", "error", "raw pickle that opens a file when loaded")
    _write(folder, "malicious.safetensors", pickle.dumps(_CreatesFileWhenUnpickled(sentinel)))
    add("malicious.safetensors", "error", "a pickle named .safetensors")
    add("missing.safetensors", "error", "a checkpoint path that does not exist")
    _write(folder, "text.pt", b"just some text\n")
    add("text.pt", "error", "text named .pt")
    return items


def make_corpus(folder: str | Path) -> list[Item]:
    """Write every item's file into `folder` (created) and return the items."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    items = _image_items(folder) + _checkpoint_items(folder)
    items += [
        Item("unknown_model", "model_name", "error", value="no_such_model_xyz", why="unknown model name"),
        Item("empty_model_name", "model_name", "error", value="", why="empty model name"),
    ]
    for spec, why in (
        ("surgical_mask:1e9", "severity far above 1"),
        ("surgical_mask:-5", "negative severity"),
        ("surgical_mask:nan", "NaN severity"),
        ("no_such_occluder:0.5", "unknown occluder kind"),
    ):
        items.append(Item("occluder_" + spec.replace(":", "_"), "occluder", "error", folder / "astronaut.png", value=spec, why=why))
    return items


def sentinel_path(folder: str | Path) -> Path:
    return Path(folder) / SENTINEL_NAME


if __name__ == "__main__":  # python tests/bad_inputs.py OUT_DIR: write the corpus and list it
    import sys

    for item in make_corpus(sys.argv[1] if len(sys.argv) > 1 else "bad_inputs"):
        print(f"{item.expect:5s} {item.kind:10s} {item.name:32s} {item.why}")
