"""Run every benchmark script in this folder and print one table of ratios.

Each `benchmarks/<name>.py` defines `main() -> list[dict]` with rows
{"benchmark", "metric", "value", "target"}. Benchmarks are not tests: the machine is shared
and noisy, so every figure is a ratio measured side by side within one run.
Usage: python benchmarks/run_all.py [--only NAME ...] [--skip NAME ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _scripts() -> list[Path]:
    return sorted(p for p in HERE.glob("*.py") if p.name not in {"run_all.py", "__init__.py"} and not p.name.startswith("_"))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="benchmark script names (without .py)")
    parser.add_argument("--skip", nargs="*", default=[], help="benchmark script names to skip")
    args = parser.parse_args(argv)
    sys.path[:0] = [str(HERE), str(HERE.parent)]  # the shared _timing helper, and the fer package
    rows, failed = [], []
    for path in _scripts():
        if (args.only and path.stem not in args.only) or path.stem in args.skip:
            continue
        print(f"== {path.stem}", flush=True)
        start = time.perf_counter()
        try:
            old_argv = sys.argv
            sys.argv = [str(path)]
            try:
                result = _load(path).main() or []
            finally:
                sys.argv = old_argv
        except Exception:  # one broken benchmark must not hide the others
            traceback.print_exc()
            failed.append(path.stem)
            continue
        rows.extend(result)
        print(f"   ({time.perf_counter() - start:.0f} s)", flush=True)
    print()
    print(f"{'benchmark':22s} {'metric':52s} {'value':>10s}  target")
    for r in rows:
        value = r.get("value")
        shown = f"{value:10.3f}" if isinstance(value, (int, float)) else f"{value!s:>10s}"
        print(f"{r.get('benchmark', ''):22s} {r.get('metric', ''):52s} {shown}  {r.get('target', '')}")
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
