"""`fer publish`: a Hub model folder that loads wherever a checkpoint does, with a Hub-valid model card."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer.cli import main as cli_main
from fer.errors import CheckpointError, FERError
from fer.hub.folder import card_summary, resolve_published, split_card

REPO = Path(__file__).resolve().parents[1]
SYNTH_PROVENANCE = "trained with alfj-fer on SynthFER (train split, 7 classes); 3 epochs; best val fused accuracy 0.9000"


def _checkpoint(folder: Path, trained: bool = True, provenance: str = SYNTH_PROVENANCE, seed: int = 0) -> Path:
    import torch

    from fer.models import create_model
    from fer.models.checkpoint import save_checkpoint

    torch.manual_seed(seed)
    model = create_model("alfj_resnet18", input_size=64)
    extra = {}
    if trained:
        model.config.trained, model.config.provenance = True, provenance
        extra = {"training_data": "SynthFER", "epoch": 3, "val_accuracy": 0.9, "seed": 0}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text("seed: 0\ndata: {dataset: synthfer}\nmodel: {name: alfj_resnet18}\n")
    return save_checkpoint(model, folder / "model.safetensors", extra_metadata=extra)


def _eval_dir(folder: Path, locality: dict | None = None, model: str = "alfj_resnet18") -> Path:
    import cv2

    from fer.evaluate import confusion_png, metrics

    rng = np.random.default_rng(0)
    labels = np.arange(70) % 7
    logits = rng.normal(size=(70, 4, 7)).astype(np.float32)
    logits[:50, :, :] += np.eye(7, dtype=np.float32)[labels[:50]][:, None, :] * 4  # 50 of 70 right
    for split in ("test", "test:occlusion"):
        report = metrics(logits, labels, ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear"))
        report["dataset"] = {"name": "RAF-DB", "split": split, "source": "aligned"}
        report["model"] = {"name": model, "trained": True}
        if locality is not None:
            report["locality"] = locality
        stem = f"rafdb_{split.replace(':', '_')}"  # as `fer evaluate` names them (write_report, without its HTML)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stem}.json").write_text(json.dumps(report))
        cv2.imwrite(str(folder / f"{stem}_confusion.png"), confusion_png(np.array(report["confusion_matrix"]), report["class_names"]))
    return folder


def _locality_of(ckpt: Path) -> dict:
    """The `locality` entry `fer evaluate` writes (fer.robustness.locality's to_dict), for this checkpoint."""
    from fer.models.checkpoint import load_checkpoint
    from fer.robustness.locality import crosstalk

    faces = np.random.default_rng(0).integers(0, 255, (3, 64, 64, 3), dtype=np.uint8)
    return crosstalk(load_checkpoint(ckpt), faces, cam_limit=1).to_dict()


@pytest.fixture(scope="module")
def published(tmp_path_factory, one_torch_thread):
    root = tmp_path_factory.mktemp("publish")
    ckpt = _checkpoint(root / "run")
    evals = _eval_dir(root / "eval", locality=_locality_of(ckpt))
    out = root / "published"
    assert cli_main(["publish", "--checkpoint", str(ckpt), "--out", str(out), "--eval", str(evals),
                     "--name", "alfj-synthfer-test"]) == 0
    return ckpt, out


def test_publish_writes_a_hub_repository_layout(published):
    _, out = published
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"model.safetensors", "README.md", "training_config.yaml", "images/rafdb_test_confusion.png",
            "images/rafdb_test_occlusion_confusion.png", "eval/rafdb_test.json"} <= names
    assert not [n for n in names if ".tmp" in n]


def test_published_folder_loads_with_the_same_predictions(published, tmp_path, monkeypatch):
    from fer.predictor import Predictor, clear_model_cache

    ckpt, out = published
    crops = [np.random.default_rng(i).integers(0, 255, (64, 64, 3), dtype=np.uint8) for i in range(3)]
    clear_model_cache()
    direct = Predictor(str(ckpt)).predict_arrays(crops)
    from_folder = Predictor(out).predict_arrays(crops)
    from_file = Predictor(str(out / "model.safetensors")).predict_arrays(crops)
    for got in (from_folder, from_file):
        np.testing.assert_array_equal(direct[0], got[0])
        np.testing.assert_array_equal(direct[1], got[1])
    # a different model gives different numbers, so the equality above means something
    other = Predictor(str(_checkpoint(tmp_path / "other", seed=1))).predict_arrays(crops)
    assert not np.allclose(direct[0], other[0])

    # the CLI's --checkpoint takes the folder
    photo = REPO / "examples" / "astronaut.jpg"
    assert cli_main(["predict", str(photo), "--checkpoint", str(out), "--json"]) == 0
    # and the demo's FER_WEIGHTS: the picker shows the card's summary line as provenance
    from fer.ui.models import discover_models, provenance_markdown

    monkeypatch.setenv("FER_WEIGHTS", str(out))
    choice = next(c for c in discover_models(include_untrained=False) if c.kind == "checkpoint")
    summary = card_summary(out / "README.md")
    assert "SynthFER" in summary and choice.provenance == summary
    assert "published" in choice.label and "synthetic" in choice.label
    assert summary in provenance_markdown(choice)


