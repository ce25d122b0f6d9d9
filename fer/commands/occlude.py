"""`fer occlude IMAGE --kind K`: draw a synthetic occluder on the largest face of a photo."""

from __future__ import annotations

from fer.commands._checks import IMAGE_SUFFIXES

NAME = "occlude"
HELP = "draw a synthetic occluder (mask, sunglasses, hand, ...) on a face (--face, 1 = the largest); --list shows them"


INPUT_FILES = ("image",)
OUTPUT_FILES = {"out": IMAGE_SUFFIXES, "mask_out": IMAGE_SUFFIXES, "contact_sheet": IMAGE_SUFFIXES}


def add_arguments(parser) -> None:
    parser.add_argument("image", nargs="?", help="path of the photo")
    parser.add_argument("--kind", help="occluder name (see --list); needed unless --list or --contact-sheet")
    parser.add_argument("--severity", type=float, default=0.5, help="0..1: size / coverage (default 0.5)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same pixels)")
    parser.add_argument("--out", help="output image path (default: <image>_<kind>.png)")
    parser.add_argument("--mask-out", help="also write the coverage mask as a grey PNG")
    parser.add_argument("--face", default=1, help="which face: numbered from 1, largest first (default 1)")
    parser.add_argument("--list", action="store_true", help="list the occluders and what severity does")
    parser.add_argument("--contact-sheet", metavar="OUT.png",
                        help="write a sheet of every occluder on the sample photos (or on IMAGE when given)")


def run(args) -> int:
    from pathlib import Path

    import numpy as np

    from fer.commands._checks import check_output_file, write_image
    from fer.errors import InputError
    from fer.occlusion import apply, list_occluders, occluder_info

    if args.list:
        for k in list_occluders():
            info = occluder_info(k)
            params = ", ".join(f"{p}={v!r}" for p, v in info.params.items() if p not in ("mask", "texture"))
            print(f"{k:15s} {info.family:9s} {info.description}")
            print(f"{'':25s} severity: {info.severity}" + (f"; params: {params}" if params else ""))
        return 0
    from fer.io import load_image

    if args.contact_sheet:
        from fer.occlusion.sheet import save_contact_sheet

        photos = None
        if args.image:
            photos = [(Path(args.image).stem, load_image(args.image))]
        path = save_contact_sheet(args.contact_sheet, photos=photos, severity=args.severity, seed=args.seed)
        print(f"wrote {path}")
        return 0
    if not args.image or not args.kind:
        raise InputError("give an IMAGE and --kind (or --list / --contact-sheet OUT.png)")
    if args.kind == "user":
        raise InputError("the 'user' occluder needs a drawn mask: use the Python API or the demo")
    from fer.face import detect
    from fer.face.numbering import parse_face_number, pick_face

    parse_face_number(args.face, "--face")  # a bad number fails before the detector runs

    dest = check_output_file(args.out or f"{Path(args.image).with_suffix('')}_{args.kind}.png", "--out")
    rgb = load_image(args.image)
    faces = detect(rgb)
    if not faces:
        raise InputError(f"no face found in {args.image}")
    _, face = pick_face(faces, args.face, "--face")
    out = apply(rgb, face, args.kind, severity=args.severity, seed=args.seed)
    write_image(dest, out.image, "--out")
    if args.mask_out:
        write_image(args.mask_out, (out.mask * 255).astype(np.uint8), "--mask-out")
    print(
        f"wrote {dest} ({args.kind}, severity {args.severity}, "
        f"{100 * float(out.mask.mean()):.1f}% of the image covered)"
    )
    return 0
