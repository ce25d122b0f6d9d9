"""`fer locality`: the cross-talk matrix, locality index and CAM share of a model's heads on a data set."""

from __future__ import annotations

import json

from fer.commands._model_source import add_device, add_model_source, model_source, resolve_device
from fer.errors import InputError

NAME = "locality"
HELP = "is each head local? cross-talk matrix (hide region j, change of head k), locality index, CAM share"


def add_arguments(parser) -> None:
    add_model_source(parser)
    parser.add_argument("--data", required=True, metavar="NAME[:ROOT]",
                        help="synthfer (synthetic), rafdb, ferplus, fedro, folder or csv; ROOT may follow a colon")
    parser.add_argument("--split", default="test", help="data set split (default: test)")
    parser.add_argument("--limit", type=int, default=64, help="number of faces (default 64)")
    parser.add_argument(
        "--cam-limit", type=int, default=8, help="faces that get Grad-CAM++ for the CAM share (0: skip)"
    )
    parser.add_argument("--batch-size", type=int, default=32, help="faces per forward pass")
    parser.add_argument("--seed", type=int, default=0, help="SynthFER seed")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON to FILE (default: print only)")
    add_device(parser)


def run(args) -> int:
    from fer.atomic import atomic_write_bytes
    from fer.robustness.locality import crosstalk
    from fer.robustness.sources import dataset_samples, load_model, synthfer_samples

    if args.limit < 1 or args.batch_size < 1 or args.cam_limit < 0:
        raise InputError("--limit and --batch-size must be at least 1, --cam-limit at least 0")
    name, _, root = args.data.partition(":")
    if not name:
        raise InputError("--data needs a data set name, e.g. synthfer or rafdb:ROOT")
    model = load_model(model_source(args), resolve_device(args.device))
    size = int(model.config.preprocess.input_size)
    if name.lower() == "synthfer":
        samples = synthfer_samples(args.split, args.limit, size, args.seed)
    else:
        from fer.data import open_dataset

        samples = dataset_samples(open_dataset(name, split=args.split, root=root or None), size, args.limit)
    if len(samples) == 0:
        raise InputError(f"the data set {args.data} has no faces in split {args.split!r}")
    result = crosstalk(model, samples.crops, batch_size=args.batch_size, cam_limit=args.cam_limit)
    doc = result.to_dict()
    doc["data"] = samples.source
    trained = "trained" if model.config.trained else "UNTRAINED (random weights: the numbers show the method only)"
    print(f"locality of {model.config.name} ({trained}) on {result.n} faces of {samples.source}")
    print(
        f"cross-talk: mean total-variation change of each head's probabilities when a region is hidden ({result.fill})"
    )
    if not result.applies:
        print("one-head model: locality does not apply (one column: the change when each quadrant is hidden)")
    print(result.table())
    if args.json:
        try:
            path = atomic_write_bytes(args.json, (json.dumps(doc, indent=1) + "\n").encode())
        except OSError as exc:
            raise InputError(f"cannot write {args.json}: {exc}") from exc
        print(f"json: {path}")
    return 0
