"""Options shared by the commands that run models: `--model NAME | --checkpoint PATH`, `--detector`, `--device`.

One `--device` rule for every command: "auto" (the default) is the first CUDA GPU when torch sees one,
else the CPU; any other value is a torch device (cpu, cuda, cuda:1), checked by `fer.commands._checks`.
"""

from __future__ import annotations

AUTO_DEVICE = "auto"
DEVICE_HELP = "torch device: cpu, cuda, cuda:1, ... or auto = cuda when a GPU is available, else cpu"


def add_model_source(parser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", help="registered model name (see `fer models`); default: faceapi_expression")
    source.add_argument("--checkpoint", help="a project checkpoint (.safetensors) or a published model folder "
                        "(instead of --model)")


def add_photo_model(parser, image_help: str) -> None:
    """The options of a command that runs a model on the faces of one photo: IMAGE, the model, detector, device."""
    parser.add_argument("image", help=image_help)
    add_model_source(parser)
    add_detector(parser)
    add_device(parser)


def model_source(args) -> str:
    """The checkpoint, else the model name (an empty name is kept, so the Predictor refuses it), else the default."""
    from fer.predictor import DEFAULT_MODEL

    return args.checkpoint or (args.model if args.model is not None else DEFAULT_MODEL)


def add_detector(parser) -> None:
    parser.add_argument("--detector", default="auto",
                        help="face detector: auto (the model's own where its crop recipe names one, as face-api's "
                        "does; else insightface when its models are on disk, else mtcnn), mtcnn (offline), "
                        "faceapi_ssd (face-api's detector, offline) or insightface")


def add_device(parser, what: str = "the model") -> None:
    parser.add_argument("--device", default=AUTO_DEVICE, help=f"where {what} runs; {DEVICE_HELP}")


def resolve_device(value: str | None) -> str:
    """The one `--device` rule: None or "auto" -> "cuda" when torch sees a GPU, else "cpu"; others unchanged."""
    if value is None or str(value).strip().lower() == AUTO_DEVICE:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(value)
