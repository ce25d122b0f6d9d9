"""Resolve a published model folder (or a checkpoint file) to its checkpoint and its card's summary line.

A published folder holds `model.safetensors` and a model card `README.md` written by `fer publish`
(front matter with `library_name: alfj-fer`). The card's summary line is the first paragraph after
its title: it states what the model was trained on (and says so plainly when that is nothing, or
only synthetic SynthFER faces), and the demo's picker shows it as the model's provenance.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "model.safetensors"
CARD_NAME = "README.md"
LIBRARY_NAME = "alfj-fer"
_MAX_CARD_BYTES = 1024 * 1024
_MAX_SUMMARY = 400


@dataclass(frozen=True)
class Published:
    """Where a model source's weights are, and the summary line of its card ("" without a card)."""

    checkpoint: Path
    summary: str = ""
    folder: Path | None = None  # the published folder, when the source is (or lies in) one


def resolve_published(path: str | os.PathLike) -> Published:
    """The checkpoint of `path`: a published folder's `model.safetensors`, or `path` itself.

    A checkpoint file named `model.safetensors` next to one of our model cards (a published folder,
    or a Hub snapshot of one) gets that card's summary too. Anything else is returned as it is: the
    loader's own checks explain a missing file or a folder without `model.safetensors`.
    """
    p = Path(path)
    try:
        p = p.expanduser()
        is_dir, has_checkpoint = p.is_dir(), (p / CHECKPOINT_NAME).is_file()
        has_card = p.name == CHECKPOINT_NAME and (p.parent / CARD_NAME).is_file()
    except (OSError, RuntimeError):  # a name too long, an unknown ~user: the loader says so plainly
        return Published(p)
    if is_dir:
        return Published(p / CHECKPOINT_NAME, card_summary(p / CARD_NAME), p) if has_checkpoint else Published(p)
    if has_card:
        card = p.parent / CARD_NAME
        summary = card_summary(card)
        if summary:
            return Published(p, summary, p.parent)
    return Published(p)


def split_card(text: str) -> tuple[dict, str]:
    """(front matter as a dict, Markdown body) of a model card. Raises ValueError when it has none."""
    import yaml

    match = re.match(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", text, re.S)
    if not match:
        raise ValueError("no YAML front matter (a card starts with a line '---')")
    meta = yaml.safe_load(match.group(1)) or {}
    if not isinstance(meta, dict):
        raise ValueError("the front matter is not a YAML mapping")
    return meta, text[match.end():]


def card_summary(card: Path) -> str:
    """The summary line of one of our model cards; "" when the file is absent, not ours or unreadable."""
    try:
        if not card.is_file() or card.stat().st_size > _MAX_CARD_BYTES:
            return ""
        meta, body = split_card(card.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError) as exc:
        log.warning("model card %s is unreadable (%s); loading the checkpoint without it", card, exc)
        return ""
    except Exception as exc:  # noqa: BLE001 - yaml's own errors: an untrusted card must not stop a load
        log.warning("model card %s has malformed front matter (%s)", card, str(exc).splitlines()[0])
        return ""
    if meta.get("library_name") != LIBRARY_NAME:
        return ""
    return summary_of(body)


def summary_of(body: str) -> str:
    """The first paragraph after the card's title, as one plain line."""
    lines = body.splitlines()
    start = next((i + 1 for i, ln in enumerate(lines) if ln.startswith("# ")), 0)
    para: list[str] = []
    for ln in lines[start:]:
        text = ln.strip().lstrip(">").strip()
        if not text:
            if para:
                break
            continue
        if text.startswith("#"):
            break
        para.append(text)
    summary = re.sub(r"[*_`]", "", " ".join(para)).strip()
    return summary[:_MAX_SUMMARY]
