"""`fer sensitivity IMAGE`: occlusion-sensitivity map of one face (fused decision and each head)."""

from __future__ import annotations

import json
from pathlib import Path

from fer.commands._model_source import add_photo_model, model_source, resolve_device
from fer.errors import FERError, InputError

NAME = "sensitivity"
HELP = "occlusion-sensitivity map of one face: slide a patch, map the drop of the predicted class's probability"

INPUT_FILES = ("image",)
OUTPUT_DIRS = ("out",)


def add_arguments(parser) -> None:
    add_photo_model(parser, "photo (one face of it: --face) or, with --aligned, an aligned face crop")
    parser.add_argument("--face", default=1, help="which face of the photo: numbered from 1, largest first")
    parser.add_argument("--patch", type=int, default=None, help="patch side in crop pixels (default: crop/7)")
    parser.add_argument("--stride", type=int, default=None, help="patch stride in crop pixels (default: patch/2)")
    parser.add_argument("--fill", default="gray", help="patch fill: gray, black, mean, blur or noise")
    parser.add_argument("--batch-size", type=int, default=32, help="patched copies per forward pass")
    parser.add_argument("--target", help="class to map (default: the fused prediction)")
    parser.add_argument("--aligned", action="store_true", help="the image is already an aligned face crop")
    parser.add_argument("--out", default="outputs/sensitivity", help="output folder (created if missing)")


def run(args) -> int:
    from PIL import Image

    from fer.face.crop import describe_config
    from fer.face.numbering import face_label, parse_face_number, pick_face
    from fer.io import load_image
    from fer.regions import head_names
    from fer.robustness.sensitivity import FILLS, NEGLIGIBLE_DROP, largest_drop, sensitivity_map
    from fer.robustness.sensitivity_figure import sensitivity_figure
    from fer.robustness.sources import load_model

    if args.fill not in FILLS:
        raise InputError(f"unknown fill {args.fill!r}; choose one of {', '.join(FILLS)}")
    parse_face_number(args.face, "--face")
    spec = model_source(args)
    model = load_model(spec, resolve_device(args.device))
    size = model.config.preprocess.input_size
    rgb = load_image(args.image)
    if args.aligned:
        import cv2

        crop = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
    else:
        from fer.face import detect
        from fer.face.crop import cut_for, detector_for

        faces = detect(rgb, backend=detector_for(model.config, args.detector))  # "auto": the model's own
        if not faces:
            raise InputError(f"no face found in {args.image}; pass an aligned crop with --aligned")
        index, face = pick_face(faces, args.face, "--face")
        crop = cut_for(rgb, face, model.config).image  # the model's own crop recipe
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
    which = "the aligned crop" if args.aligned else face_label(index)
    trained = "" if model.config.trained else " (UNTRAINED: the map shows the method only)"
    heading = f"{model.config.name}{trained}: occlusion sensitivity of {which} of {Path(args.image).name}"
    Image.fromarray(sensitivity_figure(crop, smap, heading)).save(out / "sensitivity.png")
    drop, where = largest_drop(smap.fused)
    doc = {
        "image": str(args.image),
        "face": None if args.aligned else index + 1,
        "model": spec,
        "trained": bool(model.config.trained),
        "crop": "given (--aligned), resized" if args.aligned else describe_config(model.config),
        "class": smap.class_name,
        "clean_probability": float(smap.clean_probs[smap.class_index]),
        "patch": patch,
        "stride": stride,
        "fill": args.fill,
        "panels": ["crop", "fused"] + [f"head {name}" for name in head_names(len(smap.heads))],
        "largest_drop": round(drop, 5),
        "largest_drop_at": None if where is None else {"x": where[0], "y": where[1]},
        "negligible_drop": NEGLIGIBLE_DROP,
        "grid_fused": smap.grid_fused.round(5).tolist(),
        "grid_heads": smap.grid_heads.round(5).tolist(),
    }
    (out / "sensitivity.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    said = f"{spec}, {which}: predicts {smap.class_name} (p={doc['clean_probability']:.3f}); "
    if where is None:
        print(said + f"no clear drop: the map's largest drop ({drop:+.3f}) is under {NEGLIGIBLE_DROP}, "
              f"so no {patch}px {args.fill} patch hides clear evidence")
    else:
        print(said + f"largest drop {drop:.3f} around crop pixel (x={where[0]}, y={where[1]}) "
              f"with a {patch}px {args.fill} patch")
    if not model.config.trained:
        print("note: this model has no trained weights; the map shows the method only")
    print(f"png: {out / 'sensitivity.png'}\njson: {out / 'sensitivity.json'}")
    return 0
