"""scripts/gpu_check.py: its argument handling and the dry run's cheapest steps (the full `--cpu` run is in
docs/training.md, "GPU check"; the GPU run itself needs a CUDA machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "gpu_check.py"


def _run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "OUT"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**env, "OMP_NUM_THREADS": "1"})


def test_unknown_steps_and_a_file_as_out_are_refused_plainly(tmp_path):
    p = _run("--only", "train", "warp-drive")
    assert p.returncode == 2
    assert "unknown step(s) warp-drive" in p.stderr and "torchrun" in p.stderr  # names the real steps
    f = tmp_path / "file"
    f.write_text("x")
    p = _run("--out", str(f))
    assert p.returncode == 2 and "is not a folder" in p.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: the check would run")
def test_without_a_gpu_the_check_fails_at_once_and_says_to_use_the_dry_run(tmp_path):
    p = _run("--only", "env", "train", "--out", str(tmp_path))
    assert p.returncode == 1
    assert "FAIL env" in p.stdout and "--cpu" in p.stdout
    summary = json.loads((tmp_path / "gpu_check.json").read_text())
    assert [s["step"] for s in summary["steps"]] == ["env"]  # train was not started
    assert summary["passed"] is False


def test_dry_run_predictor_step_compares_and_writes_the_summary(tmp_path):
    p = _run("--cpu", "--only", "env", "predictor", "--out", str(tmp_path))
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    summary = json.loads((tmp_path / "gpu_check.json").read_text())
    steps = {s["step"]: s for s in summary["steps"]}
    assert set(steps) == {"env", "predictor"} and all(s["pass"] for s in steps.values())
    pred = steps["predictor"]
    assert pred["faceapi_expression_faces"] >= 1  # the astronaut's face was found and compared
    assert pred["faceapi_expression_max_prob_diff"] <= pred["tolerance"]
    assert "PASS predictor" in p.stdout and "ALL PASS" in p.stdout
