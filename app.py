"""alfj-fer Gradio demo: `python app.py [--host 127.0.0.1] [--port 7860] [--weights PATH]`.

Also reads GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (set by Hugging Face Spaces), FER_WEIGHTS (a
.safetensors checkpoint or a folder of them) and FER_HUB_REPO (a Hub repo of checkpoints, fetched only
when HF_HUB_OFFLINE is unset). Works offline; analytics are off.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

log = logging.getLogger("fer.app")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="alfj-fer demo: expression recognition under occlusion")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), help="address to listen on")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)), help="port to listen on")
    parser.add_argument("--weights", default=None, help="a .safetensors checkpoint or a folder of them (adds to FER_WEIGHTS)")
    parser.add_argument("--no-untrained", action="store_true", help="do not offer the untrained ALFJ-Net architecture demo")
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("FER_CONCURRENCY", 2)), help="requests computed at once")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("FER_THREADS", 1)),
                        help="threads of torch's and NumPy's maths pools per process (default 1, or FER_THREADS; see fer.threads)")
    return parser.parse_args(argv)


def warm_up(bank, label: str) -> None:
    """Load the default model and the face detector in the background, so the first request is fast."""
    started = time.perf_counter()
    try:
        import numpy as np

        from fer.ui.analysis import OcclusionRequest, analyse

        predictor = bank.get(label)
        from skimage import data

        analyse(np.ascontiguousarray(data.astronaut()), predictor, 0, OcclusionRequest(), explain=False)
        log.info("warm-up done in %.1f s (%s)", time.perf_counter() - started, label)
    except Exception:  # noqa: BLE001 - a failed warm-up only makes the first request slower
        log.exception("warm-up failed; the first request will load the model")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from fer.threads import set_threads
    from fer.ui.files import remove_at_exit
    from fer.ui.layout import CSS, build_demo, theme
    from fer.ui.models import ModelBank, default_choice, discover_models

    set_threads(args.threads)  # before any model runs: small nets are fastest on one thread (fer.threads)
    remove_at_exit()  # the demo's temporary output folder goes with the process (normal exit and SIGTERM)
    choices = discover_models(args.weights, include_untrained=not args.no_untrained)
    default = default_choice(choices)
    bank = ModelBank(choices)
    # model loading and the first detection overlap with building the page and starting the server
    threading.Thread(target=warm_up, args=(bank, default.label), name="fer-warm-up", daemon=True).start()
    demo = build_demo(choices, default, bank)
    demo.queue(default_concurrency_limit=max(1, args.concurrency), max_size=64)
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        theme=theme(),
        css=CSS,
        ssr_mode=False,
        show_error=False,
        max_file_size="25mb",
        footer_links=["api"],
    )


if __name__ == "__main__":
    main()
