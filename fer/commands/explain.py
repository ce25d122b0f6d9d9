"""`fer explain IMAGE --out DIR`: Grad-CAM++ overlays of the fused decision and of each region head."""

from __future__ import annotations

import json
from pathlib import Path

from fer.commands._model_source import add_photo_model, model_source, resolve_device

NAME = "explain"
HELP = "write Grad-CAM++ overlays (fused decision and each region head) for every face in an image"

INPUT_FILES = ("image",)
OUTPUT_DIRS = ("out",)


def add_arguments(parser) -> None:
    add_photo_model(parser, "photo file (JPEG, PNG, ...), or an aligned face crop with --aligned")
    parser.add_argument("--out", required=True, help="folder for the PNG overlays (created if missing)")
    parser.add_argument("--target", default=None, help="class to explain (name or index); default: the prediction")
    parser.add_argument(
        "--head-target", choices=("fused", "own"), default="fused",
        help="what each head's map explains: the fused class or the head's own top class (its vote)",
    )  # fmt: skip
    parser.add_argument(
        "--layer", choices=("local", "shared"), default="local",
        help="head maps at each head's own region features (local) or at the shared map before the split",
    )  # fmt: skip
    parser.add_argument("--aligned", action="store_true", help="IMAGE is already an aligned face crop: no detection")
    parser.add_argument("--max-faces", type=int, default=None, help="only the N largest faces (default: every face)")


def _save(path: Path, rgb) -> str:
    from PIL import Image

    Image.fromarray(rgb).save(path)
    return str(path)


def _write_face(out: Path, stem: str, expl, photo=None) -> list[str]:
    from fer.explain import fused_overlay, head_overlay, montage, photo_overlay

    written = [_save(out / f"{stem}_fused.png", fused_overlay(expl))]
    for k, name in enumerate(expl.head_names):
        written.append(_save(out / f"{stem}_head{k}_{name.replace(' ', '-')}.png", head_overlay(expl, k)))
    written.append(_save(out / f"{stem}_montage.png", montage(expl)))
    if photo is not None:
        written.append(_save(out / f"{stem}_photo_fused.png", photo_overlay(photo, expl)))
    return written


def run(args) -> int:
    from fer.errors import InputError
    from fer.explain import explain, panel_titles
    from fer.face.numbering import face_file_tag, face_label
    from fer.io import load_image
    from fer.predictor import Predictor

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    predictor = Predictor(
        model_source(args), detector=args.detector, device=resolve_device(args.device),
        max_faces=args.max_faces,
    )  # fmt: skip
    photo = load_image(args.image)
    if args.aligned:
        faces = [(None, photo)]
    else:
        faces = [(p, p.aligned) for p in predictor(photo)]
        if not faces:
            print(f"no face found in {args.image}; nothing written (use --aligned for a face crop)")
            return 0
    out.mkdir(parents=True, exist_ok=True)
    summary = []
    for i, (prediction, face) in enumerate(faces):
        expl = explain(predictor.model, face, target=args.target, head_target=args.head_target, layer=args.layer)
        files = _write_face(out, face_file_tag(i), expl, None if args.aligned else photo)
        summary.append({
            "face": i + 1,  # numbered from 1, largest first
            "box": None if prediction is None else [round(float(v), 1) for v in prediction.box],
            "explained_class": expl.fused_label,
            "head_classes": dict(zip(expl.head_names, expl.head_labels)),  # what each head's map explains
            "head_votes": dict(zip(expl.head_names, (expl.class_names[int(c)] for c in expl.head_probs.argmax(1)))),
            "panels": panel_titles(expl),
            "layer": expl.layer,
            "files": files,
        })  # fmt: skip
        print(f"{face_label(i)}: {len(files)} PNGs in {out} ({expl.layer} layer for the head maps)")
        for title in panel_titles(expl):
            print(f"  {title}")
    (out / "explain.json").write_text(json.dumps({
        "image": str(args.image), "model": predictor.config.name, "trained": predictor.trained,
        "warning": predictor.warning, "faces": summary,
    }, indent=2))  # fmt: skip
    return 0
