"""GPU check: the code paths no GPU has run here (AMP, channels-last, NCCL, CUDA inference), in one script.

    python scripts/gpu_check.py                 # on a CUDA machine: every step, aim < 5 minutes
    python scripts/gpu_check.py --cpu           # the dry run: the same steps on the CPU (gloo, no AMP), small
    python scripts/gpu_check.py --only train resume --keep --work /tmp/gc

Steps (each prints PASS or FAIL with its figures): env, train (SynthFER, AMP + channels-last, the loss
must fall), resume (the run is killed with SIGKILL after a mid-epoch save, then `--resume` must continue
from the saved epoch and step and finish), torchrun (`--nproc_per_node 1`: a process group must start,
NCCL on the GPU), evaluate (`fer evaluate` on the device equals the CPU's), predictor (`fer.Predictor` on
the device equals the CPU's), explain (`fer explain` on the device equals the CPU's), speed
(`benchmarks/model_speed.py` on the device). A summary goes to --out (default: $OUT when set) as
gpu_check.json. Exit code: 0 when every step passes, 1 when one fails, 2 for bad arguments.
`scripts/gpu_check.sh` wraps this for the device machine (wheels it lacks, the log under $OUT).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STEPS = ("env", "train", "resume", "torchrun", "evaluate", "predictor", "explain", "speed")
NEEDED = ("torch", "torchvision", "numpy", "cv2", "PIL", "skimage", "yaml", "safetensors", "tqdm", "plotly",
          "pytorch_grad_cam", "ttach")
SHIPPED = REPO / "fer" / "weights" / "alfj_resnet18_half_synthfer.safetensors"  # trained on SynthFER, 64 px
LOSS_RATIO = 0.9  # the last epoch's mean train loss must be below this fraction of the first's
PROB_TOL = 5e-3  # largest |device - CPU| difference of a probability (cuDNN convolutions use TF32 by default)
ACC_TOL = 0.01  # evaluate: accuracies may differ by this much (a near-tie image flipping)
CAM_TOL = 0.03  # explain: mean |device - CPU| of the Grad-CAM++ maps (values in [0, 1])
PNG_TOL = 4.0  # explain: mean |device - CPU| of the overlay PNGs, in 0..255 levels
BUDGET_S = 300.0  # the whole GPU check should take under 5 minutes


@dataclass
class Scale:
    """How big each step is: the GPU check's sizes, or the dry run's (small enough for a 2-core machine)."""

    image: int
    batch: int
    steps: int  # optimizer steps per epoch of the train step (3 epochs)
    workers: int
    threads: int
    val: int
    test: int
    timeout: int  # seconds for each subprocess

    @classmethod
    def for_device(cls, cpu: bool) -> Scale:
        if cpu:
            return cls(image=32, batch=14, steps=4, workers=0, threads=1, val=28, test=28, timeout=900)
        return cls(image=112, batch=64, steps=100, workers=8, threads=4, val=512, test=512, timeout=240)


@dataclass
class Check:
    """Where the check runs and what it has found so far."""

    device: str  # "cuda" or "cpu"
    scale: Scale
    work: Path
    results: list[dict] = field(default_factory=list)

    @property
    def cpu(self) -> bool:
        return self.device == "cpu"

    def record(self, step: str, ok: bool, seconds: float, **figures) -> bool:
        self.results.append({"step": step, "pass": bool(ok), "seconds": round(seconds, 2), **figures})
        shown = ", ".join(f"{k} {_fmt(v)}" for k, v in figures.items())
        print(f"{'PASS' if ok else 'FAIL'} {step:9s} {seconds:6.1f}s  {shown}", flush=True)
        return ok

    def env(self) -> dict:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        if self.cpu:
            env.update(OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
        return env

    def run(self, args: list[str], log: Path, timeout: int | None = None) -> subprocess.CompletedProcess:
        """A command from the repo root; stdout and stderr kept in `log` (its tail printed on failure)."""
        p = subprocess.run(args, cwd=REPO, env=self.env(), capture_output=True, text=True,
                           timeout=timeout or self.scale.timeout)
        log.write_text(f"$ {' '.join(args)}\n{p.stdout}\n--- stderr ---\n{p.stderr}")
        if p.returncode != 0:
            print(f"  command failed (exit {p.returncode}): {' '.join(args[:6])} ...\n"
                  + _indent((p.stdout + p.stderr)[-2000:]), flush=True)
        return p


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


# ----------------------------------------------------------------------------- training


def train_args(c: Check, out: Path, epochs: int, steps: int, *extra: str) -> list[str]:
    """`fer train` on SynthFER (synthetic) at the check's scale; AMP on CUDA only, channels-last always."""
    s = c.scale
    size = s.batch * steps  # one epoch = the same images again: the loss must fall as the net fits them
    sets = [
        f"data.options={{train_size: {size}, val_size: {s.val}, test_size: {s.test}, image_size: {s.image}, seed: 3}}",
        f"model.input_size={s.image}", f"train.epochs={epochs}", f"train.batch_size={s.batch}",
        f"train.max_steps_per_epoch={steps}", f"train.workers={s.workers}", f"train.threads={s.threads}",
        f"train.eval_batch_size={max(s.batch, 64)}", f"train.amp={'false' if c.cpu else 'true'}",
        "train.channels_last=true", "train.optimizer={name: adamw, lr: 0.001, weight_decay: 0.0001}",
        "train.scheduler={name: constant}",
        "augment={crop_scale: [1.0, 1.0], rotation: 0, hflip: false, brightness: 0, contrast: 0, saturation: 0, "
        "erase_p: 0}",
    ]
    args = ["-m", "fer", "train", "--config", "synthfer_cpu", "--out", str(out), "--no-progress"]
    for item in sets + list(extra):
        args += ["--set", item]
    return args


