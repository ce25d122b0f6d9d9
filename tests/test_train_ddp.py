"""DDP smoke test: `torchrun --nproc_per_node 2 -m fer train` on the gloo backend (CPU), SynthFER (synthetic)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fer.models.checkpoint import read_checkpoint_config

REPO = Path(__file__).resolve().parents[1]


def test_torchrun_two_processes_gloo(tmp_path):
    out = tmp_path / "ddp"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "fer", "train", "--config", "synthfer_cpu", "--out", str(out), "--no-progress", "--device", "cpu",
        "--set", "data.options={train_size: 56, val_size: 14, image_size: 32, seed: 1}",
        "--set", "model.input_size=32", "--set", "model.arch={local_stage: shared}",
        "--set", "train.batch_size=14", "--set", "train.epochs=1", "--set", "train.threads=1",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "2 process(es)" in p.stdout
    hist = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(hist) == 1  # written once, by rank 0
    assert read_checkpoint_config(out / "model.safetensors").trained
    result = json.loads(p.stdout[p.stdout.index("{"):])
    assert result["best_epoch"] == 1
