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
    assert "2 process(es), process group gloo, world 2" in p.stdout
    hist = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(hist) == 1  # written once, by rank 0
    assert read_checkpoint_config(out / "model.safetensors").trained
    result = json.loads(p.stdout[p.stdout.index("{"):])
    assert result["best_epoch"] == 1


def test_torchrun_environment_starts_a_group_even_for_one_process(monkeypatch):
    from fer.training.distributed import ranks_from_env

    for k in ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    plain = ranks_from_env()
    assert not plain.distributed and plain.is_main  # python -m fer train: no process group
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert not ranks_from_env().distributed  # WORLD_SIZE alone is no launcher
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "29500")
    one = ranks_from_env()
    assert one.world == 1 and one.launched and one.distributed  # torchrun --nproc_per_node 1
