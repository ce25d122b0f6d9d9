"""Print the markdown model table: every registered model, its parameters and FLOPs at its default input.

FLOPs are counted by torch.utils.flop_counter.FlopCounterMode on one image (convolutions, matmuls;
elementwise ops are not counted); 1 multiply-add = 2 FLOPs, so ResNet-50's usual "4.1 G" (MACs)
appears as ~8.2 GFLOPs here.

    python scripts/model_table.py [--family alfj]
"""

from __future__ import annotations

import argparse

import torch
from torch.utils.flop_counter import FlopCounterMode

from fer.models import create_model, list_models, model_entry


def model_row(name: str) -> dict:
    model = create_model(name).eval()
    pp = model.config.preprocess
    x = torch.zeros(1, 1 if pp.grayscale else 3, pp.input_size, pp.input_size)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        out = model(x)
    return {
        "name": name,
        "family": model_entry(name).family,
        "heads": out.head_logits.shape[1],
        "input": pp.input_size,
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
        "gflops": counter.get_total_flops() / 1e9,
        "trained": model.config.trained,
        "description": model_entry(name).description,
    }


def markdown_table(rows: list[dict]) -> str:
    lines = [
        "| model | family | heads | input | params (M) | GFLOPs | trained weights | description |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['name']}` | {r['family']} | {r['heads']} | {r['input']} | {r['params_m']:.2f} | "
            f"{r['gflops']:.2f} | {'yes' if r['trained'] else 'no'} | {r['description']} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--family", default=None, help="only models of this family (alfj, base, ablation, reference)")
    args = p.parse_args()
    print(markdown_table([model_row(n) for n in list_models(args.family)]))


if __name__ == "__main__":
    main()
