"""The demo's start-up (`python app.py`), ordered for the soonest first answer.

What runs before the first answer, in this order:

1. gradio and the page's modules are imported. None of them imports torch or torchvision: `fer.ui.live`
   imports `fer.live` with the first webcam frame, `fer.models.backbones` imports torchvision only to build
   a ResNet, and MTCNN's non-maximum suppression runs in numpy up to 512 candidates (torchvision, with the
   torch compiler it imports, took 1.3-1.7 s of start-up here; the default model and detector need none of it).
2. torch's thread count is set (`fer.threads`, the first import of torch) and the models are discovered
   (`fer.ui.models.discover_models`: the model registry).
3. The page is built and the server started; it answers from here on.
4. Then, while the server thread serves, the default model is loaded and one detection and prediction run on
   a bundled photo, so that the first request finds model, detector and torch's kernels ready.

Nothing runs beside the page build in another thread. Measured on this 2-core machine (docs/demo.md,
"Start-up"): importing torch in a thread while gradio was imported took more CPU time than one after the
other (the GIL), and a warm-up thread started before the page was built made the build 2-3x slower (every
torch call hands the GIL back and waits for it again) while gaining nothing for the first answer.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger("fer.app")

WARM_UP_PHOTO = Path(__file__).resolve().parents[2] / "examples" / "astronaut.jpg"


def _warm_up_photo():
    """The bundled example photo (decoded in milliseconds); skimage's astronaut if the examples are absent."""
    import numpy as np

    from fer.io import load_image

    if WARM_UP_PHOTO.exists():
        return load_image(WARM_UP_PHOTO)
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def warm_up(bank, label: str) -> None:
    """Load `label`'s model and the face detector, and run the Analyse path once without CAMs."""
    started = time.perf_counter()
    try:
        from fer.ui.analysis import OcclusionRequest, analyse

        predictor = bank.get(label)
        analyse(_warm_up_photo(), predictor, 0, OcclusionRequest(), explain=False)
        log.info("warm-up done in %.1f s (%s)", time.perf_counter() - started, label)
    except Exception:  # noqa: BLE001 - a failed warm-up only makes the first request slower
        log.exception("warm-up failed; the first request will load the model")


def serve(host: str, port: int, weights: str | None = None, untrained: bool = True, concurrency: int = 2,
          threads: int = 1) -> None:
    """Build the demo and serve it until the process ends (see the module docstring for the order).
    `threads`: torch's and NumPy's maths pools (`fer.threads`), set before any model runs."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    started = time.perf_counter()
    from fer.ui.files import remove_at_exit
    from fer.ui.layout import CSS, build_demo, theme
    from fer.ui.models import ModelBank, default_choice, discover_models

    imported = time.perf_counter()
    from fer.threads import set_threads

    set_threads(threads)  # the first import of torch; before any model runs (small nets are fastest on one thread)
    remove_at_exit()  # the demo's temporary output folder goes with the process (normal exit and SIGTERM)
    choices = discover_models(weights, include_untrained=untrained)
    default = default_choice(choices)
    bank = ModelBank(choices)
    discovered = time.perf_counter()
    demo = build_demo(choices, default, bank)
    demo.queue(default_concurrency_limit=max(1, concurrency), max_size=64)
    log.info("start-up: page modules imported in %.1f s, torch and the models in %.1f s, page built in %.1f s",
             imported - started, discovered - imported, time.perf_counter() - discovered)
    demo.launch(
        server_name=host,
        server_port=port,
        theme=theme(),
        css=CSS,
        ssr_mode=False,
        show_error=False,
        max_file_size="25mb",
        footer_links=["api"],
        prevent_thread_lock=True,  # returns once the server answers; the warm-up runs while it does
    )
    warm_up(bank, default.label)
    demo.block_thread()
