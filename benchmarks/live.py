"""Live lab speed: frames/s of the per-frame path (`fer.live.LiveEngine.process`: tracked face,
model, drawing) on a 640×480 sequence of a face moving a little, vs one full `Predictor` call
(detection from scratch + alignment + model) per frame.

Target: >= 10 frames/s for faceapi_expression on 2 cores. The sequence is built from
examples/astronaut.jpg (`fer.live.clip.moving_clip`: a slow circle of 12 px and a slight zoom).
Both paths are timed in interleaved rounds (live pass over the clip, then full calls on the same
frames); each figure is the best round (least disturbed by other processes). On a shared machine
the absolute frames/s move with the load; the ratio is the figure that travels. CPU seconds
per frame (this process, all threads) are printed too: they are much less sensitive to load.
--threads takes several counts (e.g. `--threads 1 2`) to print each setting's rows; the default is the
demo's (one thread for torch and NumPy's BLAS, `fer.threads`).
Usage: python benchmarks/live.py [--frames N] [--repeats R] [--threads T ...] [--models NAME ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _timing import print_rows, row, timed, torch_threads

from fer import Predictor
from fer.io import load_image
from fer.live import LiveEngine
from fer.live.clip import moving_clip

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg"
DEFAULT_MODELS = ("faceapi_expression", "alfj_resnet18")
TARGET_FPS = 10.0
DEMO_THREADS = 1  # app.py --threads' default


def bench_model(name: str, frames: list, repeats: int, thread_counts: list[int], full_every: int = 4) -> list[dict]:
    """Rows for one model; each round times every thread count in turn (live pass, then full calls)."""
    predictor = Predictor(name)
    engine = LiveEngine(predictor)
    subset = frames[::full_every]
    for f in frames[:3]:  # warm-up: weights, detector, allocator
        engine.process(f)
        predictor(f)
    live: dict[int, list] = {n: [] for n in thread_counts}
    full: dict[int, list] = {n: [] for n in thread_counts}
    first_detection = engine.tracker.detections
    for _ in range(repeats):
        for n in thread_counts:
            with torch_threads(n):
                engine.tracker.reset()
                wall, cpu = timed(lambda: [engine.process(f) for f in frames])
                live[n].append((wall / len(frames), cpu / len(frames)))
                wall, cpu = timed(lambda: [predictor(f) for f in subset])
                full[n].append((wall / len(subset), cpu / len(subset)))
    detections = engine.tracker.detections - first_detection
    target = f">= {TARGET_FPS:g} (faceapi_expression, 2 cores)" if name == "faceapi_expression" else "reported"
    rows = []
    for n in thread_counts:
        (live_s, live_cpu), (full_s, full_cpu) = min(live[n]), min(full[n])
        label = f"{name}, 640x480, {n} thread{'s' if n > 1 else ''}"
        rows += [
            row("live", f"{label}: live per-frame path, frames/s", 1.0 / live_s, target),
            row("live", f"{label}: one full Predictor call per frame, frames/s", 1.0 / full_s),
            row("live", f"{label}: speed-up, live path / full Predictor call", full_s / live_s),
            row("live", f"{label}: CPU ms per frame, live path", live_cpu * 1000),
            row("live", f"{label}: CPU ms per frame, full Predictor", full_cpu * 1000),
        ]
    if len(thread_counts) > 1:
        base = min(live[thread_counts[0]])[0]
        for n in thread_counts[1:]:
            rows.append(row("live", f"{name}: live frames/s, {n} threads / {thread_counts[0]}", base / min(live[n])[0]))
    total = len(frames) * repeats * len(thread_counts)
    rows.append(row("live", f"{name}: full detections / frames (all rounds)", detections / total))
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48, help="frames in the clip")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--threads", type=int, nargs="+", default=[DEMO_THREADS],
                        help=f"threads of torch and BLAS, each timed in every round (default: {DEMO_THREADS}, the demo's)")
    parser.add_argument("--models", nargs="*", default=list(DEFAULT_MODELS))
    args = parser.parse_args(argv or [])
    frames = moving_clip(load_image(EXAMPLE), args.frames)
    counts = list(dict.fromkeys(max(1, n) for n in args.threads))
    return [r for name in args.models for r in bench_model(name, frames, max(1, args.repeats), counts)]


if __name__ == "__main__":
    import sys

    print_rows(main(sys.argv[1:]), 6, 70, "10.3f")
