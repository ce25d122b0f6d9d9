"""`fer models`: list the registered models."""

from __future__ import annotations

import json

NAME = "models"
HELP = "list the registered models (name, family, description)"


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args) -> int:
    from fer.models import list_models, model_entry

    rows = [model_entry(n) for n in list_models()]
    if args.json:
        print(json.dumps([{"name": e.name, "family": e.family, "description": e.description} for e in rows], indent=2))
    else:
        for e in rows:
            print(f"{e.name:28s} {e.family:10s} {e.description}")
    return 0