def test_card_is_front_matter_plus_markdown_the_hub_can_read(published):
    from huggingface_hub import ModelCard

    _, out = published
    text = (out / "README.md").read_text(encoding="utf-8")
    meta, body = split_card(text)
    assert meta["library_name"] == "alfj-fer" and meta["pipeline_tag"] == "image-classification"
    assert meta["license"] == "mit" and "raf-db" in meta["datasets"] and "synthfer" in meta["datasets"]
    assert "synthetic-data" in meta["tags"]
    report = json.loads((out / "eval" / "rafdb_test.json").read_text())
    results = ModelCard(text).data.eval_results  # the Hub library's own model-index parser
    by_name = {(r.dataset_config, r.metric_name): r.metric_value for r in results}
    assert by_name[(None, "fused accuracy")] == round(report["accuracy"], 4)
    assert by_name[(None, "mean per-class accuracy")] == round(report["mean_class_accuracy"], 4)
    assert by_name[(None, "top-left head accuracy")] == round(report["per_head_accuracy"]["top-left"], 4)
    assert by_name[("occlusion", "fused accuracy")] == round(report["accuracy"], 4)
    loc = report["locality"]  # fer evaluate's format: LocalityResult.to_dict()
    for k, head in enumerate(loc["columns"]):
        assert by_name[(None, f"locality index {head}")] == round(loc["locality"][k], 4)
        assert by_name[(None, f"CAM share {head}")] == round(loc["cam_share"][k], 4)
    assert by_name[(None, "cross-talk off-diagonal / diagonal")] == round(loc["offdiag_over_diag"], 4)
    assert by_name[("occlusion", "locality index top-left")] == round(loc["locality"][0], 4)
    assert all(r.task_type == "image-classification" for r in results)
    for heading in ("# alfj-synthfer-test", "## Evaluation", "## Architecture", "## Crop recipe", "## Training",
                    "## How to load"):
        assert f"\n{heading}" in body
    assert "(images/rafdb_test_confusion.png)" in body
    assert "**Locality**" in body and "docs/locality.md" in body
    row = next(line for line in body.splitlines() if line.startswith("| top-right | "))  # the cross-talk matrix
    assert [float(v) for v in row.strip("| ").split(" | ")[1:]] == [round(v, 4) for v in report["locality"]["crosstalk"][1]]
    assert "fer.Predictor(" in body and "FER_HUB_REPO=" in body and "FER_WEIGHTS=" in body
    assert "| local_stage | \"shared\" |" in body and "cbam_reduction" in body  # every option, defaults too
    assert "python -m fer train --config training_config.yaml" in body
    assert "training_data: `SynthFER`" in body
    assert "Face crop: `similarity5`" in body and "recipe: similarity5" in body  # the crop recipe, from the config


def _first_lines(card: Path) -> str:
    return "\n".join(card.read_text(encoding="utf-8").splitlines()[:2]) + "\n" + card_summary(card)


def test_untrained_and_synthfer_models_say_so_first(tmp_path, one_torch_thread):
    untrained = _checkpoint(tmp_path / "u", trained=False)
    assert cli_main(["publish", "--checkpoint", str(untrained), "--out", str(tmp_path / "pu")]) == 0
    head = _first_lines(tmp_path / "pu" / "README.md")
    assert "NOT TRAINED ON EXPRESSION DATA" in head and "Not trained on expression data" in head
    meta, body = split_card((tmp_path / "pu" / "README.md").read_text())
    assert "untrained" in meta["tags"] and "model-index" not in meta  # no figures without --eval
    assert "No evaluation report was given" in body

    synth = _checkpoint(tmp_path / "s")
    assert cli_main(["publish", "--checkpoint", str(synth), "--out", str(tmp_path / "ps")]) == 0
    head = _first_lines(tmp_path / "ps" / "README.md")
    assert "ONLY ON SYNTHETIC SynthFER" in head and "Trained only on SynthFER" in head

    real = _checkpoint(tmp_path / "r", provenance="trained with alfj-fer on RAF-DB (train split, 7 classes); 60 epochs")
    from fer.models.checkpoint import load_checkpoint, save_checkpoint

    model = load_checkpoint(real)
    save_checkpoint(model, real, extra_metadata={"training_data": "RAF-DB"})
    assert cli_main(["publish", "--checkpoint", str(real), "--out", str(tmp_path / "pr")]) == 0
    head = _first_lines(tmp_path / "pr" / "README.md")
    assert "trained on RAF-DB" in head and "synthetic" not in head.lower() and "NOT TRAINED" not in head


