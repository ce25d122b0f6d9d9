"""`fer evaluate --checkpoint X --data NAME[:ROOT]`: accuracy, per-head and fused, confusion matrix, reports."""

from __future__ import annotations

import json
from pathlib import Path

from fer.commands._data_options import add_data_options, data_options
from fer.commands._model_source import add_device, resolve_device

NAME = "evaluate"
HELP = "evaluate a checkpoint on a data set (and its occlusion/pose subsets): JSON report + confusion matrix HTML/PNG"

INPUT_FILES = ("checkpoint",)
OUTPUT_DIRS = ("out",)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--checkpoint", required=True, help="a .safetensors checkpoint (e.g. <train out>/model.safetensors)"
    )
    parser.add_argument(
        "--data",
        required=True,
        metavar="NAME[:ROOT]",
        help="synthfer (synthetic), rafdb, ferplus, fedro, folder or csv; ROOT may follow a colon",
    )
    parser.add_argument("--root", help="the data set's folder (or CSV file), if not given in --data")
    parser.add_argument("--split", default="test", help="split to evaluate (default test)")
    parser.add_argument("--subset", choices=["occlusion", "pose30", "pose45", "all"],
                        help="RAN's occlusion / pose subset of the test split; 'all' = the test split and every subset "
                        "(default: the whole split)")
    add_data_options(parser, "--option test_size=700 --option seed=1 for synthfer")
    parser.add_argument("--out", help="report folder (default: <checkpoint folder>/eval)")
    parser.add_argument("--batch-size", type=int, default=64, help="faces per forward pass")
    parser.add_argument(
        "--locality-limit",
        type=int,
        default=32,
        metavar="N",
        help="add the heads' locality (cross-talk matrix, locality index, CAM share; as `fer locality`) "
        "on the first N images of each report, 4 of them with Grad-CAM++; 0: skip it (default 32)",
    )
    add_device(parser)


def run(args) -> int:
    from fer.data.registry import crop_options, open_dataset
    from fer.errors import DatasetError, InputError
    from fer.evaluate import evaluate, write_report
    from fer.models.checkpoint import load_checkpoint

    if args.locality_limit < 0:
        raise InputError("--locality-limit must be 0 (off) or a number of images")
    name, _, root = args.data.partition(":")
    root = root or args.root
    device = resolve_device(args.device)
    model = load_checkpoint(args.checkpoint, map_location=device)
    cfg = model.config
    opts = data_options(args)
    opts.update(crop_options(args.source, cfg.crop_recipe(), cfg.preprocess.input_size))  # photos: the model's crop
    subsets = [None, "occlusion", "pose30", "pose45"] if args.subset == "all" else [args.subset]
    out = Path(args.out) if args.out else Path(args.checkpoint).resolve().parent / "eval"
    summary = {"checkpoint": str(args.checkpoint), "model": cfg.name, "trained": cfg.trained,
               "provenance": cfg.provenance, "reports": {}}
    if args.source == "original":
        from fer.face.crop import describe_config

        summary["crop"] = describe_config(cfg)
    if not cfg.trained:
        print("warning: this checkpoint is not trained on expression data; its figures are chance-level by design")
    for subset in subsets:
        try:
            data = open_dataset(name, split=args.split, root=root, protocol=args.protocol, source=args.source,
                                num_classes=cfg.num_classes, subset=subset, lists=args.lists, **opts)
        except DatasetError as exc:
            if args.subset != "all" or subset is None:
                raise
            summary["reports"][f"test:{subset}"] = {"skipped": str(exc)}  # e.g. that list file is absent
            continue
        if data.missing_images:
            raise DatasetError(f"{len(data.missing_images)} image file(s) of {data.name} {data.split} are missing, "
                               f"e.g. {data.missing_images[0]}")
        report = evaluate(model, data, batch_size=args.batch_size, device=device, locality_limit=args.locality_limit)
        report["model"] = {
            "name": cfg.name,
            "trained": cfg.trained,
            "provenance": cfg.provenance,
            "checkpoint": str(args.checkpoint),
        }
        stem = f"{name.lower()}_{data.split.replace(':', '_')}"
        paths = write_report(report, out, stem)
        summary["reports"][data.split] = {
            "dataset": data.name, "n": report["n"], "accuracy": report["accuracy"],
            "mean_class_accuracy": report["mean_class_accuracy"], "per_head_accuracy": report["per_head_accuracy"],
            "files": paths,
        }
        if "locality" in report:
            summary["reports"][data.split]["locality"] = report["locality"]
    print(json.dumps(summary, indent=2))
    return 0
