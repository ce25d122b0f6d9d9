"""alfj-fer Gradio demo: `python app.py [--host 127.0.0.1] [--port 7860] [--weights PATH]`.

Also reads GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (set by Hugging Face Spaces), FER_WEIGHTS (a
.safetensors checkpoint or a folder of them) and FER_HUB_REPO (a Hub repo of checkpoints, fetched only
when HF_HUB_OFFLINE is unset). Works offline; analytics are off. Start-up order: fer.ui.startup.
"""

from __future__ import annotations

import argparse
import logging
import os


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


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from fer.ui.startup import serve

    serve(args.host, args.port, args.weights, untrained=not args.no_untrained, concurrency=args.concurrency,
          threads=args.threads)


if __name__ == "__main__":
    main()
