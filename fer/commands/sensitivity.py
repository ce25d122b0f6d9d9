"""`fer sensitivity IMAGE`: occlusion-sensitivity map of one face (fused decision and each head)."""

from __future__ import annotations

import json
from pathlib import Path

from fer.errors import FERError, InputError

NAME = "sensitivity"
HELP = "occlusion-sensitivity map of one face: slide a patch, map the drop of the predicted class's probability"

INPUT_FILES = ("image",)
OUTPUT_DIRS = ("out",)


def add_arguments(parser) -> None:
    parser.add_argument("image", help="photo (the largest face is used) or, with --aligned, an aligned face crop")
    parser.add_argument("--model", default="faceapi_expression", help="registered model name or checkpoint")
    parser.add_argument("--patch", type=int, default=None, help="patch side in crop pixels (default: crop/7)")
    parser.add_argument("--stride", type=int, default=None, help="patch stride in crop pixels (default: patch/2)")
    parser.add_argument("--fill", default="gray", help="patch fill: gray, black, mean, blur, noise")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--target", help="class to map (default: the fused prediction)")
    parser.add_argument("--aligned", action="store_true", help="the image is already an aligned face crop")
    parser.add_argument("--out", default="sensitivity", help="output folder (default: sensitivity)")


def run(args) -> int:
    import numpy as np
    from PIL import Image

    from fer.io import load_image
    from fer.robustness.sensitivity import FILLS, overlay, sensitivity_map
    from fer.robustness.sources import load_model

    if args.fill not in FILLS:
        raise InputError(f"unknown fill {args.fill!r}; choose one of {', '.join(FILLS)}")
    model = load_model(args.model)
    size = model.config.preprocess.input_size
    rgb = load_image(args.image)
    if args.aligned:
        import cv2

        crop = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
    else:
        from fer.face import align, detect

        faces = detect(rgb, max_faces=1)
        if not faces:
            raise InputError(f"no face found in {args.image}; pass an aligned crop with --aligned")
        crop = align(rgb, faces[0], size=size, face_scale=model.config.preprocess.face_scale).image
    patch = args.patch or max(4, size // 7)
    stride = args.stride or max(1, patch // 2)
    target = None
    if args.target:
        if args.target not in model.config.class_names:
            raise InputError(f"unknown class {args.target!r}; classes: {', '.join(model.config.class_names)}")
        target = model.config.class_names.index(args.target)
    smap = sensitivity_map(model, crop, patch, stride, args.fill, args.batch_size, target_class=target)

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FERError(f"cannot create the output folder {out}: {exc}") from exc
    limit = float(max(1e-6, np.abs(np.concatenate([smap.fused[None], smap.heads])).max()))
    panels = [crop, overlay(crop, smap.fused, limit=limit)] + [overlay(crop, h, limit=limit) for h in smap.heads]
    Image.fromarray(np.concatenate(panels, 1)).save(out / "sensitivity.png")
    doc = {
        "image": str(args.image),
        "model": args.model,
        "trained": bool(model.config.trained),
        "class": smap.class_name,
        "clean_probability": float(smap.clean_probs[smap.class_index]),
        "patch": patch,
        "stride": stride,
        "fill": args.fill,
        "panels": ["crop", "fused"] + [f"head {k}" for k in range(len(smap.heads))],
        "grid_fused": smap.grid_fused.round(5).tolist(),
        "grid_heads": smap.grid_heads.round(5).tolist(),
    }
    (out / "sensitivity.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    where = np.unravel_index(np.argmax(smap.fused), smap.fused.shape)
    print(f"{args.model}: predicts {smap.class_name} (p={doc['clean_probability']:.3f}); largest drop "
          f"{smap.fused.max():.3f} around crop pixel (x={where[1]}, y={where[0]}) with a {patch}px {args.fill} patch")
    if not model.config.trained:
        print("note: this model has no trained weights; the map shows the method only")
    print(f"png: {out / 'sensitivity.png'}\njson: {out / 'sensitivity.json'}")
    return 0
