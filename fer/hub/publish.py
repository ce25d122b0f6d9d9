"""`publish`: write a checkpoint as a Hub model repository folder; `push`: upload that folder.

Nothing is written over: the output folder must be new, empty, or an earlier `fer publish` folder.
Files are written to temporary names and renamed, so an interrupted publish leaves no half file.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from fer.errors import CheckpointError, FERError
from fer.hub.card import CardInputs, EvalResult, locality_figures, options_of, render_card, training_status
from fer.hub.folder import CARD_NAME, CHECKPOINT_NAME, card_summary, resolve_published

log = logging.getLogger(__name__)

TRAINING_CONFIG = "training_config.yaml"
_MAX_REPORT_BYTES = 20 * 1024 * 1024
_OURS = {CHECKPOINT_NAME, CARD_NAME, TRAINING_CONFIG, "images", "eval", ".gitattributes"}


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _atomic_copy(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        if tmp.exists():
            tmp.unlink()


def _check_out_dir(out: Path, checkpoint: Path) -> None:
    if out.exists() and not out.is_dir():
        raise FERError(f"--out {out} is a file; give a folder for the published model")
    if out.is_dir():
        if out.resolve() == checkpoint.parent.resolve():
            raise FERError(f"--out {out} is the checkpoint's own folder; publish into a new folder")
        others = sorted(p.name for p in out.iterdir() if p.name not in _OURS)
        if others:
            raise FERError(f"--out {out} is not empty ({', '.join(others[:3])} ...); give a new or empty folder")
        if (out / CARD_NAME).exists() and not card_summary(out / CARD_NAME):
            raise FERError(f"--out {out} holds a README.md that is not an alfj-fer model card; give a new folder")


def _read_json(path: Path) -> Any:
    if path.stat().st_size > _MAX_REPORT_BYTES:
        raise FERError(f"evaluation report {path} is too large ({path.stat().st_size} bytes)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise FERError(f"evaluation report {path} is not valid JSON: {exc}") from exc


def _result(report: dict[str, Any], image: str | None) -> EvalResult:
    ds = report.get("dataset") if isinstance(report.get("dataset"), dict) else {}
    try:
        figures, matrix = locality_figures(report.get("locality"))
        return EvalResult(
            dataset=str(ds.get("name") or report.get("dataset") or "unknown"),
            split=str(ds.get("split") or report.get("split") or "test"),
            n=int(report.get("n", 0)),
            accuracy=float(report["accuracy"]),
            mean_class_accuracy=report.get("mean_class_accuracy"),
            per_head_accuracy={str(k): float(v) for k, v in (report.get("per_head_accuracy") or {}).items()},
            per_class_accuracy=dict(report.get("per_class_accuracy") or {}),
            locality=figures,
            crosstalk=matrix,
            locality_faces=int((report.get("locality") or {}).get("n", 0)),
            image=image,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FERError(
            f"an evaluation report lacks a readable figure ({exc!r}); give `fer evaluate`'s output folder"
        ) from exc


def read_eval(eval_path: Path, model_name: str) -> list[tuple[EvalResult, Path, Path | None]]:
    """(result, report file, confusion PNG) of a `fer evaluate --out` folder (or one report / summary JSON),
    the main split first."""
    if not eval_path.exists():
        raise FERError(f"--eval {eval_path} does not exist")
    files = sorted(eval_path.glob("*.json")) if eval_path.is_dir() else [eval_path]
    found: list[tuple[EvalResult, Path, Path | None]] = []
    for path in files:
        report = _read_json(path)
        if not isinstance(report, dict):
            continue
        if isinstance(report.get("reports"), dict):  # the summary `fer evaluate` prints
            for split, entry in report["reports"].items():
                if isinstance(entry, dict) and "accuracy" in entry:
                    entry = {**entry, "dataset": {"name": entry.get("dataset", "unknown"), "split": split}}
                    found.append((_result(entry, None), path, None))
            continue
        if "accuracy" not in report or "confusion_matrix" not in report:
            continue
        named = (report.get("model") or {}).get("name") if isinstance(report.get("model"), dict) else None
        if named and named != model_name:
            raise FERError(f"evaluation report {path} is of model {named!r}, not of this checkpoint's {model_name!r}")
        png = path.with_name(f"{path.stem}_confusion.png")
        found.append((_result(report, None), path, png if png.is_file() else None))
    if not found:
        raise FERError(f"--eval {eval_path}: no `fer evaluate` report (JSON with accuracy and confusion_matrix) in it")
    found.sort(key=lambda item: (":" in item[0].split, item[0].dataset, item[0].split))
    return found


def publish(checkpoint: str | os.PathLike, out: str | os.PathLike, eval_dir: str | os.PathLike | None = None,
            repo_id: str | None = None, name: str | None = None, license: str = "mit") -> Path:
    """Write `out` as a Hub model repository folder for `checkpoint`. Returns the model card's path."""
    from fer.face.crop import describe_config
    from fer.models.checkpoint import load_checkpoint, read_checkpoint_metadata
    from fer.models.registry import model_entry

    source = resolve_published(checkpoint).checkpoint
    model = load_checkpoint(source)  # the whole file is checked (strict load) before anything is written
    config = json.loads(json.dumps(dataclasses.asdict(model.config)))
    metadata = {k: v for k, v in read_checkpoint_metadata(source).items() if not k.startswith("fer_")}
    out = Path(out)
    _check_out_dir(out, source)
    results = read_eval(Path(eval_dir), config["name"]) if eval_dir else []
    try:
        entry = model_entry(config["name"])
        family, description = entry.family, entry.description
    except FERError:
        family, description = "unregistered", "a model of this name is not registered in this version of alfj-fer"

    out.mkdir(parents=True, exist_ok=True)
    _atomic_copy(source, out / CHECKPOINT_NAME)
    evals = []
    for result, report, png in results:
        (out / "eval").mkdir(exist_ok=True)
        _atomic_copy(report, out / "eval" / report.name)
        if png is not None:
            (out / "images").mkdir(exist_ok=True)
            _atomic_copy(png, out / "images" / png.name)
            result.image = f"images/{png.name}"
        evals.append(result)
    training_config = None
    run_config = source.parent / "config.yaml"
    if run_config.is_file() and run_config.stat().st_size < 1024 * 1024:
        _atomic_copy(run_config, out / TRAINING_CONFIG)
        training_config = TRAINING_CONFIG
    inputs = CardInputs(
        name=name or (repo_id.split("/")[-1] if repo_id else f"{config['name']}-{out.resolve().name}"),
        config=config, options=options_of(model, config), family=family, description=description,
        metadata=metadata, status=training_status(config, metadata), license=license, repo_id=repo_id,
        results=evals, training_config=training_config, training_data=metadata.get("training_data", ""),
        crop=describe_config(model.config),
    )
    card = out / CARD_NAME
    _atomic_write(card, render_card(inputs).encode("utf-8"))
    return card


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() not in ("", "0", "false", "no", "off")


