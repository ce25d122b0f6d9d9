"""Training on SynthFER (synthetic): the loss goes down, the checkpoint is read by the evaluator,
an interrupted run resumes to exactly the same weights, and checkpoint writes are atomic."""

from __future__ import annotations

import json

import pytest
import torch

from fer.cli import main as cli_main
from fer.errors import CheckpointError, FERError
from fer.models.checkpoint import load_checkpoint, read_checkpoint_config
from fer.training import TrainingInterrupted, atomic_torch_save, load_config, load_training_state, train

# tiny: ResNet-18 ALFJ-Net with one shared stage 4 at 32 px, a few batches per epoch
TINY = [
    "data.options={train_size: 56, val_size: 14, test_size: 14, image_size: 32, seed: 5}",
    "model.input_size=32",
    "model.arch={local_stage: shared}",
    "train.batch_size=14",
    "train.threads=1",
    "train.optimizer={name: adamw, lr: 0.002, weight_decay: 0.0001}",
    "train.scheduler={name: constant}",
    "train.eval_batch_size=14",
]


@pytest.fixture(autouse=True)
def _restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def _cfg(*extra):
    return load_config("synthfer_cpu", TINY + list(extra))


def _weights(path):
    return load_training_state(path)["model"]


def test_short_run_lowers_the_loss_and_the_evaluator_reads_the_checkpoint(tmp_path, capsys):
    # no augmentation: the training loss must fall as the net fits the 56 images
    cfg = _cfg("train.epochs=4", "train.optimizer={name: adamw, lr: 0.001, weight_decay: 0.0001}",
               "augment={crop_scale: [1.0, 1.0], rotation: 0, hflip: false, brightness: 0, "
               "contrast: 0, saturation: 0, erase_p: 0}")
    res = train(cfg, out_dir=tmp_path / "run", progress=False, log=lambda s: None)
    hist = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    assert hist[-1]["train_loss"] < 0.8 * hist[0]["train_loss"]
    assert set(hist[0]["val_head_accuracy"]) == {"top-left", "top-right", "bottom-left", "bottom-right"}

    ckpt = tmp_path / "run" / "model.safetensors"
    config = read_checkpoint_config(ckpt)
    assert config.trained and "SynthFER (synthetic)" in config.provenance
    assert config.preprocess.input_size == 32
    assert res["best_val_accuracy"] == max(h["val_accuracy"] for h in hist)

    out = tmp_path / "eval"
    assert cli_main(["evaluate", "--checkpoint", str(ckpt), "--data", "synthfer", "--option", "test_size=14",
                     "--option", "image_size=32", "--option", "seed=5", "--out", str(out), "--device", "cpu"]) == 0
    summary = json.loads(capsys.readouterr().out)
    rep = summary["reports"]["test"]
    assert rep["n"] == 14 and 0.0 <= rep["accuracy"] <= 1.0
    assert set(rep["per_head_accuracy"]) == {"top-left", "top-right", "bottom-left", "bottom-right"}
    assert {p.name for p in out.iterdir()} == {"synthfer_test.json", "synthfer_test_confusion.html", "synthfer_test_confusion.png"}


def test_resume_after_interruption_gives_identical_weights(tmp_path):
    # 4 steps per epoch, dropout and augmentation on; SGD keeps the checkpoints small
    cfg = _cfg("train.epochs=2", "train.save_every_steps=2", "train.optimizer={name: sgd, lr: 0.01, momentum: 0.9}")
    train(cfg, out_dir=tmp_path / "full", progress=False, log=lambda s: None)
    # killed in epoch 2 after its 3rd step: the last checkpoint is mid-epoch (epoch 1, step 2)
    with pytest.raises(TrainingInterrupted):
        train(cfg, out_dir=tmp_path / "cut", progress=False, stop_after_steps=7, log=lambda s: None)
    st = load_training_state(tmp_path / "cut" / "last.pt")
    assert (st["epoch"], st["step_in_epoch"]) == (1, 2)
    train(cfg, out_dir=tmp_path / "cut", resume=True, progress=False, log=lambda s: None)
    a, b = _weights(tmp_path / "full" / "last.pt"), _weights(tmp_path / "cut" / "last.pt")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # the log holds each epoch once
    logs = [[json.loads(x) for x in (tmp_path / run / "metrics.jsonl").read_text().splitlines()] for run in ("full", "cut")]
    assert [h["epoch"] for h in logs[1]] == [1, 2]
    assert [h["train_loss"] for h in logs[0]] == [h["train_loss"] for h in logs[1]]
    m1, m2 = load_checkpoint(tmp_path / "full" / "model.safetensors"), load_checkpoint(tmp_path / "cut" / "model.safetensors")
    for (k, v), (_, w) in zip(m1.state_dict().items(), m2.state_dict().items()):
        assert torch.equal(v, w), k


