"""`fer dataset-info NAME --root DIR`: images per split and per class, and what was dropped and why."""

from __future__ import annotations

import json

from fer.commands._data_options import add_data_options, data_options

NAME = "dataset-info"
HELP = "count a data set's images per split and per class (JSON), with dropped entries and reasons"


def add_arguments(parser) -> None:
    parser.add_argument("name", help="synthfer (synthetic), rafdb, ferplus, fedro, folder or csv")
    parser.add_argument("--root", help="the data set's folder (for csv: the CSV file)")
    parser.add_argument(
        "--num-classes", type=int, choices=[7, 8], help="7, or 8 with contempt (default: the data set's own)"
    )
    parser.add_argument(
        "--subset",
        choices=["occlusion", "pose30", "pose45"],
        help="RAN's occlusion / pose subset of the test split (default: every split, no subset)",
    )
    add_data_options(parser, "--option train_size=700 for synthfer, --option pixels=/x/fer2013.csv for ferplus")


def run(args) -> int:
    from fer.data.registry import dataset_info

    opts = data_options(args)
    info = dataset_info(args.name, root=args.root, protocol=args.protocol, source=args.source,
                        num_classes=args.num_classes, subset=args.subset, lists=args.lists, **opts)
    print(json.dumps(info, indent=2))
    return 0
