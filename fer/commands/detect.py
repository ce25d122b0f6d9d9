"""`fer detect IMAGE`: find faces and print their boxes, scores and 5 landmarks."""

from __future__ import annotations

import json

NAME = "detect"
HELP = "detect faces in an image and print boxes, scores and 5 landmarks (faces numbered from 1, largest first)"

INPUT_FILES = ("image",)


def add_arguments(parser) -> None:
    from fer.face.detect import BACKENDS, DEFAULT_MIN_SIZE

    parser.add_argument("image", help="path of the photo (JPEG, PNG, WebP, ...)")
    parser.add_argument("--backend", "--detector", dest="backend", choices=BACKENDS, default="auto",
                        help="face detector: insightface when its models are on disk (auto), MTCNN (offline), or "
                        "faceapi_ssd (face-api's own detector, offline; MTCNN's faces when it finds none)")
    parser.add_argument("--min-size", type=float, default=DEFAULT_MIN_SIZE, help="smallest face side in pixels")
    parser.add_argument("--max-faces", type=int, default=None,
                        help="keep at most this many (largest) faces (default: all)")
    parser.add_argument("--json", action="store_true", help="print JSON (with 68 landmarks when known)")


def run(args) -> int:
    from fer.face import detect, resolve_backend
    from fer.face.numbering import face_label
    from fer.io import load_image

    rgb = load_image(args.image)
    faces = detect(rgb, backend=args.backend, min_size=args.min_size, max_faces=args.max_faces)
    # the backend that found the faces: "auto" may have fallen back to MTCNN, and so may face-api's detector
    backend = next((f.detector for f in faces if f.detector), None) or resolve_backend(args.backend)
    if args.json:
        doc = {
            "image": str(args.image),
            "width": int(rgb.shape[1]),
            "height": int(rgb.shape[0]),
            "backend": backend,
            "faces": [
                {
                    "face": i + 1,  # the number a person gives `--face` (1 = the largest)
                    "box": [round(float(v), 2) for v in f.box],
                    "score": round(float(f.score), 5),
                    "landmarks": [[round(float(x), 2), round(float(y), 2)] for x, y in f.landmarks],
                    "landmarks68": None
                    if f.landmarks68 is None
                    else [[round(float(x), 2), round(float(y), 2)] for x, y in f.landmarks68],
                }
                for i, f in enumerate(faces)
            ],
        }
        print(json.dumps(doc, indent=1))
        return 0
    print(f"{args.image}: {rgb.shape[1]}x{rgb.shape[0]}, {len(faces)} face(s), detector {backend}")
    for i, f in enumerate(faces):
        x1, y1, x2, y2 = f.box
        pts = " ".join(f"({x:.0f},{y:.0f})" for x, y in f.landmarks)
        print(f"  {face_label(i)}: box ({x1:.0f},{y1:.0f})-({x2:.0f},{y2:.0f}) {f.width:.0f}x{f.height:.0f} "
              f"score {f.score:.3f}  eyes/nose/mouth {pts}")
    return 0
