"""The `--model NAME | --checkpoint PATH` options shared by commands that run one predictor."""

from __future__ import annotations


def add_model_source(parser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", help="registered model name (see `fer models`); default: faceapi_expression")
    source.add_argument("--checkpoint", help="a project checkpoint (.safetensors)")


def model_source(args) -> str:
    """The checkpoint, else the model name (an empty name is kept, so the Predictor refuses it), else the default."""
    from fer.predictor import DEFAULT_MODEL

    return args.checkpoint or (args.model if args.model is not None else DEFAULT_MODEL)