def _metrics(out: Path) -> list[dict]:
    path = out / "metrics.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def _nccl_version() -> str:
    import torch

    try:
        v = torch.cuda.nccl.version()
    except Exception as exc:  # noqa: BLE001 - only reported: the torchrun step is the real test of NCCL
        return f"unknown ({type(exc).__name__})"
    return ".".join(map(str, v)) if isinstance(v, tuple) else str(v)


def step_env(c: Check) -> bool:
    import importlib.util

    import torch

    t0 = time.perf_counter()
    missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
    figures = {"torch": torch.__version__, "python": sys.version.split()[0], "missing": ",".join(missing) or "none"}
    ok = not missing
    if c.cpu:
        figures["device"] = "cpu (dry run)"
    elif torch.cuda.is_available():
        figures.update(device=torch.cuda.get_device_name(0), cuda=torch.version.cuda,
                       nccl=_nccl_version())
    else:
        ok = False
        figures["device"] = "no CUDA device: run with --cpu for the dry run"
    if missing:
        print("  missing packages: carry wheels (bash scripts/gpu_check.sh --fetch-wheels, then carry .whl)")
    return c.record("env", ok, time.perf_counter() - t0, **figures)


def step_train(c: Check) -> bool:
    t0 = time.perf_counter()
    out = c.work / "train"
    p = c.run([sys.executable, *train_args(c, out, 3, c.scale.steps), "--device", c.device], c.work / "train.log")
    hist = _metrics(out)
    losses = [round(h["train_loss"], 4) for h in hist]
    amp_seen = f"amp {not c.cpu}" in p.stdout and "channels-last True" in p.stdout
    ok = (p.returncode == 0 and len(losses) == 3 and losses[-1] < LOSS_RATIO * losses[0] and amp_seen
          and (out / "model.safetensors").exists())
    return c.record("train", ok, time.perf_counter() - t0, steps=3 * c.scale.steps, batch=c.scale.batch,
                    image=c.scale.image, amp=not c.cpu, channels_last=True, epoch_losses=losses,
                    loss_ratio=(losses[-1] / losses[0]) if len(losses) > 1 else float("nan"),
                    val_accuracy=hist[-1]["val_accuracy"] if hist else float("nan"),
                    images_per_s=3 * c.scale.steps * c.scale.batch / max(1e-9, time.perf_counter() - t0))


