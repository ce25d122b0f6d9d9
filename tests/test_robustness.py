"""fer.robustness: sweeps, reports and sensitivity maps, with a tiny 4-head model trained here on SynthFER.

SynthFER puts happiness's cue only in the lower half of the face and anger's only in the upper
half (fer.data.synthetic.CUE_REGIONS): hiding a class's cue must cost that class more accuracy
than hiding the other half.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from fer.data.synthetic import CUE_REGIONS
from fer.errors import InputError
from fer.models.base import FERModel, ModelConfig, ModelOutput, Preprocess
from fer.robustness import Condition, Samples, default_conditions, sensitivity_map, sweep, sweep_face, write_reports
from fer.robustness.report import read_csv, read_report_json
from fer.robustness.sources import synthfer_samples

SIZE = 32


class TinyRegionNet(FERModel):
    """One conv layer, max-pooled to an 4x4 grid; each 2x2-cell quadrant feeds its own linear head."""

    def __init__(self, num_classes: int = 7, size: int = SIZE) -> None:
        cfg = ModelConfig(name="tiny_region_net", num_classes=num_classes,
                          preprocess=Preprocess(input_size=size, mean=(0.5,) * 3, std=(0.25,) * 3),
                          provenance="trained for a few seconds on SynthFER inside a test")
        super().__init__(cfg, 4)
        self.trunk = nn.Sequential(nn.Conv2d(3, 8, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(4))
        self.heads = nn.ModuleList(nn.Linear((size // 8) ** 2 * 8, num_classes) for _ in range(4))

    def forward(self, x: torch.Tensor) -> ModelOutput:
        f = self.shared_tap(self.trunk(x))
        h, w = f.shape[-2] // 2, f.shape[-1] // 2
        parts = (f[..., :h, :w], f[..., :h, w:], f[..., h:, :w], f[..., h:, w:])
        return ModelOutput(torch.stack([hd(tap(p).flatten(1)) for hd, tap, p in zip(self.heads, self.region_taps, parts)], 1))


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _train(seed: int = 0, n: int = 1400, epochs: int = 15) -> TinyRegionNet:
    from fer.robustness.inference import to_model_input

    train = synthfer_samples("train", n, SIZE, seed=0)
    torch.manual_seed(seed)
    model = TinyRegionNet()
    x, y = to_model_input(train.crops, model), torch.as_tensor(train.labels)
    opt = torch.optim.Adam(model.parameters(), 1e-2, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, 100):
            idx = perm[i : i + 100]
            xb = x[idx].clone()
            r = torch.rand(len(idx), generator=gen)  # occlusion augmentation: hide a half now and then
            xb[r < 0.2, :, : SIZE // 2] = 0
            xb[(r >= 0.2) & (r < 0.4), :, SIZE // 2 :] = 0
            loss = nn.functional.cross_entropy(model(xb).head_logits.reshape(-1, 7), y[idx].repeat_interleave(4))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


@pytest.fixture(scope="module")
def tiny_model() -> TinyRegionNet:
    return _train()


@pytest.fixture(scope="module")
def test_set() -> Samples:
    return synthfer_samples("test", 350, SIZE, seed=0)


@pytest.fixture(scope="module")
def halves_result(tiny_model, test_set):
    conds = [Condition("clean"), Condition("half:top", 1.0), Condition("half:bottom", 1.0)]
    return sweep([tiny_model], test_set, conds, batch_size=128, progress=False)


def _acc(result, occluder, cls="all", model=None):
    rows = [r for r in result.rows if r["occluder"] == occluder and r["class"] == cls and (model is None or r["model"] == model)]
    assert len(rows) == 1, rows
    return rows[0]


def test_tiny_model_learned_synthfer(halves_result):
    assert _acc(halves_result, "clean")["acc"] > 0.55  # chance is 1/7


def test_hiding_a_class_cue_costs_that_class_more_than_hiding_the_other_half(halves_result):
    assert CUE_REGIONS["happiness"] == ("lower",) and CUE_REGIONS["anger"] == ("upper",)
    happy_cue, happy_other = _acc(halves_result, "half:bottom", "happiness"), _acc(halves_result, "half:top", "happiness")
    assert happy_cue["drop"] > happy_other["drop"] + 0.3, (happy_cue, happy_other)
    anger_cue, anger_other = _acc(halves_result, "half:top", "anger"), _acc(halves_result, "half:bottom", "anger")
    assert anger_cue["drop"] > anger_other["drop"], (anger_cue, anger_other)
    # hiding the lower half moves happy faces to what is left: flips and lower confidence in "happy"
    assert happy_cue["flip_rate"] > 0.5 and happy_cue["confidence_change"] < 0


def test_metrics_are_consistent(halves_result):
    for r in halves_result.rows:
        assert abs(r["drop"] - (r["clean_acc"] - r["acc"])) < 1e-9
        assert 0 <= r["flip_rate"] <= 1 and 0 <= r["head_agreement"] <= 1
    clean = _acc(halves_result, "clean")
    assert clean["flip_rate"] == 0 and clean["drop"] == 0 and clean["coverage_top-left"] == 0
    top = _acc(halves_result, "half:top")
    assert top["coverage_top-left"] == pytest.approx(1) and top["coverage_bottom-right"] == pytest.approx(0)
    per_class = [r for r in halves_result.rows if r["occluder"] == "clean" and r["class"] != "all"]
    assert sum(r["n"] for r in per_class) == clean["n"] == 350


def test_reports_written_and_parse_back(tiny_model, test_set, tmp_path):
    small = test_set.head(21)
    other = _train(seed=1, n=350, epochs=3)
    conds = default_conditions(["surgical_mask", "sunglasses"], severities=(0.5, 1.0))
    result = sweep([tiny_model, other], small, conds, model_names=["tiny", "tiny_b"], batch_size=8, progress=False)
    assert {c.occluder for c in conds} >= {"region:top-left", "region:bottom-right", "surgical_mask"}
    paths = write_reports(result, tmp_path / "out")
    doc = read_report_json(paths["json"])
    assert doc["rows"] == json.loads(json.dumps(result.rows))
    assert doc["meta"]["models"] == ["tiny", "tiny_b"] and doc["meta"]["num_samples"] == 21
    csv_rows = read_csv(paths["csv"])
    assert len(csv_rows) == len(result.rows)
    for a, b in zip(csv_rows, result.rows):
        assert a["model"] == b["model"] and a["occluder"] == b["occluder"]
        assert a["acc"] == pytest.approx(b["acc"]) and a["flip_rate"] == pytest.approx(b["flip_rate"])
    html = paths["html"].read_text()
    assert html.count("Plotly.newPlot") == 4  # heatmap, per-head bars, curves, model vs model
    assert "<script src=\"http" not in html and "tiny_b" in html  # self-contained
    # the surgical mask hides the lower quadrants far more than the upper ones
    mask = next(
        r for r in result.rows if r["occluder"] == "surgical_mask" and r["severity"] == 1.0 and r["class"] == "all")
    assert mask["coverage_bottom-left"] > 2 * mask["coverage_top-left"]


def test_report_carries_the_locality_of_each_model(tiny_model, test_set, tmp_path):
    from fer.robustness.locality import crosstalk, of_samples

    small = test_set.head(12)
    result = sweep([tiny_model], small, [Condition("clean"), Condition("half:top", 1.0)], model_names=["tiny"],
                   batch_size=8, progress=False)
    result.locality = {"tiny": of_samples(tiny_model, small, limit=5, cam_limit=1).to_dict()}
    paths = write_reports(result, tmp_path / "out")
    doc = read_report_json(paths["json"])
    direct = crosstalk(tiny_model, small.crops[:5], cam_limit=0)
    np.testing.assert_allclose(doc["locality"]["tiny"]["crosstalk"], direct.crosstalk)
    assert doc["locality"]["tiny"]["n"] == 5
    # 5x5 convolutions reach 2 px over the quadrant borders: nearly, not exactly, local
    assert 0 < doc["locality"]["tiny"]["offdiag_over_diag"] < 0.5
    html = paths["html"].read_text()
    assert html.count("Plotly.newPlot") == 5 and "Locality of the heads" in html and "off-diagonal ÷ diagonal" in html
    with pytest.raises(InputError, match="locality limit"):
        of_samples(tiny_model, small, limit=0)


def test_pseudo_labels_from_a_model(tiny_model, test_set):
    unlabelled = Samples(test_set.crops[:30], test_set.landmarks[:30], None, source="photos")
    result = sweep([tiny_model], unlabelled, [Condition("clean"), Condition("half:bottom", 1.0)], progress=False)
    assert _acc(result, "clean")["acc"] == 1.0  # its own clean predictions are the labels
    assert result.meta["labels"].startswith("pseudo-labels")
    assert _acc(result, "half:bottom")["acc"] == pytest.approx(1 - _acc(result, "half:bottom")["flip_rate"])


def test_bad_conditions_are_refused(tiny_model, test_set):
    for bad in (["no_such_occluder"], ["region:middle"], ["half:up"]):
        with pytest.raises(InputError):
            default_conditions(bad, severities=(0.5,))
    for sev in ((1.5,), (-0.1,), (float("nan"),), ()):
        with pytest.raises(InputError):
            default_conditions([], severities=sev)
    with pytest.raises(InputError):
        sweep([], test_set)


def test_batched_sensitivity_map_equals_unbatched(tiny_model, test_set):
    crop = test_set.crops[1]
    one = sensitivity_map(tiny_model, crop, patch=8, stride=4, fill="gray", batch_size=1)
    many = sensitivity_map(tiny_model, crop, patch=8, stride=4, fill="gray", batch_size=13)
    assert one.grid_shape == many.grid_shape == (7, 7)
    np.testing.assert_allclose(many.patch_drops, one.patch_drops, atol=1e-5)
    np.testing.assert_allclose(many.fused, one.fused, atol=1e-5)
    np.testing.assert_allclose(many.heads, one.heads, atol=1e-5)
    assert one.heads.shape == (4, SIZE, SIZE) and one.class_index == int(one.clean_probs.argmax())


def test_sensitivity_of_happy_faces_lies_in_the_lower_half(tiny_model, test_set):
    happy = [i for i in range(len(test_set)) if test_set.labels[i] == 1][:12]
    lower, upper = [], []
    for i in happy:
        smap = sensitivity_map(tiny_model, test_set.crops[i], patch=8, stride=4, target_class=1, batch_size=64)
        lower.append(smap.fused[SIZE // 2 :].mean())
        upper.append(smap.fused[: SIZE // 2].mean())
    assert np.mean(lower) > np.mean(upper) + 0.02, (np.mean(lower), np.mean(upper))


def test_sensitivity_patch_checks(tiny_model, test_set):
    with pytest.raises(InputError):
        sensitivity_map(tiny_model, test_set.crops[0], patch=0)
    with pytest.raises(InputError):
        sensitivity_map(tiny_model, test_set.crops[0], patch=8, fill="plaid")
    with pytest.raises(InputError):
        sensitivity_map(tiny_model, np.zeros((8, 8), np.uint8), patch=4)


def test_sweep_face_rows_and_figure(tiny_model, test_set):
    face_rows, fig = sweep_face(tiny_model, test_set.crops[3], occluders=["sunglasses"], severities=(0.5, 1.0))
    assert [r["occluder"] for r in face_rows[:3]] == ["clean", "sunglasses", "sunglasses"]
    assert len(face_rows) == 1 + 2 + 4 * 2  # clean, sunglasses x 2, four region blocks x 2
    assert not face_rows[0]["flipped"] and face_rows[0]["clean_class_prob_change"] == 0
    assert all(f"head_{h}" in face_rows[0] for h in ("top-left", "bottom-right"))
    assert fig.data[0].type == "heatmap" and list(fig.data[0].y) == ["sunglasses"] + [f"region:{r}" for r in
                                                                                      ("top-left", "top-right", "bottom-left", "bottom-right")]


def test_robustness_and_sensitivity_cli(tmp_path, capsys, astronaut):
    from PIL import Image

    from fer.cli import main

    out = tmp_path / "rep"
    argv = ["robustness", "--model", "mini_xception_fer2013", "--data", "synthfer", "--limit", "7",
            "--occluders", "sunglasses", "--severities", "1", "--no-progress", "--out", str(out)]
    assert main(argv) == 0
    doc = read_report_json(out / "robustness.json")
    assert doc["meta"]["num_samples"] == 7 and doc["meta"]["labels"] == "ground truth"
    assert {r["occluder"] for r in doc["rows"]} == {"clean", "sunglasses", "region:top-left", "region:top-right",
                                                    "region:bottom-left", "region:bottom-right"}
    assert (out / "robustness.csv").is_file() and (out / "robustness.html").is_file()
    printed = capsys.readouterr().out
    assert "clean accuracy" in printed
    loc = doc["locality"]["mini_xception_fer2013"]  # default --locality-limit 32: all 7 faces
    assert loc["n"] == 7 and np.asarray(loc["crosstalk"]).shape == (4, 4) and len(loc["locality"]) == 4
    assert "locality on 7 faces: index per head" in printed and "Locality of the heads" in (out / "robustness.html").read_text()
    header = next(i for i, line in enumerate(printed.splitlines()) if "severity" in line and "flip rate" in line)
    condition, severity, acc, drop, flips = printed.splitlines()[header + 1].split()  # the header sits over the rows
    assert condition in {"sunglasses", "region:top-left", "region:top-right", "region:bottom-left",
                         "region:bottom-right"} and float(severity) == 1 and 0 <= float(acc) <= 1

    assert main(argv[:-2] + ["--out", str(tmp_path / "off"), "--locality-limit", "0"]) == 0
    assert "locality" not in read_report_json(tmp_path / "off" / "robustness.json")
    assert "locality" not in capsys.readouterr().out
    for bad in (["--severities", "2"], ["--occluders", "nope"], ["--limit", "0"], ["--locality-limit", "-1"]):
        assert main(argv[:-2] + ["--out", str(tmp_path / "bad")] + bad) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and "Traceback" not in err
    assert not (tmp_path / "bad").exists()

    photo = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).save(photo)
    sens = tmp_path / "sens"
    assert main(["sensitivity", str(photo), "--model", "mini_xception_fer2013", "--patch", "16", "--stride", "16",
                 "--detector", "mtcnn", "--device", "auto", "--face", "1", "--out", str(sens)]) == 0
    grid = json.loads((sens / "sensitivity.json").read_text())
    assert np.asarray(grid["grid_heads"]).shape == (4, 4, 4) and np.asarray(grid["grid_fused"]).shape == (4, 4)
    assert grid["face"] == 1
    assert grid["panels"][2:] == ["head top-left", "head top-right", "head bottom-left", "head bottom-right"]
    figure = np.asarray(Image.open(sens / "sensitivity.png"))
    assert figure.shape[1] == 6 * 192 + 5 * 4 and figure.shape[0] > 192 + 60  # six titled panels over a colour bar
    assert main(["sensitivity", str(photo), "--model", "mini_xception_fer2013", "--face", "2",
                 "--out", str(tmp_path / "s2")]) == 2
    assert "--face 2: the image has 1 face(s)" in capsys.readouterr().err


def test_photos_folder_with_pseudo_labels(tmp_path, capsys, astronaut):
    from PIL import Image

    from fer.cli import main

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(astronaut).save(photos / "a.png")
    Image.fromarray(astronaut[:, ::-1].copy()).save(photos / "b.jpg")
    (photos / "broken.jpg").write_bytes(b"not an image")
    out = tmp_path / "rep"
    assert main(["robustness", "--model", "mini_xception_fer2013", "--model", "faceapi_expression", "--photos", str(photos),
                 "--pseudo-labels", "faceapi_expression", "--occluders", "surgical_mask", "--severities", "1",
                 "--no-region-blocks", "--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "skipped broken.jpg" in printed
    doc = read_report_json(out / "robustness.json")
    assert doc["meta"]["num_samples"] == 2 and doc["meta"]["labels"] == "pseudo-labels from faceapi_expression"
    clean = [r for r in doc["rows"] if r["occluder"] == "clean" and r["class"] == "all"]
    assert {r["model"]: r["acc"] for r in clean}["faceapi_expression"] == 1.0
    masked = next(r for r in doc["rows"] if r["occluder"] == "surgical_mask" and r["class"] == "all")
    assert masked["coverage_bottom-left"] > 0.3 and masked["coverage_top-left"] < 0.1  # detected landmarks place it
    # locality on the photos' faces, each model cutting its own crop
    assert [doc["locality"][m]["n"] for m in ("mini_xception_fer2013", "faceapi_expression")] == [2, 2]
    assert printed.count("locality on 2 faces") == 2


def test_dataset_loader_samples_use_the_template(tiny_model):
    from fer.data import open_dataset
    from fer.robustness.sources import dataset_samples

    ds = open_dataset("synthfer", "test", size=14, image_size=48)
    samples = dataset_samples(ds, crop_size=SIZE, limit=10)
    assert len(samples) == 10 and samples.landmarks is None and samples.size == SIZE
    result = sweep([tiny_model], samples, default_conditions(["sunglasses"], severities=(1.0,), blocks=False), progress=False)
    glasses = _acc(result, "sunglasses")
    assert glasses["n"] == 10 and glasses["coverage_top-left"] > glasses["coverage_bottom-left"]
