"""Evaluation metrics on hand-made logits, report files, and class-set checks."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from fer.data.base import LabeledSet
from fer.errors import DatasetError, InputError
from fer.evaluate import confusion, evaluate, metrics, write_report
from fer.labels import CANONICAL_7, CANONICAL_8


def _logits(head_preds, c=3, strength=(5.0,)):
    """(N, R, C) logits whose head r votes head_preds[n][r] with the given strength."""
    n, r = len(head_preds), len(head_preds[0])
    z = np.zeros((n, r, c), np.float32)
    for i, row in enumerate(head_preds):
        for k, p in enumerate(row):
            z[i, k, p] = strength[k % len(strength)]
    return z


def test_fused_and_per_head_accuracy():
    names = ("a", "b", "c")
    # sample 0: three heads say 0, one strongly says 1 -> the fused vote is the softmax mean
    z = _logits([[0, 0, 0, 1], [1, 1, 1, 2], [2, 2, 2, 2], [0, 1, 1, 1]], strength=(5.0,))
    z[0, 3, 1] = 50.0  # strong, but softmax caps at 1: fused still picks class 0
    labels = np.array([0, 1, 2, 1])
    m = metrics(z, labels, names)
    assert m["per_head_accuracy"] == {"top-left": 0.75, "top-right": 1.0, "bottom-left": 1.0, "bottom-right": 0.5}
    # fused (mean of softmax): every sample goes to its heads' majority class, all correct
    assert m["accuracy"] == 1.0 and m["fused_accuracy"] == 1.0
    assert m["confusion_matrix"] == [[1, 0, 0], [0, 2, 0], [0, 0, 1]]


def test_fused_probabilities_given_by_the_model_are_used():
    """A reference model's fused decision is its own classifier (ModelOutput.probs), not the head mean."""
    z = _logits([[0, 0, 0, 1]], strength=(5.0,))  # the head mean says class 0
    own = np.array([[0.1, 0.8, 0.1]], np.float32)  # the model's own fused output says class 1
    assert metrics(z, np.array([0]), ("a", "b", "c"))["accuracy"] == 1.0
    m = metrics(z, np.array([0]), ("a", "b", "c"), fused=own)
    assert m["accuracy"] == 0.0 and m["confusion_matrix"][0] == [0, 1, 0]
    assert m["per_head_accuracy"]["top-left"] == 1.0  # heads are still scored on their own logits


def test_mean_class_accuracy_and_confusion():
    z = _logits([[0], [0], [0], [1], [2]], c=4)
    labels = np.array([0, 0, 1, 1, 2])
    m = metrics(z, labels, ("a", "b", "c", "d"))
    assert m["accuracy"] == pytest.approx(4 / 5)
    assert m["mean_class_accuracy"] == pytest.approx((1 + 0.5 + 1) / 3)  # class d absent: not averaged
    assert m["per_class_accuracy"]["d"] is None
    assert confusion(np.array([1, 2]), np.array([0, 0]), 3).tolist() == [[0, 1, 1], [0, 0, 0], [0, 0, 0]]
    assert m["per_head_accuracy"] == {"whole-face": pytest.approx(0.8)}


def test_report_files(tmp_path):
    z = _logits([[i % 7] * 4 for i in range(14)], c=7)
    labels = np.array([i % 7 for i in range(14)])
    labels[0] = 3
    rep = metrics(z, labels, CANONICAL_7)
    rep["dataset"] = {"name": "SynthFER (synthetic)", "split": "test"}
    paths = write_report(rep, tmp_path / "r", "synth")
    back = json.loads(open(paths["json"]).read())
    assert back["accuracy"] == pytest.approx(13 / 14)
    html = open(paths["html"]).read()
    assert "plotly" in html.lower() and "happiness" in html
    png = cv2.imread(paths["png"])
    assert png is not None and png.shape[0] > 400 and png.shape[1] > 400
    assert len(list((tmp_path / "r").iterdir())) == 3  # no temporary files left behind


