"""`fer explain IMAGE --out DIR`: overlay PNGs for every face, clear errors for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from fer.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_explain_command_writes_overlays_for_the_face(tmp_path, astronaut, capsys):
    photo = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).save(photo)
    out = tmp_path / "cams"
    assert main(["explain", str(photo), "--model", "faceapi_expression", "--out", str(out)]) == 0
    summary = json.loads((out / "explain.json").read_text())
    assert summary["model"] == "faceapi_expression" and len(summary["faces"]) == 1
    face = summary["faces"][0]
    assert face["face"] == 1 and face["explained_class"] == "happiness" and face["layer"] == "local"
    assert face["panels"][0] == "map for happiness (fused decision)"
    assert [t.split(":")[0] for t in face["panels"][1:]] == [f"head {r}" for r in face["head_votes"]]
    names = sorted(p.split("/")[-1] for p in face["files"])
    assert names == sorted(
        ["face1_fused.png", "face1_head0_top-left.png", "face1_head1_top-right.png", "face1_head2_bottom-left.png",
         "face1_head3_bottom-right.png", "face1_montage.png", "face1_photo_fused.png"]
    )  # fmt: skip
    photo_overlay = np.asarray(Image.open(out / "face1_photo_fused.png"))
    assert photo_overlay.shape == astronaut.shape
    x1, y1, x2, y2 = face["box"]
    changed = np.any(photo_overlay != astronaut, axis=2)
    ys, xs = np.nonzero(changed)
    assert xs.min() < x2 and xs.max() > x1 and ys.min() < y2 and ys.max() > y1  # the overlay sits on the face
    assert not changed[:, : int(x1) - 60].any()  # and not on the rest of the photo
    printed = capsys.readouterr().out
    assert "face 1: 7 PNGs" in printed and "map for happiness (fused decision)" in printed


def test_explain_command_on_an_aligned_crop_with_options(tmp_path, astronaut):
    crop = tmp_path / "crop.png"
    Image.fromarray(np.ascontiguousarray(astronaut[40:200, 160:300])).save(crop)
    out = tmp_path / "cams"
    argv = ["explain", str(crop), "--aligned", "--out", str(out), "--target", "sadness", "--head-target", "own",
            "--layer", "shared"]  # fmt: skip
    assert main(argv) == 0
    face = json.loads((out / "explain.json").read_text())["faces"][0]
    assert face["explained_class"] == "sadness" and face["layer"] == "shared" and face["box"] is None
    # --target sadness: the fused map explains sadness, not what the model predicts; each head its own vote
    assert face["panels"][0].startswith("map for sadness (fused decision")
    for title, (region, vote) in zip(face["panels"][1:], face["head_votes"].items()):
        assert title == f"head {region}: map for {vote} (its vote)"
    assert not (out / "face1_photo_fused.png").exists()
    assert np.asarray(Image.open(out / "face1_fused.png")).shape == (160, 140, 3)


def test_explain_command_bad_input_exits_2(tmp_path, capsys):
    assert main(["explain", str(tmp_path / "missing.jpg"), "--out", str(tmp_path / "o")]) == 2
    bogus = tmp_path / "not-an-image.jpg"
    bogus.write_text("hello")
    assert main(["explain", str(bogus), "--out", str(tmp_path / "o")]) == 2
    crop = tmp_path / "crop.png"
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(crop)
    assert main(["explain", str(crop), "--aligned", "--target", "boredom", "--out", str(tmp_path / "o")]) == 2
    assert "unknown class" in capsys.readouterr().err
