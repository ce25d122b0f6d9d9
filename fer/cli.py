"""`python -m fer` / `fer`: one subcommand per module in `fer/commands/`.

A command module defines `NAME`, `HELP`, `add_arguments(parser)` and `run(args) -> int`.
Project errors (`fer.errors.FERError`) print a plain message and exit with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys

import fer.commands
from fer import __version__
from fer.commands._checks import check_args
from fer.errors import FERError


def _command_modules():
    for info in sorted(pkgutil.iter_modules(fer.commands.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"fer.commands.{info.name}")


def shows_default(action: argparse.Action) -> bool:
    """Whether `--help` states this option's default value: a real value, not None/False/[] (flags and
    repeatable options are off or empty by default; a None default is described in the help's words)."""
    default = action.default
    return bool(action.option_strings) and default not in (None, False, [], argparse.SUPPRESS)


class HelpFormatter(argparse.HelpFormatter):
    """Appends "(default: VALUE)" to an option's help unless the help already says its default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if shows_default(action) and "default" not in text:
            text += " (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fer",
        formatter_class=HelpFormatter,
        description="alfj-fer: facial expression recognition with attention-guided local heads, "
        "and occlusion-robustness analysis.",
    )
    parser.add_argument("--version", action="version", version=f"alfj-fer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP, formatter_class=HelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run, _module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # library warnings (e.g. "this model has no trained weights") reach the user once, plainly
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    logging.getLogger("fer.models.pretrained").setLevel(logging.INFO)  # the backbone load report
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        check_args(args._module, args)  # output paths, input names, --set/--option, --device: before the work
        return int(args._run(args) or 0)
    except FERError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        return 0


if __name__ == "__main__":
    sys.exit(main())
