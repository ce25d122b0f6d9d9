"""`fer predict IMAGE`: the expression of every face in a photo, with the four region votes."""

from __future__ import annotations

import json

from fer.commands._model_source import add_photo_model, model_source, resolve_device

NAME = "predict"
HELP = "predict the expression of each face in an image (fused prediction and the four region heads)"

INPUT_FILES = ("image",)


def add_arguments(parser) -> None:
    add_photo_model(parser, "photo file (JPEG, PNG, ...)")
    parser.add_argument("--max-faces", type=int, default=None, help="only the N largest faces (default: every face)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args) -> int:
    from fer.face.numbering import face_label
    from fer.predictor import Predictor

    predictor = Predictor(
        model_source(args),
        detector=args.detector,
        device=resolve_device(args.device),
        max_faces=args.max_faces,
    )
    predictions = predictor(args.image)
    if args.json:
        print(json.dumps({
            "image": str(args.image),
            "model": predictor.config.name,
            "trained": predictor.trained,
            "warning": predictor.warning,
            "provenance": predictor.provenance,
            "faces": [{"face": i + 1, **p.to_dict()} for i, p in enumerate(predictions)],  # numbered from 1
        }, indent=2))  # fmt: skip
        return 0
    print(f"model: {predictor.config.name} ({'trained' if predictor.trained else 'UNTRAINED'})")
    print(f"provenance: {predictor.provenance}")
    if not predictions:
        print(f"no face found in {args.image}")
        return 0
    for i, p in enumerate(predictions):
        x1, y1, x2, y2 = (round(float(v)) for v in p.box)
        print(f"{face_label(i)} at ({x1}, {y1})-({x2}, {y2}): {p.label} {p.confidence:.3f}  [{p.fusion}]")
        top = sorted(p.probs.items(), key=lambda kv: -kv[1])[:3]
        print("  top classes: " + ", ".join(f"{k} {v:.3f}" for k, v in top))
        for region, probs in zip(p.region_names, p.head_probs):
            label = max(probs, key=probs.get)
            print(f"  {region:>12s} head: {label} {probs[label]:.3f}")
    return 0
