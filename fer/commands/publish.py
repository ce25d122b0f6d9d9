"""`fer publish --checkpoint F --out DIR [--eval EVAL_DIR] [--push REPO_ID]`: a Hub model repository folder."""

from __future__ import annotations

NAME = "publish"
HELP = ("write a checkpoint as a Hugging Face Hub model folder (safetensors + model card from `fer evaluate`); "
        "--push uploads it")


def add_arguments(parser) -> None:
    parser.add_argument("--checkpoint", required=True, help="a .safetensors checkpoint (or a published folder)")
    parser.add_argument("--out", required=True, help="the folder to write (new or empty)")
    parser.add_argument(
        "--eval", metavar="EVAL_DIR", help="`fer evaluate --out` folder: figures for the card's model-index"
    )
    parser.add_argument(
        "--push", metavar="REPO_ID", help="upload the folder to this Hub model repo (needs the network and a token)"
    )
    parser.add_argument("--name", help="the model's name in the card (default: the repo name, else model + folder)")
    parser.add_argument("--license", default="mit", help="the card's licence id (default mit)")


def run(args) -> int:
    from fer.hub.folder import summary_of
    from fer.hub.publish import publish, push

    card = publish(
        args.checkpoint, args.out, eval_dir=args.eval, repo_id=args.push, name=args.name, license=args.license
    )
    text = card.read_text(encoding="utf-8")
    print(f"wrote {card.parent}: {summary_of(text.split('---', 2)[2])}")
    if args.push:
        print(f"pushed: {push(card.parent, args.push)}")
    return 0
