"""CLI subcommands, one module each (see fer/cli.py for the module contract)."""
