"""Write a contact sheet PNG of every occluder on the astronaut and insightface's bundled photos.

    python scripts/contact_sheet.py out/occluders.png [--severity 0.5] [--seed 0] [--tile 200]
"""

from __future__ import annotations

import argparse
import sys

from fer.occlusion.sheet import save_contact_sheet


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", nargs="?", default="occluders_contact_sheet.png")
    p.add_argument("--severity", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tile", type=int, default=200)
    args = p.parse_args(argv)
    path = save_contact_sheet(args.out, severity=args.severity, seed=args.seed, tile=args.tile)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
