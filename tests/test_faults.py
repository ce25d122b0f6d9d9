"""Fault drills: training killed with SIGKILL (mid-epoch, and in the middle of writing a
checkpoint) and resumed through the CLI ends with exactly the weights of a run never killed;
a kill while a checkpoint is written never leaves a corrupt file where the last good one was.

The kills come from a small hook run in the child process before `fer.cli.main`: a global
optimizer step hook (kill after step N) or a `torch.save` / safetensors `save_file` replacement
that writes half of the bytes, fsyncs them, and kills the process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from fer.cli import main

REPO = Path(__file__).resolve().parents[1]

# mini-Xception fine-tuned on 64 SynthFER images: 8 steps per epoch, 2 epochs, last.pt every 3 steps
TRAIN_ARGS = [
    "train", "--config", "synthfer_cpu", "--no-progress", "--threads", "1", "--epochs", "2",
    "--set", "model.name=mini_xception_fer2013", "--set", "model.input_size=null",
    "--set", "data.options.train_size=64", "--set", "data.options.val_size=16", "--set", "data.options.test_size=16",
    "--set", "data.options.image_size=64", "--set", "train.batch_size=8", "--set", "train.save_every_steps=3",
]

HOOK = r"""
import io, os, signal, sys
mode, at = os.environ["FAULT_MODE"], int(os.environ["FAULT_AT"])
count = [0]

def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)

def half_then_die(data, f):
    f.write(data[: len(data) // 2]); f.flush(); os.fsync(f.fileno()); die()

if mode == "step":
    from torch.optim.optimizer import register_optimizer_step_post_hook
    def post(opt, args, kwargs):
        count[0] += 1
        if count[0] == at:
            die()
    register_optimizer_step_post_hook(post)
elif mode == "torch_save":
    import torch
    real_save = torch.save
    def save(obj, f, *a, **k):
        count[0] += 1
        if count[0] < at:
            return real_save(obj, f, *a, **k)
        buf = io.BytesIO(); real_save(obj, buf, *a, **k); half_then_die(buf.getvalue(), f)
    torch.save = save
elif mode == "save_checkpoint":
    import fer.models.checkpoint as ck
    from safetensors.torch import save as st_save
    real = ck.save_file
    def save_file(tensors, filename, metadata=None):
        count[0] += 1
        if count[0] < at:
            return real(tensors, filename, metadata=metadata)
        with open(filename, "wb") as f:
            half_then_die(st_save(tensors, metadata=metadata), f)
    ck.save_file = save_file
    from fer.models import create_model
    model = create_model("mini_xception_fer2013")
    ck.save_checkpoint(model, sys.argv[1])           # the last good checkpoint
    with __import__("torch").no_grad():
        for p in model.parameters():
            p.add_(1.0)
    ck.save_checkpoint(model, sys.argv[1])           # killed half-way through this one
    sys.exit(0)
from fer.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _killed_run(mode: str, at: int, argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, FAULT_MODE=mode, FAULT_AT=str(at), OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", HOOK, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return torch.load(folder / "last.pt", map_location="cpu", weights_only=True)["model"]


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"


@pytest.fixture(scope="module")
def threads_restored():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, threads_restored) -> Path:
    out = tmp_path_factory.mktemp("faults") / "never_killed"
    assert main(TRAIN_ARGS + ["--out", str(out)]) == 0
    return out


def test_killed_mid_epoch_then_resumed_equals_never_killed(reference_run, tmp_path):
    out = tmp_path / "killed"
    _killed_run("step", 12, TRAIN_ARGS + ["--out", str(out)], tmp_path)  # epoch 2, step 4 of 8
    state = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    assert (state["epoch"], state["step_in_epoch"]) == (1, 3)  # the last save before the kill
    assert main(TRAIN_ARGS + ["--out", str(out), "--resume"]) == 0
    _assert_same(_weights(out), _weights(reference_run))
    _assert_same(load_file(str(out / "model.safetensors")), load_file(str(reference_run / "model.safetensors")))


def test_kill_while_writing_last_pt_keeps_the_previous_one(reference_run, tmp_path):
    out = tmp_path / "killed_in_save"
    _killed_run("torch_save", 2, TRAIN_ARGS + ["--out", str(out)], tmp_path)  # 2nd save: epoch 1, step 6
    partial = list(out.glob(".last.pt.*.tmp"))
    assert partial, "the kill should have hit the temporary file"
    state = torch.load(out / "last.pt", map_location="cpu", weights_only=True)  # intact, not the half file
    assert (state["epoch"], state["step_in_epoch"]) == (0, 3)
    assert main(TRAIN_ARGS + ["--out", str(out), "--resume"]) == 0
    _assert_same(_weights(out), _weights(reference_run))


def test_kill_while_writing_model_checkpoint_keeps_the_previous_one(tmp_path):
    from fer.models.checkpoint import load_checkpoint

    path = tmp_path / "model.safetensors"
    _killed_run("save_checkpoint", 2, [str(path)], tmp_path)
    model = load_checkpoint(path)  # the first, complete checkpoint
    fresh = __import__("fer.models", fromlist=["create_model"]).create_model("mini_xception_fer2013")
    _assert_same(model.state_dict(), fresh.state_dict())
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")], "the kill should have hit the temporary file"