def test_evaluate_refuses_a_class_set_mismatch():
    from fer.models import create_model

    model = create_model("base_resnet18", num_classes=8, input_size=32)
    data = LabeledSet("x", "test", CANONICAL_7, ["a"], np.array([0]), lambda i: np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(DatasetError, match="do not match"):
        evaluate(model, data)
    data8 = LabeledSet("x", "test", CANONICAL_8, ["a", "b"], np.array([0, 7]), lambda i: np.zeros((32, 32, 3), np.uint8))
    rep = evaluate(model, data8)
    assert rep["n"] == 2 and len(rep["confusion_matrix"]) == 8


def test_evaluate_cli_on_a_rafdb_tree_with_its_subsets(tmp_path, capsys):
    from fer.cli import main as cli_main
    from fer.models import create_model
    from fer.models.checkpoint import save_checkpoint

    root = tmp_path / "RAF-DB"
    (root / "EmoLabel").mkdir(parents=True)
    names = [f"test_{i:04d}" for i in range(1, 8)]
    (root / "EmoLabel" / "list_patition_label.txt").write_text("".join(f"{n}.jpg {i % 7 + 1}\n" for i, n in enumerate(names)))
    (root / "Image" / "aligned").mkdir(parents=True)
    for i, n in enumerate(names):
        cv2.imwrite(str(root / "Image" / "aligned" / f"{n}_aligned.jpg"), np.full((40, 40, 3), 30 * i, np.uint8))
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "rafdb_occlusion_list.txt").write_text("test_0001_aligned 0 1\ntest_0002_aligned 1 1\n")
    ckpt = save_checkpoint(create_model("base_resnet18", input_size=32), tmp_path / "untrained.safetensors")

    assert cli_main(["evaluate", "--checkpoint", str(ckpt), "--data", f"rafdb:{root}", "--subset", "all",
                     "--lists", str(lists), "--out", str(tmp_path / "ev"), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "not trained on expression data" in out
    summary = json.loads(out[out.index("{"):])
    assert summary["reports"]["test"]["n"] == 7 and summary["reports"]["test:occlusion"]["n"] == 2
    loc = summary["reports"]["test"]["locality"]  # one head: locality.py's null convention
    assert not loc["applies"] and loc["locality"] == [None] and loc["offdiag_over_diag"] is None
    assert np.asarray(loc["crosstalk"]).shape == (4, 1) and loc["n"] == 7
    assert json.loads((tmp_path / "ev" / "rafdb_test.json").read_text())["locality"] == loc
    assert "subset list missing" in summary["reports"]["test:pose30"]["skipped"]
    assert (tmp_path / "ev" / "rafdb_test_occlusion_confusion.png").is_file()
    assert cli_main(["evaluate", "--checkpoint", str(tmp_path / "missing.safetensors"), "--data", "synthfer"]) == 2


def _synth_set(n: int, size: int = 48) -> LabeledSet:
    from fer.data.synthetic import SynthFER

    gen = SynthFER(size, 0)
    samples = [gen.sample("test", i) for i in range(n)]
    return LabeledSet("SynthFER (synthetic)", "test", CANONICAL_7, [f"s{i}" for i in range(n)],
                      np.array([s.label for s in samples]), lambda i: samples[i].image)


def test_evaluate_adds_the_locality_of_the_first_images(one_torch_thread):
    import torch

    from fer.models import create_model
    from fer.robustness.locality import crosstalk

    torch.manual_seed(0)
    model = create_model("alfj_patch_resnet18_half", input_size=48).eval()
    data = _synth_set(6)
    rep = evaluate(model, data, locality_limit=4, batch_size=4)
    loc = rep["locality"]
    assert loc["n"] == 4 and loc["applies"] and loc["data"] == "SynthFER (synthetic) test"
    # the same figures as fer.robustness.locality on the same four preprocessed images
    x = np.stack([model.config.preprocess.to_tensor(data.image(i)).numpy() for i in range(4)])
    direct = crosstalk(model, torch.from_numpy(x), cam_limit=0)
    np.testing.assert_allclose(loc["crosstalk"], direct.crosstalk, atol=1e-6)
    off = ~np.eye(4, dtype=bool)
    assert (np.asarray(loc["crosstalk"])[off] == 0).all() and loc["offdiag_over_diag"] == 0.0  # input split: local
    assert len(loc["cam_share"]) == 4 and json.loads(json.dumps(rep))["locality"] == loc
    assert "locality" not in evaluate(model, data, batch_size=4)  # off by default in the library
    with pytest.raises(InputError, match="locality limit"):
        evaluate(model, data, locality_limit=-2)


def test_evaluate_cli_locality_limit(tmp_path, capsys, one_torch_thread):
    from fer.cli import main as cli_main
    from fer.models import create_model
    from fer.models.checkpoint import save_checkpoint

    ckpt = save_checkpoint(create_model("alfj_resnet18_half", input_size=48), tmp_path / "m.safetensors")
    base = ["evaluate", "--checkpoint", str(ckpt), "--data", "synthfer", "--option", "test_size=6",
            "--option", "image_size=48", "--device", "cpu"]
    assert cli_main([*base, "--locality-limit", "3", "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    loc = json.loads(out[out.index("{"):])["reports"]["test"]["locality"]
    assert loc["n"] == 3 and np.asarray(loc["crosstalk"]).shape == (4, 4) and len(loc["locality"]) == 4
    assert np.asarray(loc["crosstalk"])[~np.eye(4, dtype=bool)].max() > 0  # the paper's split is not local
    assert cli_main([*base, "--locality-limit", "0", "--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "locality" not in json.loads(out[out.index("{"):])["reports"]["test"]
    assert "locality" not in json.loads((tmp_path / "b" / "synthfer_test.json").read_text())
    assert cli_main([*base, "--locality-limit", "-1"]) == 2
    assert "--locality-limit" in capsys.readouterr().err
