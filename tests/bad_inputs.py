"""A corpus of bad (and valid-but-odd) inputs, generated into a folder by `make_corpus(folder)`.

Every item says what must happen to it (`expect`):
  "error" - a clear `fer.errors` message (CLI: exit code 2; app: an error toast), nothing else;
  "ok"    - valid but unusual: it must succeed (e.g. grey-scale, 16-bit, EXIF-rotated, 20 faces);
  "any"   - success or a clear error are both acceptable (e.g. a face too small to detect),
            but never a crash or a stack trace.

`kind` says which entry point the item targets: "image", "checkpoint", "model_name",
"occluder" (occluder parameters, with the image `astronaut.png`), "nan_output" (a loadable
checkpoint whose outputs overflow to NaN), "cli" (command-line values and output paths: `argv`
with `{corpus}`/`{out}` placeholders), "demo" (an endpoint of the live app with wrong parameters:
`extra["api"]`, `extra["args"]`) or "pyobj" (a Python object given to `fer.io.load_image`).
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
    argv: list = field(default_factory=list)  # for "cli" items
    match: str = ""  # a word the message must contain


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


def _metadata_items(folder: Path) -> list[Item]:
    """A valid small checkpoint (mini-Xception) with one thing wrong in its stored config or weights each."""
    import copy

    import torch
    from safetensors.torch import save_file

    from fer.models import create_model

    model = create_model("mini_xception_fer2013")
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    good = json.loads(model.config.to_json())
    items: list[Item] = []

    def write(name, config_text, t=tensors):
        save_file(t, str(folder / name), metadata={"fer_format": "alfj-fer/1", "fer_config": config_text})

    def add(file_name, why, match, config_text=None, t=tensors, **changes):
        if config_text is None:
            c = copy.deepcopy(good)
            for key, value in changes.items():
                if "__" in key:
                    outer, inner = key.split("__")
                    c[outer][inner] = value
                else:
                    c[key] = value
            config_text = json.dumps(c)
        write(file_name, config_text, t)
        at_load = t is not tensors or "frobnicate" in config_text  # found when loaded, not from the header
        items.append(Item(file_name, "checkpoint", "error", folder / file_name, why=why, match=match,
                          extra={"at_load": at_load}))

    add("config_array.safetensors", "the stored config is a JSON array", "config", config_text="[1, 2]")
    add("config_null.safetensors", "the stored config is null", "config", config_text="null")
    add("config_string.safetensors", "the stored config is a JSON string", "config", config_text='"alfj"')
    add("config_bad_json.safetensors", "the stored config is not JSON", "JSON", config_text="{name: x")
    add("config_nan_literal.safetensors", "NaN literal in the stored JSON", "NaN",
        config_text=model.config.to_json().replace('"std": [', '"std": [NaN, '))
    add("config_deep_nesting.safetensors", "JSON nested 100000 deep", "JSON", config_text="[" * 100000 + "]" * 100000)
    add("trained_string.safetensors", "trained is the string 'false' (truthy)", "trained", trained="false")
    add("trained_int.safetensors", "trained is 1, not a boolean", "trained", trained=1)
    add("provenance_int.safetensors", "provenance is a number", "provenance", provenance=5)
    add("provenance_null.safetensors", "provenance is null", "provenance", provenance=None)
    add("class_names_short.safetensors", "2 class names for 7 classes", "class_names", class_names=["a", "b"])
    add("class_names_ints.safetensors", "class names are numbers", "class_names", class_names=list(range(7)))
    add("class_names_duplicate.safetensors", "the same class name 7 times", "class_names", class_names=["x"] * 7)
    add("class_names_string.safetensors", "class_names is one string", "class_names", class_names="neutral")
    add("num_classes_string.safetensors", "num_classes is a string", "num_classes", num_classes="7")
    add("num_classes_zero.safetensors", "num_classes 0", "num_classes", num_classes=0)
    add("num_classes_huge.safetensors", "num_classes 10**9", "num_classes", num_classes=10**9)
    add("name_int.safetensors", "the model name is a number", "name", name=3)
    add("name_empty.safetensors", "the model name is empty", "name", name="")
    add("name_unknown.safetensors", "an unregistered model name", "no_such_model", name="no_such_model")
    add("input_size_tiny.safetensors", "input_size 4 (< 8)", "input_size", preprocess__input_size=4)
    add("input_size_string.safetensors", "input_size '64'", "input_size", preprocess__input_size="64")
    add("input_size_float.safetensors", "input_size 64.5", "input_size", preprocess__input_size=64.5)
    add("face_scale_zero.safetensors", "face_scale 0", "face_scale", preprocess__face_scale=0)
    add("face_scale_negative.safetensors", "face_scale -1", "face_scale", preprocess__face_scale=-1)
    add("std_zero.safetensors", "std 0: division by zero", "std", preprocess__std=[0])
    add("std_negative.safetensors", "std -0.5", "std", preprocess__std=[-0.5])
    add("mean_strings.safetensors", "mean holds strings", "mean", preprocess__mean=["a"])
    add("mean_length_two.safetensors", "mean of 2 numbers", "mean", preprocess__mean=[0.5, 0.5])
    add("grayscale_string.safetensors", "grayscale 'yes'", "grayscale", preprocess__grayscale="yes")
    add("preprocess_list.safetensors", "preprocess is a list", "preprocess", preprocess=[64])
    add("preprocess_unknown_key.safetensors", "an unknown preprocess key", "preprocess.zoom", preprocess__zoom=2)
    add("unknown_top_key.safetensors", "an unknown config key", "run_me", run_me="os.system")
    add("arch_list.safetensors", "arch is a list", "arch", arch=[1])
    add("arch_backbone_path.safetensors", "arch names a backbone file to open", "another file",
        arch={"backbone_weights": str(folder / "astronaut.png")})
    add("arch_pretrained_path.safetensors", "arch names a pretrained file", "another file",
        arch={"pretrained": "/etc/passwd"})
    add("arch_unknown_option.safetensors", "an option the model does not take", "options", arch={"frobnicate": 1})
    nan = dict(tensors)
    nan["classifier.weight"] = nan["classifier.weight"].clone()
    nan["classifier.weight"].view(-1)[0] = float("nan")
    add("weights_nan.safetensors", "a NaN in the classifier's weights", "not finite", t=nan, config_text=json.dumps(good))
    inf = dict(tensors)
    inf["stem.0.weight"] = torch.full_like(inf["stem.0.weight"], float("inf"))
    add("weights_inf.safetensors", "infinite convolution weights", "not finite", t=inf, config_text=json.dumps(good))
    (folder / "empty_dir.safetensors").mkdir(exist_ok=True)
    items.append(Item("empty_dir.safetensors", "checkpoint", "error", folder / "empty_dir.safetensors",
                      why="a directory named like a checkpoint", match="directory"))
    (folder / "plain_dir").mkdir(exist_ok=True)
    items.append(Item("plain_dir", "checkpoint", "error", folder / "plain_dir", why="a directory without a checkpoint",
                      match="directory"))
    items.append(Item("name_too_long", "checkpoint", "error", folder / ("c" * 300 + ".safetensors"),
                      why="a checkpoint name longer than 255 bytes", match="too long"))
    # loadable (finite weights) but every output overflows to NaN
    with torch.no_grad():
        huge = {k: (v * 1e6 if v.is_floating_point() and k.endswith("weight") else v) for k, v in tensors.items()}
    write("overflowing_weights.safetensors", json.dumps(good), huge)
    items.append(Item("overflowing_weights.safetensors", "nan_output", "error", folder / "overflowing_weights.safetensors",
                      why="finite weights so large that every output is NaN", match="not finite"))
    return items


def _cli_items(folder: Path) -> list[Item]:
    """Command-line values and output paths; `{corpus}` is the corpus folder, `{out}` an empty output folder."""
    (folder / "a_regular_file").write_text("not a folder\n")
    img = "{corpus}/astronaut.png"
    occ = ["occlude", img, "--kind", "surgical_mask"]
    rows = [
        ("out_unsupported_ext", occ + ["--out", "{out}/o.gif"], "unsupported file type", "--out .gif"),
        ("out_no_ext", occ + ["--out", "{out}/o"], "unsupported file type", "--out without a suffix"),
        ("mask_out_unsupported_ext", occ + ["--out", "{out}/o.png", "--mask-out", "{out}/m.txt"], "unsupported",
         "--mask-out .txt"),
        ("contact_sheet_unsupported_ext", ["occlude", "--contact-sheet", "{out}/s.pdf"], "unsupported",
         "--contact-sheet .pdf"),
        ("out_under_regular_file", occ + ["--out", "{corpus}/a_regular_file/o.png"], "is a file",
         "--out inside a regular file"),
        ("out_under_proc", occ + ["--out", "/proc/fer_o.png"], "/proc", "--out under /proc"),
        ("out_name_too_long", occ + ["--out", "{out}/" + "o" * 300 + ".png"], "longer than", "a 300-byte file name"),
        ("out_path_too_long", occ + ["--out", "{out}/" + "d/" * 2100 + "o.png"], "longer than",
         "a path over PATH_MAX"),
        ("imwrite_returns_false", occ + ["--out", "{out}/o.png"], "could not write", "OpenCV's imwrite returns False"),
        ("out_is_a_folder", occ + ["--out", "{out}"], "folder", "--out names an existing folder"),
        ("explain_out_is_file", ["explain", img, "--out", "{corpus}/a_regular_file"], "not a folder",
         "explain --out names a regular file"),
        ("sensitivity_out_under_file", ["sensitivity", img, "--out", "{corpus}/a_regular_file/s"], "is a file",
         "sensitivity --out inside a regular file"),
        ("robustness_out_under_proc", ["robustness", "--model", "faceapi_expression", "--data", "synthfer", "--limit", "2",
                                       "--out", "/proc/fer_rob"], "/proc", "robustness --out under /proc"),
        ("evaluate_out_too_long", ["evaluate", "--checkpoint", "{corpus}/foreign_no_metadata.safetensors", "--data",
                                   "synthfer", "--out", "{out}/" + "e" * 300], "longer than", "evaluate --out 300 bytes"),
        ("input_name_too_long", ["predict", "{out}/" + "i" * 300 + ".png"], "longer than", "an image name of 300 bytes"),
        ("input_name_too_long_detect", ["detect", "{out}/" + "i" * 300 + ".jpg"], "longer than", "the same for detect"),
        ("set_malformed_yaml", ["train", "--set", "train.epochs=[1", "--out", "{out}/t"], "--set", "--set with bad YAML"),
        ("set_no_equals", ["train", "--set", "train.epochs", "--out", "{out}/t"], "--set", "--set without '='"),
        ("set_empty_key", ["train", "--set", "=3", "--out", "{out}/t"], "--set", "--set with an empty key"),
        ("option_malformed_yaml", ["evaluate", "--checkpoint", "{corpus}/foreign_no_metadata.safetensors", "--data",
                                   "synthfer", "--option", "test_size={{a", "--out", "{out}/e"], "--option",
         "--option with bad YAML"),
        ("option_tab_yaml", ["dataset-info", "synthfer", "--option", "train_size=\t- x"], "--option",
         "--option with a tab in YAML"),
        ("device_meta", ["predict", img, "--device", "meta"], "available devices", "--device meta"),
        ("device_mps", ["predict", img, "--device", "mps"], "available devices", "--device mps"),
        ("device_garbage", ["explain", img, "--out", "{out}/x", "--device", "gpu please"], "available devices",
         "--device nonsense"),
        ("device_missing_cuda", ["evaluate", "--checkpoint", "{corpus}/foreign_no_metadata.safetensors", "--data",
                                 "synthfer", "--device", "cuda:7"], "available devices", "--device cuda:7 (none here)"),
        ("robustness_device_meta", ["robustness", "--model", "faceapi_expression", "--data", "synthfer", "--limit", "2",
                                    "--device", "meta", "--out", "{out}/r"], "available devices",
         "robustness --device meta"),
    ]
    return [Item(name, "cli", "error", argv=argv, match=match, why=why) for name, argv, match, why in rows]


def _demo_items(folder: Path) -> list[Item]:
    """Wrong parameter values for the live app's endpoints. `{photo}`: the editor value of astronaut.png;
    `RAW` items are sent as raw JSON (NaN is not JSON, only a raw client sends it)."""
    from PIL import Image

    Image.new("RGBA", (64, 64)).save(folder / "layer_ok.png")
    (folder / "layer_bomb.png").write_bytes(_bomb_png())
    (folder / "layer_text.png").write_bytes(b"a drawing layer that is text\n")
    M = "{model}"
    rows = [
        ("severity_string", "analyse", ["{photo}", M, "surgical_mask", None, "abc", 0, "as drawn", None], "Severity"),
        ("severity_null", "analyse", ["{photo}", M, "surgical_mask", None, None, 0, "as drawn", None], "Severity"),
        ("severity_list", "analyse", ["{photo}", M, "surgical_mask", None, [0.5], 0, "as drawn", None], "Severity"),
        ("severity_nan_raw", "analyse", [None, M, "surgical_mask", None, "RAW:NaN", 0, "as drawn", None], "Severity"),
        ("seed_nan_raw", "sweep", [None, M, None, "RAW:NaN"], "Seed"),
        ("seed_string", "analyse", ["{photo}", M, "none", None, 0.5, "seven", "as drawn", None], "Seed"),
        ("seed_negative", "analyse", ["{photo}", M, "none", None, 0.5, -3, "as drawn", None], "Seed"),
        ("seed_infinite_raw", "analyse", [None, M, "none", None, 0.5, "RAW:Infinity", "as drawn", None], "Seed"),
        ("editor_string", "analyse", ["abc", M, "none", None, 0.5, 0, "as drawn", None], "image-editor value"),
        ("editor_list", "analyse", [[1, 2], M, "none", None, 0.5, 0, "as drawn", None], "image-editor value"),
        ("editor_number", "sweep", [42, M, None, 0], "image-editor value"),
        ("editor_layers_not_list", "analyse", ["{photo:layers=7}", M, "none", None, 0.5, 0, "as drawn", None], "layers"),
        ("layer_bomb", "analyse", ["{photo:layer=layer_bomb.png}", M, "none", None, 0.5, 0, "as drawn", None], "too large"),
        ("layer_not_an_image", "analyse", ["{photo:layer=layer_text.png}", M, "none", None, 0.5, 0, "as drawn", None],
         "drawing layer"),
        ("patch_nan_raw", "sensitivity", [None, M, None, "RAW:NaN", 0.1, "gray"], "Patch size"),
        ("patch_string", "sensitivity", ["{photo}", M, None, "big", 0.1, "gray"], "Patch size"),
        ("stride_null", "sensitivity", ["{photo}", M, None, 0.2, None, "gray"], "Stride"),
        ("stride_too_small", "sensitivity", ["{photo}", M, None, 0.2, 0.0001, "gray"], "Stride"),
        ("occluder_unknown_demo", "analyse", ["{photo}", M, "no_such_occluder", None, 0.5, 0, "as drawn", None],
         "not in the list"),
        ("model_unknown_demo", "predict", ["{file}", "no such model"], "not in the list"),
        ("face_out_of_range", "analyse", ["{photo}", M, "none", None, 0.5, 0, "as drawn", "face 3"], "numbered 1 "),
        ("face_malformed", "sweep", ["{photo}", M, "the second one", 0], "give a face number"),
        ("face_zero", "sensitivity", ["{photo}", M, 0, 0.2, 0.1, "gray"], "numbered from 1"),
    ]
    items = [Item(name, "demo", "error", extra={"api": api, "args": args}, match=match, why=f"/{api}: {name}")
             for name, api, args, match in rows]
    items.append(Item("sensitivity_smallest_legal", "demo", "ok", why="smallest patch and stride: bounded, said so",
                      extra={"api": "sensitivity", "args": ["{photo}", M, None, 0.05, 0.02, "gray"]}, match="coarsened"))
    return items


def _pyobj_items() -> list[Item]:
    """Python objects handed to `fer.io.load_image` (made by `make_pyobj(name)`; they cannot live in a file)."""
    rows = [
        ("pil_La_mode", "ok", "a PIL image in premultiplied grey+alpha mode 'La'", ""),
        ("pil_closed_image", "error", "a PIL image after close()", "closed"),
        ("closed_file_object", "error", "a file object after close()", "closed"),
        ("text_mode_file", "error", "a file opened in text mode", "text mode"),
        ("pil_unconvertible_mode", "any", "a PIL image in mode 'HSV'", ""),
    ]
    return [Item(name, "pyobj", expect, why=why, match=match) for name, expect, why, match in rows]


def make_pyobj(name: str, folder: Path):
    png = folder / "astronaut.png"
    if name == "pil_La_mode":
        return Image.open(png).convert("LA").convert("La")
    if name == "pil_closed_image":
        im = Image.open(png)
        im.close()
        return im
    if name == "closed_file_object":
        f = open(png, "rb")  # noqa: SIM115
        f.close()
        return f
    if name == "text_mode_file":
        return open(png, encoding="latin-1")  # noqa: SIM115
    if name == "pil_unconvertible_mode":
        return Image.open(png).convert("RGB").convert("HSV")
    raise KeyError(name)


def make_corpus(folder: str | Path) -> list[Item]:
    """Write every item's file into `folder` (created) and return the items."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    items = _image_items(folder) + _checkpoint_items(folder) + _metadata_items(folder)
    items += _cli_items(folder) + _demo_items(folder) + _pyobj_items()
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
