"""A new user's path through the CLI: every option explained with its default, one `--device` rule,
and `fer sensitivity` saying "no clear drop" rather than naming a spot when nothing matters."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from PIL import Image

from fer.cli import build_parser, main, shows_default


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_option_of_every_command_has_help_and_shows_its_default():
    commands = _subparsers()
    assert {"detect", "predict", "explain", "occlude", "sensitivity", "robustness", "train"} <= set(commands)
    missing, no_default = [], []
    for name, parser in commands.items():
        formatter = parser._get_formatter()
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            what = f"{name} {'/'.join(action.option_strings) or action.dest}"
            if not (action.help or "").strip():
                missing.append(what)
                continue
            shown = formatter._expand_help(action)  # the text `--help` prints for it
            if shows_default(action) and str(action.default) not in shown:
                no_default.append(f"{what} (default {action.default!r}): {shown}")
    assert not missing, f"options without help: {missing}"
    assert not no_default, "options whose help hides the default:\n" + "\n".join(no_default)


def test_help_output_states_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["sensitivity", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: outputs/sensitivity)" in text and "(default: auto)" in text and "(default: 1)" in text
    assert "auto = cuda when a GPU is available, else cpu" in text


def test_one_device_rule_across_commands(monkeypatch):
    import torch

    from fer.commands._model_source import resolve_device

    for name, parser in _subparsers().items():
        device = [a for a in parser._actions if "--device" in a.option_strings]
        if device:
            assert device[0].default == "auto", f"{name} --device defaults to {device[0].default!r}"
    models = {"predict", "explain", "sensitivity", "robustness", "locality", "evaluate", "train"}
    assert models <= {n for n, p in _subparsers().items() if any("--device" in a.option_strings for a in p._actions)}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu" and resolve_device(None) == "cpu" and resolve_device("cuda:1") == "cuda:1"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda" and resolve_device("AUTO") == "cuda" and resolve_device("cpu") == "cpu"


def test_sensitivity_takes_the_same_model_options_as_predict():
    def options(parser):
        return {s for a in parser._actions for s in a.option_strings}

    commands = _subparsers()
    for opt in ("--model", "--checkpoint", "--device", "--detector"):
        assert opt in options(commands["predict"]) and opt in options(commands["sensitivity"]), opt


def test_largest_drop_names_no_place_when_it_is_negligible():
    from fer.robustness.sensitivity import NEGLIGIBLE_DROP, largest_drop

    flat = np.full((8, 8), NEGLIGIBLE_DROP / 2, np.float32)
    assert largest_drop(flat) == (pytest.approx(NEGLIGIBLE_DROP / 2), None)
    peaked = flat.copy()
    peaked[5, 2] = 0.3
    assert largest_drop(peaked) == (pytest.approx(0.3), (2, 5))  # (x, y)
    assert largest_drop(np.full((4, 4), np.nan, np.float32))[1] is None


def test_sensitivity_says_no_clear_drop_on_a_blank_crop(tmp_path, capsys):
    crop = tmp_path / "grey.png"
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(crop)  # a grey patch on grey changes nothing
    out = tmp_path / "sens"
    assert main(["sensitivity", str(crop), "--aligned", "--model", "mini_xception_fer2013", "--patch", "16",
                 "--stride", "16", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "no clear drop" in printed and "around crop pixel" not in printed
    doc = json.loads((out / "sensitivity.json").read_text())
    assert doc["largest_drop_at"] is None and doc["largest_drop"] == 0 and doc["face"] is None
    assert (out / "sensitivity.png").is_file()
