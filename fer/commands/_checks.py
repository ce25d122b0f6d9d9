"""Checks every command runs before its work: output paths, input file names, `--set`/`--option`, `--device`.

A command module may declare `OUTPUT_FILES = {"out": IMAGE_SUFFIXES, ...}` (argument dest -> accepted
suffixes), `OUTPUT_DIRS = ("out",)` and `INPUT_FILES = ("image",)`; `check_args(module, args)` (called
by `fer.cli` before `run`) checks them and the common options, so a bad value is one plain line
(exit code 2) before any model is loaded. `write_image` is the one way commands write a picture: a
write that fails is an error, never "wrote ...".
"""

from __future__ import annotations

import os
from pathlib import Path

from fer.errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
PNG_ONLY = (".png",)
_NAME_MAX = 255


def _os_problem(path: Path) -> str | None:
    """Why `path` cannot be a path on this system (too long, ...), or None."""
    text = os.fspath(path)
    if "\x00" in text:
        return "contains a NUL character"
    limit = os.pathconf("/", "PC_PATH_MAX") if hasattr(os, "pathconf") else 4096
    if len(os.fsencode(text)) >= limit:
        return f"is longer than the {limit} bytes allowed"
    long = next((p for p in path.parts if len(os.fsencode(p)) > _NAME_MAX), None)
    if long is not None:
        return f"has a name longer than {_NAME_MAX} bytes ({long[:24]}...)"
    return None


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 100 else text[:60] + "..." + text[-30:]


def _nameable(path, option: str) -> Path | None:
    """`path` as a Path the OS can name (None stays None); else one line saying why not."""
    if path is None:
        return None
    path = Path(path)
    problem = _os_problem(path)
    if problem:
        raise InputError(f"{option} {_short(path)}: the path {problem}")
    return path


def check_input_file(path, option: str) -> None:
    """An input file name the OS can open (not too long); existence is checked by the loader."""
    _nameable(path, option)


def _check_parent(path: Path, option: str, shown: Path | None = None) -> None:
    """The folder `path` goes into exists or can be created (the command creates it when it writes)."""
    shown = shown or path
    resolved = str(path.resolve())
    if resolved.startswith(("/proc/", "/sys/")):
        raise InputError(f"{option} {_short(shown)}: cannot write under /{resolved.split('/')[1]} (a system folder)")
    probe = path.parent
    try:
        while not probe.exists():
            probe = probe.parent
    except OSError as exc:
        raise InputError(f"{option} {_short(shown)}: {exc.strerror or exc}") from None
    if not probe.is_dir():
        raise InputError(f"{option} {_short(shown)}: {_short(probe)} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{option} {_short(shown)}: the folder {_short(probe)} is not writable")


def check_output_file(path, option: str, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> Path | None:
    """Refuse up front an output file that cannot be written: suffix, name length, parent folder."""
    path = _nameable(path, option)
    if path is None:
        return None
    if path.is_dir():
        raise InputError(f"{option} {_short(path)} is a folder; give a file name")
    if path.suffix.lower() not in suffixes:
        raise InputError(f"{option} {_short(path)}: unsupported file type {path.suffix or '(none)'!r}; "
                         f"use one of {', '.join(suffixes)}")
    _check_parent(path, option)
    return path


def check_output_dir(path, option: str) -> Path | None:
    """Refuse up front an output folder that cannot be created or written."""
    path = _nameable(path, option)
    if path is None:
        return None
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {_short(path)} exists and is not a folder")
    _check_parent(path / "x", option, shown=path)
    return path


def write_image(path, image, option: str = "--out") -> Path:
    """Write an RGB (H, W, 3) or grey (H, W) uint8 image with OpenCV; a failed write is an InputError."""
    import cv2
    import numpy as np

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{option} {_short(path)}: cannot create its folder ({exc.strerror or exc})") from None
    pixels = np.ascontiguousarray(image[:, :, ::-1] if image.ndim == 3 else image)
    try:
        ok = cv2.imwrite(str(path), pixels)
    except cv2.error as exc:
        raise InputError(f"{option} {_short(path)}: could not write the image ({str(exc).strip()[:120]})") from None
    if not ok or not path.is_file():
        raise InputError(f"{option} {_short(path)}: could not write the image (unsupported type or unwritable folder)")
    return path


def parse_assignments(items: list[str], option: str) -> dict:
    """`KEY=VALUE` items, each VALUE read as YAML; a malformed one is one line naming the option."""
    import yaml

    out = {}
    for it in items or []:
        if "=" not in it:
            raise InputError(f"{option} {it!r} must look like key=value")
        key, value = it.split("=", 1)
        if not key.strip():
            raise InputError(f"{option} {it!r}: the key is empty")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            first = str(exc).strip().splitlines()[0]
            raise InputError(f"{option} {it!r}: the value is not valid YAML ({first})") from None
    return out


def available_devices() -> list[str]:
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return devices


def check_device(value, option: str = "--device") -> None:
    """A device torch can run the models on here ("auto" included); else one line naming the available ones."""
    if value is None or str(value).strip().lower() == "auto":
        return
    import torch

    try:
        dev = torch.device(value)
    except (RuntimeError, TypeError, ValueError):
        dev = None
    usable = dev is not None and (
        dev.type == "cpu"
        or (dev.type == "cuda" and torch.cuda.is_available() and (dev.index or 0) < torch.cuda.device_count())
    )
    if not usable:
        raise InputError(f"{option} {value!r} cannot be used here; available devices: "
                         f"{', '.join(['auto', *available_devices()])}")


def check_args(module, args) -> None:
    """Every check above that applies to this command's arguments."""
    for dest in getattr(module, "INPUT_FILES", ()):
        check_input_file(getattr(args, dest, None), "--" + dest.replace("_", "-") if dest != "image" else "IMAGE")
    for dest, suffixes in getattr(module, "OUTPUT_FILES", {}).items():
        check_output_file(getattr(args, dest, None), "--" + dest.replace("_", "-"), suffixes)
    for dest in getattr(module, "OUTPUT_DIRS", ()):
        check_output_dir(getattr(args, dest, None), "--" + dest.replace("_", "-"))
    for dest in ("set", "option"):
        if isinstance(getattr(args, dest, None), list):
            parse_assignments(getattr(args, dest), "--" + dest)
    check_device(getattr(args, "device", None))