def step_resume(c: Check) -> bool:
    """Kill a run (SIGKILL) once it has saved mid-epoch, then `--resume`: it must go on from that step."""
    import torch

    t0 = time.perf_counter()
    out = c.work / "resume"
    steps, every = 2 * c.scale.steps, max(2, c.scale.steps // 2)
    args = [sys.executable, *train_args(c, out, 2, steps, f"train.save_every_steps={every}"), "--device", c.device]
    log = open(c.work / "resume_killed.log", "w")
    proc = subprocess.Popen(args, cwd=REPO, env=c.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + c.scale.timeout
    while not (out / "last.pt").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    finished_first = proc.poll() is not None
    if not finished_first:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    log.close()
    if finished_first or not (out / "last.pt").exists():
        return c.record("resume", False, time.perf_counter() - t0,
                        problem=f"the run ended (exit {proc.returncode}) before it could be killed after a save")
    state = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    saved = (int(state["epoch"]), int(state["step_in_epoch"]))
    p = c.run([*args, "--resume"], c.work / "resume.log")
    m = re.search(r"resumed from .*: epoch (\d+), step (\d+)", p.stdout)
    resumed_at = (int(m.group(1)), int(m.group(2))) if m else None
    final = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    epochs = [h["epoch"] for h in _metrics(out)]
    ok = (p.returncode == 0 and resumed_at == saved and (int(final["epoch"]), int(final["step_in_epoch"])) == (2, 0)
          and epochs == [1, 2])
    return c.record("resume", ok, time.perf_counter() - t0, killed_with="SIGKILL", saved_epoch_step=list(saved),
                    resumed_at=list(resumed_at) if resumed_at else "not in the log", metrics_epochs=epochs,
                    steps_per_epoch=steps, save_every=every)


def step_torchrun(c: Check) -> bool:
    t0 = time.perf_counter()
    out = c.work / "torchrun"
    args = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1",
            *train_args(c, out, 1, max(2, c.scale.steps // 2))]
    if c.cpu:
        args += ["--device", "cpu"]  # on the GPU: auto, i.e. cuda:LOCAL_RANK
    p = c.run(args, c.work / "torchrun.log")
    backend = "gloo" if c.cpu else "nccl"
    group = re.search(r"process group (\w+), world (\d+)", p.stdout)
    ok = p.returncode == 0 and group is not None and group.groups() == (backend, "1") and len(_metrics(out)) == 1
    return c.record("torchrun", ok, time.perf_counter() - t0, expected=f"process group {backend}, world 1",
                    seen=group.group(0) if group else "no process group in the log")


# ----------------------------------------------------------------------------- inference on the device vs the CPU


def _checkpoint(c: Check) -> Path:
    trained = c.work / "train" / "model.safetensors"
    return trained if trained.exists() else SHIPPED


def step_evaluate(c: Check) -> bool:
    from fer.models.checkpoint import read_checkpoint_config

    t0 = time.perf_counter()
    ckpt = _checkpoint(c)
    size = read_checkpoint_config(ckpt).preprocess.input_size
    reports = {}
    for dev in (c.device, "cpu") if not c.cpu else ("cpu", "cpu"):
        tag = f"{dev}{len(reports)}"
        out = c.work / f"eval_{tag}"
        p = c.run([sys.executable, "-m", "fer", "evaluate", "--checkpoint", str(ckpt), "--data", "synthfer",
                   "--option", f"test_size={c.scale.test}", "--option", f"image_size={size}", "--option", "seed=7",
                   "--device", dev, "--out", str(out)], c.work / f"evaluate_{tag}.log")
        if p.returncode != 0:
            return c.record("evaluate", False, time.perf_counter() - t0, problem=f"fer evaluate on {dev} failed")
        reports[tag] = json.loads(p.stdout[p.stdout.index("{"):])["reports"]["test"]
    a, b = reports.values()
    diffs = [abs(a["accuracy"] - b["accuracy"]), abs(a["mean_class_accuracy"] - b["mean_class_accuracy"])]
    diffs += [abs(a["per_head_accuracy"][k] - b["per_head_accuracy"][k]) for k in a["per_head_accuracy"]]
    return c.record("evaluate", max(diffs) <= ACC_TOL, time.perf_counter() - t0, checkpoint=ckpt.name, n=a["n"],
                    accuracy_device=a["accuracy"], accuracy_cpu=b["accuracy"], max_accuracy_diff=max(diffs),
                    tolerance=ACC_TOL)


def _photo() -> Path:
    from PIL import Image
    from skimage import data

    path = Path(tempfile.gettempdir()) / "fer-gpu-check-astronaut.png"
    if not path.exists():
        Image.fromarray(data.astronaut()).save(path)
    return path


def _labels_agree(label_a: str, label_b: str, probs_cpu: dict) -> bool:
    """Same label, or a near tie on the CPU (top two within 2 x PROB_TOL) that rounding may flip."""
    top = sorted(probs_cpu.values(), reverse=True)
    return label_a == label_b or (len(top) > 1 and top[0] - top[1] <= 2 * PROB_TOL)


def step_predictor(c: Check) -> bool:
    import numpy as np

    from fer.io import load_image
    from fer.predictor import DEFAULT_MODEL, Predictor

    t0 = time.perf_counter()
    photo = load_image(_photo())
    figures, ok = {}, True
    for source in (str(_checkpoint(c)), DEFAULT_MODEL):
        on_dev = Predictor(source, detector="mtcnn", device=c.device)
        on_cpu = Predictor(source, detector="mtcnn", device="cpu")
        faces = on_cpu.detect(photo)
        a, b = on_dev.predict_faces(photo, faces), on_cpu.predict_faces(photo, faces)
        diff = 0.0
        for x, y in zip(a, b):
            px, py = np.array(list(x.probs.values())), np.array(list(y.probs.values()))
            hx, hy = np.array([list(h.values()) for h in x.head_probs]), np.array([list(h.values()) for h in y.head_probs])
            diff = max(diff, float(np.abs(px - py).max()), float(np.abs(hx - hy).max()))
            ok &= _labels_agree(x.label, y.label, y.probs)
        ok &= bool(faces) and len(a) == len(b) and diff <= PROB_TOL
        name = Path(source).stem
        figures[f"{name}_faces"] = len(faces)
        figures[f"{name}_label"] = a[0].label if a else "no face"
        figures[f"{name}_max_prob_diff"] = diff
    return c.record("predictor", ok, time.perf_counter() - t0, device=str(on_dev.device), tolerance=PROB_TOL, **figures)


def step_explain(c: Check) -> bool:
    """`fer explain` on the device and on the CPU: the same classes, overlays and maps within tolerance."""
    import numpy as np
    from PIL import Image

    from fer.explain import explain
    from fer.io import load_image
    from fer.predictor import Predictor

    t0 = time.perf_counter()
    ckpt, photo = _checkpoint(c), _photo()
    outs = []
    for dev in (c.device, "cpu"):
        out = c.work / f"explain_{dev}{len(outs)}"
        p = c.run([sys.executable, "-m", "fer", "explain", str(photo), "--checkpoint", str(ckpt), "--detector", "mtcnn",
                   "--max-faces", "1", "--device", dev, "--out", str(out)], c.work / f"explain_{dev}{len(outs)}.log")
        if p.returncode != 0:
            return c.record("explain", False, time.perf_counter() - t0, problem=f"fer explain on {dev} failed")
        outs.append(out)
    ja, jb = (json.loads((o / "explain.json").read_text())["faces"] for o in outs)
    same_classes = [(f["explained_class"], f["head_classes"]) for f in ja] == \
                   [(f["explained_class"], f["head_classes"]) for f in jb]
    pngs = sorted(p.name for p in outs[1].glob("*.png"))
    png_diff = max((float(np.abs(np.asarray(Image.open(outs[0] / n), np.float32)
                                 - np.asarray(Image.open(outs[1] / n), np.float32)).mean()) for n in pngs), default=99.0)
    # the maps themselves, in Python, on the CLI's face crop
    cpu = Predictor(str(ckpt), detector="mtcnn", device="cpu")
    face = cpu(load_image(photo))[0].aligned
    ea = explain(Predictor(str(ckpt), detector="mtcnn", device=c.device).model, face)
    eb = explain(cpu.model, face)
    cam_diff = max(float(np.abs(ea.fused - eb.fused).mean()), float(np.abs(ea.heads - eb.heads).mean(axis=(1, 2)).max()))
    prob_diff = float(np.abs(ea.probs - eb.probs).max())
    ok = same_classes and bool(pngs) and png_diff <= PNG_TOL and cam_diff <= CAM_TOL and prob_diff <= PROB_TOL
    return c.record("explain", ok, time.perf_counter() - t0, checkpoint=ckpt.name, same_classes=same_classes,
                    pngs=len(pngs), max_png_mean_diff=png_diff, png_tolerance=PNG_TOL, max_cam_mean_diff=cam_diff,
                    cam_tolerance=CAM_TOL, max_prob_diff=prob_diff)


def step_speed(c: Check) -> bool:
    t0 = time.perf_counter()
    if c.cpu:  # a tiny model, only to run the options through
        args = ["--device", "cpu", "--model", "alfj_resnet18", "--size", "64", "--batch", "2", "--repeats", "1",
                "--local-stage", "shared", "--threads", "1"]
    else:
        args = ["--device", "cuda", "--amp", "--channels-last", "--batch", "1", "64", "--repeats", "10"]
    p = c.run([sys.executable, "benchmarks/model_speed.py", *args], c.work / "speed.log")
    rows = [ln.strip() for ln in p.stdout.splitlines() if "target" in ln]
    for row in rows:
        print(f"  {row}")
    return c.record("speed", p.returncode == 0 and len(rows) > 0, time.perf_counter() - t0, rows=len(rows),
                    options=" ".join(args))


RUNNERS = {"env": step_env, "train": step_train, "resume": step_resume, "torchrun": step_torchrun,
           "evaluate": step_evaluate, "predictor": step_predictor, "explain": step_explain, "speed": step_speed}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cpu", action="store_true", help="dry run on the CPU: the same steps, small, gloo, no AMP")
    p.add_argument("--only", nargs="+", metavar="STEP", help=f"run these steps only ({', '.join(STEPS)})")
    p.add_argument("--out", default=os.environ.get("OUT") or None,
                   help="folder for gpu_check.json (default: $OUT when set, else none)")
    p.add_argument("--work", default=None, help="scratch folder for runs and logs (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder (its path is printed)")
    args = p.parse_args(argv)
    unknown = [s for s in args.only or [] if s not in STEPS]
    if unknown:
        p.error(f"unknown step(s) {', '.join(unknown)}; the steps are {', '.join(STEPS)}")
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        p.error(f"--out {args.out} exists and is not a folder")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    steps = [s for s in STEPS if not args.only or s in args.only]
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="fer-gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    c = Check("cpu" if args.cpu else "cuda", Scale.for_device(args.cpu), work)
    started = time.perf_counter()
    print(f"GPU check ({'CPU dry run' if args.cpu else 'cuda'}): steps {' '.join(steps)}; scratch {work}", flush=True)
    for step in steps:
        t0 = time.perf_counter()
        try:
            RUNNERS[step](c)
        except Exception as exc:  # noqa: BLE001 - a broken step is a FAIL with its reason, the others still run
            c.record(step, False, time.perf_counter() - t0, error=f"{type(exc).__name__}: {exc}"[:500])
        if step == "env" and not c.results[-1]["pass"] and not args.cpu:
            print("  no point going on without the device", flush=True)
            break
    total = time.perf_counter() - started
    if not args.cpu and len(steps) == len(STEPS):
        c.record("budget", total <= BUDGET_S, 0.0, total_s=total, limit_s=BUDGET_S)
    failed = [r["step"] for r in c.results if not r["pass"]]
    print(f"{'ALL PASS' if not failed else 'FAILED: ' + ' '.join(failed)} in {total:.1f}s", flush=True)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "gpu_check.json").write_text(json.dumps({"device": c.device, "steps": c.results, "total_s": total,
                                                        "passed": not failed}, indent=2))
    if args.keep:
        print(f"scratch kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
