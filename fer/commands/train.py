"""`fer train --config CFG`: train a model (ALFJ-Net by default) from a YAML config; see docs/training.md."""

from __future__ import annotations

import json
import os

from fer.commands._model_source import AUTO_DEVICE, add_device

NAME = "train"
HELP = "train a model from a YAML config (SynthFER (synthetic) on CPU, RAF-DB / FERPlus recipes on GPU); resumable"

OUTPUT_DIRS = ("out",)


def add_arguments(parser) -> None:
    parser.add_argument("--config", default="synthfer_cpu",
                        help="YAML file, or a built-in config name (synthfer_cpu, rafdb_paper, ferplus_paper, ...)")
    parser.add_argument("--out", help="output folder (default: the config's 'output')")
    parser.add_argument("--resume", nargs="?", const=True, default=False, metavar="LAST_PT",
                        help="continue from <out>/last.pt (or the given file); starts fresh when none exists yet")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set train.epochs=3 --set data.root=/data/RAF-DB")
    parser.add_argument("--epochs", type=int, help="shortcut for --set train.epochs=N (default: the config's)")
    add_device(parser, "training (under torchrun, auto = each process's own GPU)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: the config's train.threads)")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    parser.add_argument("--list-configs", action="store_true", help="print the built-in configs and exit")


def run(args) -> int:
    from fer.training import cleanup_distributed, list_configs, load_config, train

    if args.list_configs:
        print("\n".join(list_configs()))
        return 0
    overrides = list(args.set)
    if args.epochs is not None:
        overrides.append(f"train.epochs={args.epochs}")
    if args.threads is not None:
        overrides.append(f"train.threads={args.threads}")
    cfg = load_config(args.config, overrides)
    try:
        device = None if args.device == AUTO_DEVICE else args.device  # None: train's own rule, a GPU per rank
        result = train(cfg, out_dir=args.out, resume=args.resume, device=device, progress=not args.no_progress)
    finally:
        cleanup_distributed()
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, one summary
        print(json.dumps({k: v for k, v in result.items() if k != "last_epoch"}, indent=2))
    return 0
