"""The demo's start-up (fer.ui.startup): the page and the default model's first answer import neither
torchvision nor the live engine, and a failing warm-up only logs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import sys
import fer.ui.layout  # the page's modules (gradio)
page = {m for m in ("torch", "torchvision", "fer.live") if m in sys.modules}
from fer.io import load_image
from fer.ui.analysis import OcclusionRequest, analyse
from fer.ui.models import ModelBank, default_choice, discover_models
choices = discover_models(None)
bank = ModelBank(choices)
result = analyse(load_image("examples/astronaut.jpg"), bank.get(default_choice(choices).label), 0, OcclusionRequest(),
                 explain=False)
answer = {m for m in ("torchvision", "fer.live") if m in sys.modules}
print("page:", sorted(page), "answer:", sorted(answer), "faces:", len(result.faces))
"""


def test_the_page_and_the_first_answer_import_no_torchvision_nor_the_live_engine():
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    p = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    line = p.stdout.strip().splitlines()[-1]
    assert line.startswith("page: [] answer: [] faces:"), line  # torch comes with the models, not the page
    assert int(line.rsplit(" ", 1)[1]) >= 1


class _BrokenBank:
    def get(self, label):
        raise OSError(f"cannot read {label}")


def test_a_failed_warm_up_is_logged_not_raised(caplog):
    from fer.ui.startup import warm_up

    with caplog.at_level(logging.INFO, logger="fer.app"):
        warm_up(_BrokenBank(), "some model")
    assert "warm-up failed" in caplog.text and "cannot read some model" in caplog.text
