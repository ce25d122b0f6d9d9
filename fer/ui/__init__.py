"""The Gradio demo: layout (`layout`), handlers (`callbacks`), the computation (`analysis`),
plotly figures (`figures`), the model picker (`models`).

`build_app(weights=None)` discovers the models and returns the Blocks; `app.py` launches it.
"""

from __future__ import annotations


def build_app(weights: str | None = None, include_untrained: bool = True):
    """(Blocks, ModelBank, default model choice) for the models available now."""
    from fer.ui.layout import build_demo
    from fer.ui.models import ModelBank, default_choice, discover_models

    choices = discover_models(weights, include_untrained=include_untrained)
    default = default_choice(choices)
    bank = ModelBank(choices)
    return build_demo(choices, default, bank), bank, default
