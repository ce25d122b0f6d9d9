"""/live_frame vs /predict through gradio_client on a running demo: seconds per call, side by side.

    python benchmarks/endpoints.py [--calls 20] [--url URL] [--port PORT]

Without --url it starts `python app.py` offline (as the tests do). Both endpoints get the same 640×480
frame of the live benchmark's clip, in interleaved rounds (one /predict call, then one /live_frame call,
...), so machine load affects both alike; output files are not downloaded. /live_frame calls from one
client are one session, so its face is tracked between calls (a full detection every few calls), while
/predict detects from scratch each time. Target: /live_frame not slower than /predict (ratio <= 1).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _timing import demo_url, load_average

REPO = Path(__file__).resolve().parents[1]
MODEL = "faceapi_expression (pretrained reference)"


def _frame() -> str:
    from PIL import Image

    from fer.io import load_image
    from fer.live.clip import moving_clip

    path = Path(tempfile.gettempdir()) / "fer-endpoints-frame.jpg"
    Image.fromarray(moving_clip(load_image(REPO / "examples" / "astronaut.jpg"), 2)[1]).save(path, quality=90)
    return str(path)


def measure(url: str, calls: int) -> dict[str, list[float]]:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False, download_files=False)
    frame = _frame()
    endpoints = {
        "/predict": lambda: client.predict(handle_file(frame), MODEL, api_name="/predict"),
        "/live_frame": lambda: client.predict(handle_file(frame), MODEL, "none", 0.6, api_name="/live_frame"),
    }
    times: dict[str, list[float]] = {name: [] for name in endpoints}
    for call in endpoints.values():  # warm-up: model, detector, the session's first detection
        call()
    for _ in range(max(1, calls)):
        for name, call in endpoints.items():
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="interleaved rounds (one call of each endpoint)")
    parser.add_argument("--url", default=None, help="a running demo (default: start app.py)")
    parser.add_argument("--port", type=int, default=None, help="port for the app this script starts")
    args = parser.parse_args(argv)
    load = load_average()
    with demo_url(args.url, args.port) as url:
        times = measure(url, args.calls)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"load average before: {load}")
    for name, t in times.items():
        print(f"{name:12s} median {med[name]:6.3f} s  best {min(t):6.3f} s  (n={len(t)})")
    ratio = med["/live_frame"] / med["/predict"]
    print(f"/live_frame / /predict, medians: {ratio:.3f}  (target <= 1)")
    return {"times": times, "ratio": ratio}


if __name__ == "__main__":
    main(sys.argv[1:])