def test_resume_refuses_another_config_and_a_corrupt_checkpoint(tmp_path):
    cfg = _cfg("train.epochs=1", "train.max_steps_per_epoch=1", "train.optimizer={name: sgd, lr: 0.01}")
    train(cfg, out_dir=tmp_path / "r", progress=False, log=lambda s: None)
    other = _cfg("train.epochs=2", "train.max_steps_per_epoch=1", "train.optimizer={name: sgd, lr: 0.5}")
    with pytest.raises(CheckpointError, match="train.optimizer.lr"):
        train(other, out_dir=tmp_path / "r", resume=True, progress=False, log=lambda s: None)
    last = tmp_path / "r" / "last.pt"
    last.write_bytes(last.read_bytes()[:1000])  # truncated
    with pytest.raises(CheckpointError, match="truncated or unsafe"):
        train(cfg, out_dir=tmp_path / "r", resume=True, progress=False, log=lambda s: None)


def test_a_failed_checkpoint_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    atomic_torch_save({"epoch": 1, "w": torch.ones(3)}, path)

    def dying_save(obj, f):  # writes half a file, then the process "dies"
        f.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        atomic_torch_save({"epoch": 2}, path)
    monkeypatch.undo()
    assert load_training_state(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_config_errors_are_plain():
    with pytest.raises(FERError, match="unknown config key"):
        load_config("synthfer_cpu", ["train.bogus=1"])
    with pytest.raises(FERError, match="config not found"):
        load_config("no_such_config")
    with pytest.raises(FERError, match="unknown config key"):
        load_config(None, ["nonsense=1"])


def test_training_on_a_ferplus_tree_with_soft_labels(tmp_path):
    import cv2
    import numpy as np

    root = tmp_path / "ferplus"
    rng = np.random.default_rng(0)
    for folder, n in (("FER2013Train", 8), ("FER2013Valid", 4), ("FER2013Test", 4)):
        d = root / folder
        d.mkdir(parents=True)
        rows = []
        for i in range(n):
            votes = [0] * 10
            votes[i % 8], votes[(i + 1) % 8] = 6, 4  # two classes: a real distribution
            rows.append(f'{folder}_{i}.png,"(0, 0, 48, 48)",' + ",".join(map(str, votes)))
            cv2.imwrite(str(d / f"{folder}_{i}.png"), rng.integers(0, 255, (48, 48), dtype=np.uint8))
        (d / "label.csv").write_text("\n".join(rows) + "\n")
    cfg = load_config("ferplus_paper", [
        f"data.root={root}", "data.protocol=soft", "model.name=base_resnet18", "model.input_size=32",
        "train.epochs=1", "train.batch_size=4", "train.workers=0", "train.threads=1", "train.channels_last=false",
    ])
    res = train(cfg, out_dir=tmp_path / "run", progress=False, device="cpu", log=lambda s: None)
    config = read_checkpoint_config(res["model"])
    assert config.num_classes == 8 and config.class_names[-1] == "contempt"
    assert "FERPlus (folders, soft, 8 classes)" in config.provenance


def test_resume_never_unpickles_objects(tmp_path):
    import pickle

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    bad = tmp_path / "last.pt"
    bad.write_bytes(pickle.dumps({"model": Evil()}, protocol=2))
    with pytest.raises(CheckpointError, match="truncated or unsafe"):
        train(_cfg("train.epochs=1"), out_dir=tmp_path, resume=str(bad), progress=False, log=lambda s: None)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="not found"):
        train(_cfg("train.epochs=1"), out_dir=tmp_path, resume=str(tmp_path / "nope.pt"), progress=False, log=lambda s: None)
    atomic_torch_save({"weights": torch.ones(2)}, tmp_path / "plain.pt")  # a safe file, but not a training state
    with pytest.raises(CheckpointError, match="not an alfj-fer training checkpoint"):
        train(_cfg("train.epochs=1"), out_dir=tmp_path, resume=str(tmp_path / "plain.pt"), progress=False, log=lambda s: None)


def test_config_is_typed_and_checked_before_any_data_is_read():
    from fer.training import TrainConfig

    cfg = load_config("synthfer_cpu", ["train.epochs=3", "train.optimizer.lr=1e-3", "augment.erase_p=0.5"])
    assert isinstance(cfg, TrainConfig) and cfg.train.epochs == 3
    assert cfg.train.optimizer.lr == 0.001  # YAML reads 1e-3 as a string; the config reads it as a number
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    # a section given whole replaces the section; what it omits takes the defaults
    sgd = load_config("synthfer_cpu", ["train.optimizer={name: sgd, lr: 0.01}"]).train.optimizer
    assert (sgd.name, sgd.lr, sgd.weight_decay) == ("sgd", 0.01, TrainConfig().train.optimizer.weight_decay)
    for bad, message in [("train.optimizer.lr=-1", "train.optimizer.lr"), ("train.epochs=many", "train.epochs"),
                         ("train.amp=maybe", "train.amp"), ("train.scheduler.name=sometimes", "scheduler.name"),
                         ("train.optimizer=sgd", "must be a mapping"), ("augment.blur=3", "augmentation options"),
                         ("train.loss.label_smoothing=1.5", "label_smoothing")]:
        with pytest.raises(FERError, match=message):
            load_config("synthfer_cpu", [bad])


def test_the_old_module_still_serves_plain_dicts(tmp_path):
    import fer.train as old

    cfg = old.load_config("synthfer_cpu", ["train.epochs=2"])
    assert isinstance(cfg, dict) and cfg["train"]["epochs"] == 2 and cfg["data"]["options"]["train_size"] == 2800
    assert old.train is train
