"""The schema of a checkpoint's stored `ModelConfig`: the metadata is untrusted input, checked before use.

`config_from_json(text)` parses the JSON (NaN/Infinity literals refused), checks every field against
the dataclass fields of `ModelConfig` and `Preprocess` (so a field added there is covered by its type
without touching this module), then the ranges below, and refuses unknown keys. Every failure is one
`CheckpointError` naming the field (`preprocess.std[1]`), never an AttributeError, TypeError or
ValueError from inside. The stored options never make the loader open another file: an `arch` key
that names a file (`backbone_weights`, `pretrained`, `*_path`, ...) is refused.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from typing import Any

from fer.errors import CheckpointError
from fer.models.base import ModelConfig

MAX_CLASSES = 1000
MAX_INPUT_SIZE = 4096
MAX_TEXT = 10_000  # provenance, names
_FILE_KEYS = ("backbone_weights", "pretrained", "weights", "checkpoint")
_FILE_SUFFIXES = ("_path", "_file", "_weights", "_dir")


class _Bad(Exception):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")


def _kind(value: Any) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }
    return "null" if value is None else names.get(type(value), f"a {type(value).__name__}")


def _number(field: str, value: Any, integer: bool) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise _Bad(field, f"must be {'an integer' if integer else 'a number'}, not {_kind(value)} ({value!r:.40})")
    if not math.isfinite(value):
        raise _Bad(field, f"must be finite, not {value!r}")
    return value


def _json_value(field: str, value: Any, depth: int = 0) -> Any:
    """A plain JSON value (no NaN); nested at most a few levels."""
    if depth > 4:
        raise _Bad(field, "nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return _number(field, value, integer=False)
    if isinstance(value, list):
        return [_json_value(f"{field}[{i}]", v, depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): _json_value(f"{field}.{k}", v, depth + 1) for k, v in value.items()}
    raise _Bad(field, f"unsupported value {_kind(value)}")


def _typed(field: str, value: Any, hint: Any) -> Any:
    """`value` checked against the type annotation `hint` of a dataclass field."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _dataclass(field, value, hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _typed(field, value, next(a for a in args if a is not type(None)))
    if hint is bool:
        if not isinstance(value, bool):
            raise _Bad(field, f"must be true or false, not {_kind(value)} ({value!r:.40})")
        return value
    if hint is int or hint is float:
        return _number(field, value, integer=hint is int)
    if hint is str:
        if not isinstance(value, str):
            raise _Bad(field, f"must be a string, not {_kind(value)}")
        if len(value) > MAX_TEXT:
            raise _Bad(field, f"is longer than {MAX_TEXT} characters")
        return value
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise _Bad(field, f"must be a list, not {_kind(value)}")
        item = args[0] if args else Any
        return tuple(_typed(f"{field}[{i}]", v, item) for i, v in enumerate(value))
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise _Bad(field, f"must be an object, not {_kind(value)}")
        return _json_value(field, value)
    return _json_value(field, value)  # Any, or a type this schema does not know: plain JSON only


def _dataclass(field: str, value: Any, cls: type) -> dict[str, Any]:
    prefix = f"{field}." if field else ""
    if not isinstance(value, dict):
        raise _Bad(field or "config", f"must be an object, not {_kind(value)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise _Bad(f"{prefix}{unknown[0]}", f"unknown key (known: {', '.join(fields)})")
    hints = typing.get_type_hints(cls)
    out = {}
    for name, f in fields.items():
        if name in value:
            out[name] = _typed(prefix + name, value[name], hints[name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise _Bad(prefix + name, "is missing")
    return out


def _check_ranges(c: dict[str, Any]) -> None:
    if not c["name"].strip():
        raise _Bad("name", "is empty")
    n = c.get("num_classes", 7)
    if not 2 <= n <= MAX_CLASSES:
        raise _Bad("num_classes", f"must be between 2 and {MAX_CLASSES}, not {n}")
    names = c.get("class_names")
    if names:
        if len(names) != n:
            raise _Bad("class_names", f"has {len(names)} names for num_classes={n}")
        if any(not s.strip() for s in names) or len(set(names)) != len(names):
            raise _Bad("class_names", "must be distinct, non-empty names")
    pp = c.get("preprocess", {})
    size = pp.get("input_size", 224)
    if not 8 <= size <= MAX_INPUT_SIZE:
        raise _Bad("preprocess.input_size", f"must be between 8 and {MAX_INPUT_SIZE}, not {size}")
    if "face_scale" in pp and not 0 < pp["face_scale"] <= 100:
        raise _Bad("preprocess.face_scale", f"must be > 0, not {pp['face_scale']}")
    for key in ("mean", "std"):
        if key in pp and len(pp[key]) not in (1, 3):
            raise _Bad(f"preprocess.{key}", f"must hold 1 or 3 numbers, not {len(pp[key])}")
    for i, s in enumerate(pp.get("std", ())):
        if s <= 0:
            raise _Bad(f"preprocess.std[{i}]", f"must be > 0, not {s}")
    for key in c.get("arch", {}):
        if key in _FILE_KEYS or key.endswith(_FILE_SUFFIXES):
            raise _Bad(
                f"arch.{key}", "names a file; a checkpoint's stored config never makes the loader open another file"
            )


def validate_config(data: Any) -> ModelConfig:
    """A `ModelConfig` from untrusted parsed JSON; `CheckpointError` naming the field otherwise."""
    try:
        fields = _dataclass("", data, ModelConfig)
        _check_ranges(fields)
    except _Bad as exc:
        raise CheckpointError(f"the stored model config is invalid: {exc}") from None
    try:
        config = ModelConfig(**fields)  # a stored crop recipe is checked by CropSpec.validate here
    except Exception as exc:  # noqa: BLE001 - a field type this schema does not know refused its value
        raise CheckpointError(f"the stored model config is invalid: {type(exc).__name__}: {exc}") from None
    if fields.get("crop") is None:  # an older checkpoint recorded no crop: today's rule, stated (crop_note)
        config.crop = None
    return config


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def config_from_json(text: Any) -> ModelConfig:
    """Parse and validate the `fer_config` metadata string."""
    if not isinstance(text, str):
        raise CheckpointError(f"the stored model config must be a JSON string, not {_kind(text)}")
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"the stored model config is not valid JSON: {str(exc)[:200]}") from None
    return validate_config(data)
