"""fer.robustness.locality: cross-talk matrix, locality index, CAM share, and `fer locality`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from fer.cli import main
from fer.models import create_model
from fer.models.base import FERModel, ModelConfig, ModelOutput, Preprocess
from fer.robustness.locality import crosstalk

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class LocalToy(FERModel):
    """Each head pools a 1x1-conv map over exactly its own input quadrant: local by construction."""

    def __init__(self) -> None:
        super().__init__(ModelConfig(name="local_toy", preprocess=Preprocess(input_size=32)), 4)
        self.conv = torch.nn.Conv2d(3, 8, 1)
        self.fc = torch.nn.ModuleList(torch.nn.Linear(8, 7) for _ in range(4))

    def forward(self, x):
        f = self.shared_tap(torch.tanh(self.conv(x)))
        parts = [f[..., :16, :16], f[..., :16, 16:], f[..., 16:, :16], f[..., 16:, 16:]]
        return ModelOutput(torch.stack([self.fc[k](self.region_taps[k](p).mean((2, 3))) for k, p in enumerate(parts)], 1))


def _faces(n, size, seed=0):
    return (np.random.default_rng(seed).random((n, size, size, 3)) * 255).astype(np.uint8)


def test_a_perfectly_local_model_has_zero_cross_talk():
    torch.manual_seed(0)
    res = crosstalk(LocalToy(), _faces(6, 32), batch_size=4, cam_limit=2)
    off = res.crosstalk[~np.eye(4, dtype=bool)]
    assert (off == 0).all() and (np.diag(res.crosstalk) > 0).all()
    assert res.locality == [1.0] * 4
    # Grad-CAM++ weighs whole channels of the shared map: even a local head's mass spreads outside its region
    assert all(0 < v < 1 for v in res.cam_share)
    doc = json.loads(json.dumps(res.to_dict()))
    assert len(doc["crosstalk"]) == 4 and all(len(r) == 4 for r in doc["crosstalk"]) and len(doc["locality"]) == 4


def test_the_papers_split_on_the_stage3_map_is_not_local():
    torch.manual_seed(0)
    res = crosstalk(create_model("alfj_resnet18", input_size=112), _faces(3, 112), cam_limit=1)
    assert res.crosstalk[~np.eye(4, dtype=bool)].max() > 0
    assert all(v is None or 0 <= v <= 1 for v in res.locality) and res.applies


def test_one_head_model_reports_one_column_and_no_locality():
    res = crosstalk(create_model("base_resnet18", input_size=64), _faces(2, 64), cam_limit=1)
    assert res.crosstalk.shape == (4, 1) and not res.applies
    doc = res.to_dict()
    assert doc["locality"] == [None] and doc["columns"] == ["whole-face"]


def test_cli_writes_json_and_a_table(tmp_path, capsys):
    out = tmp_path / "loc.json"
    assert main(["locality", "--model", "mini_xception_fer2013", "--data", "synthfer", "--limit", "4",
                 "--cam-limit", "1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "hidden region" in text and "locality" in text
    doc = json.loads(out.read_text())
    assert f"off-diagonal / diagonal: {doc['offdiag_over_diag']:.4f}" in text
    assert set(doc) >= {"crosstalk", "locality", "cam_share", "n", "fill"} and doc["n"] == 4


@pytest.mark.parametrize("data,needle", [("nosuchset", "nosuchset"), ("rafdb:/nonexistent/x", "nonexistent"), (":x", "name")])
def test_cli_bad_data_sources_exit_2_with_a_message(data, needle, capsys):
    assert main(["locality", "--model", "mini_xception_fer2013", "--data", data, "--limit", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and needle in err
