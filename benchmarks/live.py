"""Live lab speed: frames/s of the per-frame path (`fer.live.LiveEngine.process`: tracked face,
model, drawing) on a 640×480 sequence of a face moving a little, vs one full `Predictor` call
(detection from scratch + alignment + model) per frame.

Target: >= 10 frames/s for faceapi_expression on 2 cores. The sequence is built from
examples/astronaut.jpg (`fer.live.clip.moving_clip`: a slow circle of 12 px and a slight zoom).
Both paths are timed in interleaved rounds (live pass over the clip, then full calls on the same
frames); each figure is the best round (least disturbed by other processes). On a shared machine
the absolute frames/s move with the load; the ratio is the figure that travels. CPU seconds
per frame (this process, all threads) are printed too: they are much less sensitive to load.
Usage: python benchmarks/live.py [--frames N] [--repeats R] [--threads T] [--models NAME ...]
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


def bench_model(name: str, frames: list, repeats: int, full_every: int = 4) -> list[dict]:
    predictor = Predictor(name)
    engine = LiveEngine(predictor)
    subset = frames[::full_every]
    for f in frames[:3]:  # warm-up: weights, detector, allocator
        engine.process(f)
        predictor(f)
    live, full = [], []
    first_detection = engine.tracker.detections
    for _ in range(repeats):
        engine.tracker.reset()
        wall, cpu = timed(lambda: [engine.process(f) for f in frames])
        live.append((wall / len(frames), cpu / len(frames)))
        wall, cpu = timed(lambda: [predictor(f) for f in subset])
        full.append((wall / len(subset), cpu / len(subset)))
    (live_s, live_cpu), (full_s, full_cpu) = min(live), min(full)
    detections = engine.tracker.detections - first_detection
    label = f"{name}, 640x480"
    target = f">= {TARGET_FPS:g} (faceapi_expression, 2 idle cores)" if name == "faceapi_expression" else "reported"
    return [
        row("live", f"{label}: live per-frame path, frames/s", 1.0 / live_s, target),
        row("live", f"{label}: one full Predictor call per frame, frames/s", 1.0 / full_s),
        row("live", f"{label}: speed-up, live path / full Predictor call", full_s / live_s),
        row("live", f"{label}: CPU ms per frame, live path", live_cpu * 1000),
        row("live", f"{label}: CPU ms per frame, full Predictor", full_cpu * 1000),
        row("live", f"{label}: full detections / frames (all rounds)", detections / (len(frames) * repeats)),
    ]


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48, help="frames in the clip")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (the target is for 2 cores)")
    parser.add_argument("--models", nargs="*", default=list(DEFAULT_MODELS))
    args = parser.parse_args(argv or [])
    frames = moving_clip(load_image(EXAMPLE), args.frames)
    with torch_threads(args.threads):
        return [r for name in args.models for r in bench_model(name, frames, max(1, args.repeats))]


if __name__ == "__main__":
    import sys

    print_rows(main(sys.argv[1:]), 6, 70, "10.3f")
