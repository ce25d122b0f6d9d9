"""Does the live path give the Analyse tab's answer? `fer.live.LiveEngine` (a full detection every
`detect_every` frames, O-Net re-fits in between) against one full `Predictor` call on every frame of the
same clips, for one model (default faceapi_expression, whose own detector is face-api's).

Clips: each face of the real photos available offline (face-api's demo sample1–6 when its npm package is in
~/.cache/alfj-fer/faceapi-node, the astronaut, insightface's t1.jpg) cut out with a margin and drifted on a
640×480 canvas (`fer.live.clip.moving_clip`: a slow circle of 12 px and a slight zoom). Per frame: the live
top class against the full call's, |Δp|, and the 68-point distance in inter-ocular distances of the full
call's points, over all frames and over the frames without a full detection (the re-fitted ones).

    PYTHONPATH=. python benchmarks/live_agreement.py [--frames 24] [--model faceapi_expression]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def face_crops() -> list[tuple[str, np.ndarray]]:
    """(name, RGB) of every face of the offline photos, cut out with its box grown 2.2× (at least 120 px)."""
    from fer.face import detect
    from fer.io import load_image
    from fer.occlusion.sheet import sample_photos

    demo = Path.home() / ".cache" / "alfj-fer" / "faceapi-node" / "package" / "demo"
    photos = [(p.name, load_image(p)) for p in sorted(demo.glob("sample*.jpg"))] + sample_photos()
    out = []
    for name, rgb in photos:
        for k, f in enumerate(detect(rgb, backend="faceapi_ssd", max_disagreement=None)):
            cx, cy = (f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2
            half = max(60.0, 1.1 * max(f.width, f.height))
            x1, y1 = int(max(0, cx - half)), int(max(0, cy - half))
            x2, y2 = int(min(rgb.shape[1], cx + half)), int(min(rgb.shape[0], cy + half))
            out.append((f"{name}#{k + 1}", np.ascontiguousarray(rgb[y1:y2, x1:x2])))
    return out


def main(argv: list[str] | None = None) -> dict:
    from fer import Predictor
    from fer.face.compare import landmark_error
    from fer.live import LiveEngine
    from fer.live.clip import moving_clip
    from fer.threads import set_threads

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=24, help="frames per clip (default 24)")
    ap.add_argument("--model", default="faceapi_expression")
    ap.add_argument("--per-clip", action="store_true", help="one line per clip")
    args = ap.parse_args(argv)
    set_threads(1)  # the demo's setting
    predictor = Predictor(args.model)
    engine = LiveEngine(predictor, draw=False)
    rows = []  # (re-fitted frame?, same top class, max |dp|, 68-pt error or nan, full call = last frame's?)
    for name, crop in face_crops():
        engine.tracker.reset()
        clip_rows = []
        last = None  # the full call's top class on the previous frame: how steady the reference itself is
        for frame in moving_clip(crop, args.frames):
            before = engine.tracker.detections
            live = engine.process(frame)
            full = predictor(frame)
            if live.face is None or not full:
                continue
            ref = full[0]
            p_full = np.array([ref.probs[c] for c in predictor.class_names])
            err = np.nan
            if live.face.landmarks68 is not None and ref.face.landmarks68 is not None:
                err = landmark_error(live.face.landmarks68, ref.face.landmarks68)
            top = int(np.argmax(p_full))
            clip_rows.append((engine.tracker.detections == before, int(np.argmax(live.probs)) == top,
                              float(np.abs(live.probs - p_full).max()), err, np.nan if last is None else last == top))
            last = top
        rows += clip_rows
        if args.per_clip and clip_rows:
            a = np.array(clip_rows, float)
            print(f"  {name}: top-1 {a[:, 1].mean():.1%}, mean max |dp| {a[:, 2].mean():.4f}, "
                  f"68-pt {np.nanmean(a[:, 3]):.4f} IOD")
    a = np.array(rows, float)
    refit = a[:, 0] == 1
    summary = {}
    for label, sel in (("all frames", np.ones(len(a), bool)), ("re-fitted frames", refit)):
        if sel.any():
            s = a[sel]
            summary[label] = (s[:, 1].mean(), s[:, 2].mean(), np.nanmean(s[:, 3]))
            print(f"{label} ({sel.sum()}): top-1 agreement with the full call {s[:, 1].mean():.1%}, mean max |dp| "
                  f"{s[:, 2].mean():.4f}, 68-point distance mean {np.nanmean(s[:, 3]):.4f} IOD; the full call "
                  f"agrees with itself on the previous frame {np.nanmean(s[:, 4]):.1%}")
    print(f"{args.model}, detector {predictor.detector}, {len(a)} frames")
    return summary


if __name__ == "__main__":
    main()
