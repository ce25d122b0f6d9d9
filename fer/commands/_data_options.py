"""The data-set options shared by `fer evaluate` and `fer dataset-info`: label protocol, source, subset lists,
class order and free `--option KEY=VALUE` settings (parsed by `fer.commands._checks.parse_assignments`)."""

from __future__ import annotations

CLASS_ORDERS = ("canonical", "ferplus", "rafdb", "manet")


def add_data_options(parser, option_example: str) -> None:
    parser.add_argument("--protocol", choices=["majority", "plurality", "soft"],
                        help="FERPlus label protocol (default: majority)")
    parser.add_argument("--source", help="rafdb: aligned|original; ferplus: folders (label.csv) | csv (fer2013new.csv)")
    parser.add_argument("--lists", help="folder of the subset lists (rafdb_occlusion_list.txt, ...)")
    parser.add_argument("--class-order", choices=CLASS_ORDERS,
                        help="meaning of numbered class folders / CSV labels (default: the data set's own)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help=f"data-set option, e.g. {option_example}")


def data_options(args) -> dict:
    """The `--option` settings as a dict, with `--class-order` when given."""
    from fer.commands._checks import parse_assignments

    opts = parse_assignments(args.option, "--option")
    if args.class_order:
        opts["class_order"] = args.class_order
    return opts