def push(folder: str | os.PathLike, repo_id: str, private: bool = False) -> str:
    """Upload a published folder to the Hub model repo `repo_id` (created when absent). Returns its URL.

    Offline (HF_HUB_OFFLINE set, or the Hub unreachable) raises FERError with one plain line.
    """
    folder = Path(folder)
    if not (folder / CHECKPOINT_NAME).is_file() or not card_summary(folder / CARD_NAME):
        raise CheckpointError(f"{folder} is not a published model folder (write one with `python -m fer publish`)")
    if _offline():
        raise FERError(f"cannot push to the Hugging Face Hub: offline (HF_HUB_OFFLINE is set); {folder} is written, "
                       f"push it later with `python -m fer publish ... --push {repo_id}`")
    try:
        from huggingface_hub import HfApi

        api = HfApi()
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        info = api.upload_folder(repo_id=repo_id, folder_path=str(folder), repo_type="model",
                                 commit_message="Upload model published with alfj-fer")
    except Exception as exc:  # noqa: BLE001 - network, auth and Hub errors all end in one plain line
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise FERError(
            f"cannot push to the Hugging Face Hub repo {repo_id} (offline, or no token or access?): {reason} "
            f"({folder} is written)"
        ) from exc
    return str(getattr(info, "commit_url", "") or f"https://huggingface.co/{repo_id}")