def test_push_offline_fails_with_one_plain_line_and_keeps_the_folder(published, tmp_path, capsys, monkeypatch):
    ckpt, _ = published
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "p"
    assert cli_main(["publish", "--checkpoint", str(ckpt), "--out", str(out), "--push", "someone/alfj-test"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot push to the Hugging Face Hub: offline") and "\n" not in err
    assert (out / "model.safetensors").is_file() and "someone/alfj-test" in (out / "README.md").read_text()


def test_push_without_network_fails_with_one_plain_line(published):
    import socket

    with socket.socket() as s:  # a port nobody listens on: the Hub is unreachable
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, out = published
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env.update(HF_ENDPOINT=f"http://127.0.0.1:{port}", HF_TOKEN="hf_test_not_a_token")
    code = ("import sys; from fer.errors import FERError; from fer.hub.publish import push\n"
            "try: push(sys.argv[1], 'someone/alfj-test')\nexcept FERError as e: print('error:', e, file=sys.stderr); sys.exit(2)")
    proc = subprocess.run([sys.executable, "-c", code, str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot push to the Hugging Face Hub repo someone/alfj-test")


def test_bad_publish_inputs_get_plain_messages(published, tmp_path, capsys):
    ckpt, out = published
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    assert cli_main(["publish", "--checkpoint", str(ckpt), "--out", str(busy)]) == 2
    assert "not empty" in capsys.readouterr().err and (busy / "notes.txt").read_text() == "mine"
    other_eval = _eval_dir(tmp_path / "ev", model="base_resnet50")
    assert cli_main(["publish", "--checkpoint", str(ckpt), "--out", str(tmp_path / "x"), "--eval", str(other_eval)]) == 2
    assert "not of this checkpoint" in capsys.readouterr().err
    assert cli_main(["publish", "--checkpoint", str(ckpt), "--out", str(tmp_path / "y"), "--eval", str(tmp_path)]) == 2
    assert "no `fer evaluate` report" in capsys.readouterr().err
    # republishing into an earlier publish folder is allowed (its own files only)
    assert cli_main(["publish", "--checkpoint", str(ckpt), "--out", str(out), "--name", "alfj-synthfer-test"]) == 0
    capsys.readouterr()


def test_folder_without_checkpoint_and_broken_cards(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert resolve_published(empty).checkpoint == empty  # the loader explains it
    from fer.models.checkpoint import load_checkpoint
    from fer.predictor import Predictor

    with pytest.raises(CheckpointError, match="is a directory"):
        load_checkpoint(empty)

    with pytest.raises(FERError, match="is a directory"):
        Predictor(str(empty))
    card = tmp_path / "README.md"
    for text in ("no front matter", "---\n[unclosed\n---\n# x\n\nhello\n", "---\nlibrary_name: other\n---\n# x\n\nhi\n"):
        card.write_text(text)
        assert card_summary(card) == ""
    card.write_text("---\nlibrary_name: alfj-fer\n---\n# t\n\n> **Trained** on *X*.\nsecond line\n\n## next\n")
    assert card_summary(card) == "Trained on X. second line"


def test_publish_refuses_a_locality_entry_in_another_format(tmp_path, capsys):
    ckpt = _checkpoint(tmp_path / "run")
    evals = _eval_dir(tmp_path / "eval", locality={"own_region_drop": 0.31})
    assert cli_main(["publish", "--checkpoint", str(ckpt), "--out", str(tmp_path / "pub"), "--eval", str(evals)]) == 2
    err = capsys.readouterr().err
    assert "locality entry is not in fer locality's format" in err and "Traceback" not in err


def test_publish_one_head_locality_gives_no_locality_figures(tmp_path):
    from fer.hub.card import locality_figures

    doc = {"crosstalk": [[0.2], [0.1], [0.3], [0.4]], "locality": [None], "cam_share": [None], "columns": ["whole-face"],
           "applies": False, "offdiag_over_diag": None, "n": 4}
    assert locality_figures(doc) == ({}, [])
    figures, matrix = locality_figures({**doc, "applies": True, "columns": ["a"], "locality": [0.5], "cam_share": [0.25]})
    assert figures == {"locality index a": 0.5, "CAM share a": 0.25} and matrix == doc["crosstalk"]
