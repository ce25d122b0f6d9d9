"""`fer robustness`: occlusion sweep of one or more models over a data set -> CSV, JSON, HTML."""

from __future__ import annotations

import math
from pathlib import Path

from fer.commands._model_source import add_device, resolve_device
from fer.errors import InputError

NAME = "robustness"
HELP = "occlusion-robustness sweep (occluder x severity, region blocks) of models over a data set"

OUTPUT_DIRS = ("out",)


def add_arguments(parser) -> None:
    parser.add_argument("--model", action="append", required=True, metavar="NAME_OR_CHECKPOINT",
                        help="registered model name or .safetensors checkpoint; repeat to compare models")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", metavar="NAME",
                     help="data set: synthfer, rafdb, ferplus, fedro, folder, csv (images taken as aligned faces)")
    src.add_argument("--photos", metavar="DIR",
                     help="folder of unlabelled photos: faces are detected and aligned; pseudo-labels = a model's "
                     "clean predictions")
    parser.add_argument("--root", help="data set root folder (or csv file)")
    parser.add_argument("--split", default="test", help="data set split (default: test)")
    parser.add_argument("--subset", help="rafdb/ferplus test subset: occlusion, pose30, pose45 (default: the whole "
                        "split)")
    parser.add_argument("--occluders", default="all",
                        help="comma-separated occluders (see `fer occlude --list`), 'all' (default) or 'none'; "
                        "region:<top-left|...> and half:<top|bottom|left|right> are accepted too")
    parser.add_argument("--severities", default="0.25,0.5,0.75,1", help="comma-separated severities in [0, 1]")
    parser.add_argument("--no-region-blocks", action="store_true", help="skip the four region blocks")
    parser.add_argument("--limit", type=int, help="use only the first N images, for quick looks (default: all; "
                        "SynthFER: 700)")
    parser.add_argument("--batch-size", type=int, default=32, help="crops per forward pass")
    parser.add_argument("--locality-limit", type=int, default=32, metavar="N",
                        help="also measure each model's head locality (cross-talk matrix, fer locality) on the first "
                        "N clean faces, 4 of them with Grad-CAM++; 0: skip it (default 32)")
    parser.add_argument("--crop-size", type=int,
                        help="aligned crop size the occluders are drawn at (default: largest model input, <= 224)")
    parser.add_argument("--pseudo-labels", metavar="MODEL",
                        help="with --photos: which --model's clean predictions are the labels (default: the first)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the occluders (and SynthFER)")
    parser.add_argument("--out", default="outputs/robustness", help="output folder (created if missing)")
    add_device(parser, "the models")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _floats(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"severities must be comma-separated numbers, got {text!r}") from None
    bad = [v for v in values if not math.isfinite(v) or not 0 <= v <= 1]
    if not values or bad:
        raise InputError(f"severities must be numbers within [0, 1], got {text!r}")
    return values


def _occluders(text: str) -> list[str] | None:
    t = text.strip().lower()
    if t == "all":
        return None
    if t in ("none", ""):
        return []
    return [v.strip() for v in text.split(",") if v.strip()]


def run(args) -> int:
    from fer.robustness import default_conditions, sweep, write_reports
    from fer.robustness.sources import dataset_samples, load_model, photo_samples, synthfer_samples

    if args.limit is not None and args.limit < 1:
        raise InputError("--limit must be at least 1")
    if args.batch_size < 1:
        raise InputError("--batch-size must be at least 1")
    if args.locality_limit < 0:
        raise InputError("--locality-limit must be 0 (off) or a number of faces")
    conditions = default_conditions(_occluders(args.occluders), _floats(args.severities), not args.no_region_blocks)
    if args.threads is not None:
        if args.threads < 1:
            raise InputError("--threads must be at least 1")
        import torch

        torch.set_num_threads(args.threads)
    models = [load_model(m, resolve_device(args.device)) for m in args.model]
    crop = args.crop_size or min(224, max(m.config.preprocess.input_size for m in models))
    if not 16 <= crop <= 1024:
        raise InputError("--crop-size must be between 16 and 1024")
    pseudo = 0
    if args.photos:
        if args.pseudo_labels:
            if args.pseudo_labels not in args.model:
                raise InputError("--pseudo-labels must name one of the --model values")
            pseudo = args.model.index(args.pseudo_labels)
        from fer.face.crop import detector_for

        own = {detector_for(m.config) for m in models}  # one detection for every model: theirs when they agree
        samples, skipped = photo_samples(args.photos, crop, limit=args.limit, detector=own.pop() if len(own) == 1
                                         else "auto")
        for msg in skipped:
            print(f"skipped {msg}")
    elif args.data.lower() == "synthfer":
        samples = synthfer_samples(args.split, args.limit or 700, crop, args.seed)
    else:
        from fer.data import open_dataset

        ds = open_dataset(args.data, split=args.split, root=args.root, subset=args.subset)
        samples = dataset_samples(ds, crop, args.limit)
    for m, spec in zip(models, args.model):
        if not m.config.trained:
            print(f"note: {spec} has no trained weights: its numbers show the method, not real robustness")
    result = sweep(models, samples, conditions, model_names=args.model, pseudo_label_model=pseudo,
                   batch_size=args.batch_size, limit=args.limit, seed=args.seed, progress=not args.no_progress)
    if args.locality_limit:
        from fer.robustness.locality import of_samples

        result.locality = {name: of_samples(m, samples, args.locality_limit, batch_size=args.batch_size).to_dict()
                           for m, name in zip(models, result.meta["models"])}
    paths = write_reports(result, Path(args.out))
    _print_summary(result)
    t = result.timings
    print(f"{t['images']} images x {t['conditions']} conditions x {t['models']} model(s): "
          f"occluders {t['render_s']:.1f} s, models {t['model_s']:.1f} s")
    for kind, p in paths.items():
        print(f"{kind}: {p}")
    return 0


# over each model's five worst conditions; drop = clean accuracy minus this one, flip rate = share of faces whose
# prediction changed
SUMMARY_HEADER = f"  {'worst conditions':>24s}  {'severity':>8s}  {'accuracy':>8s}  {'drop':>8s}  {'flip rate':>9s}"


def _print_summary(result) -> None:
    rows = [r for r in result.rows if r["class"] == "all"]
    for model in result.meta["models"]:
        mine = [r for r in rows if r["model"] == model]
        clean = next(r for r in mine if r["occluder"] == "clean")
        worst = sorted((r for r in mine if r["occluder"] != "clean"), key=lambda r: -r["drop"])[:5]
        print(f"{model}: clean accuracy {clean['acc']:.3f} on {clean['n']} images ({result.meta['labels']})")
        if worst:
            print(SUMMARY_HEADER)
        for r in worst:
            print(f"  {r['occluder']:>24s}  {r['severity']:>8g}  {r['acc']:>8.3f}  {r['drop']:>+8.3f}  "
                  f"{r['flip_rate']:>9.2f}")
        loc = result.locality.get(model)
        if loc:
            print(f"  {locality_line(loc)}")


def locality_line(doc: dict) -> str:
    """`fer robustness`'s one line per model on its heads' locality (from LocalityResult.to_dict())."""
    if not doc["applies"]:
        return f"locality: does not apply (one head; {doc['n']} faces)"
    index = " ".join("n/a" if v is None else f"{v:.2f}" for v in doc["locality"])
    ratio = doc.get("offdiag_over_diag")
    return (f"locality on {doc['n']} faces: index per head (TL TR BL BR) {index}; cross-talk off-diagonal / diagonal "
            f"{'n/a' if ratio is None else f'{ratio:.2f}'} (0 = local)")
