"""requirements.txt pins every runtime package, agrees with requirements.in, and is what is installed."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"{path.name}: {line!r} is not pinned with =="
        out[re.sub(r"[-_.]+", "-", name).lower()] = version
    return out


def test_lock_holds_every_direct_pin_at_its_version():
    direct, lock = _pins(REPO / "requirements.in"), _pins(REPO / "requirements.txt")
    assert len(lock) > 2 * len(direct)  # the transitive packages are pinned too
    assert {n: v for n, v in direct.items() if lock.get(n) != v} == {}
    for name in ("matplotlib", "scipy", "scikit-learn", "fastapi", "pydantic", "starlette"):
        assert name in lock, f"{name} (pulled in by grad-cam / gradio) is not pinned"
    text = (REPO / "requirements.txt").read_text()
    block = text[text.index("# --- torch, CUDA build"):text.index("# --- end of the CUDA build")]
    assert "torch==" in block and "torchvision==" in block and "nvidia-" in block  # the block the README swaps


def test_installed_packages_are_the_pinned_ones():
    lock = _pins(REPO / "requirements.txt")
    installed = {re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d.version for d in metadata.distributions()}
    wrong = {n: (v, installed.get(n)) for n, v in lock.items() if installed.get(n) != v}
    assert wrong == {}, "installed versions differ from requirements.txt; run `bash scripts/install.sh`"
