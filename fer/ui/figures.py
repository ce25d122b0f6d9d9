"""Plotly figure of the demo's region-head votes (the sweep figure comes from `fer.robustness`).

Figures take plain arrays and class names (no Gradio, no model), so they are easy to test.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from fer.regions import head_names

AGREE = "#1a9850"  # green: the head's own top class equals the fused decision
DISAGREE = "#d73027"  # red: the head votes for another class
MUTED = "#b8c2cc"  # other classes / the clean reference
FUSED = "#3b5bdb"


def head_titles(num_heads: int) -> list[str]:
    return list(head_names(num_heads))


def votes_figure(
    head_probs: np.ndarray,
    class_names: tuple[str, ...] | list[str],
    clean_head_probs: np.ndarray | None = None,
    title: str = "Region votes",
    fused_probs: np.ndarray | None = None,
) -> go.Figure:
    """Each head's class probabilities, laid out as on the face (2×2: TL TR / BL BR).

    The bar of the fused decision's class is coloured green in a head that agrees with the fused
    decision (its own argmax is the same class) and red in one that does not; a head's panel
    title says which class it votes for. `clean_head_probs`, when given, are drawn as hollow
    markers so the change caused by the occlusion is visible bar by bar. `fused_probs`: the
    model's fused probabilities when its fusion rule is not the mean of the heads (reference models).
    """
    head_probs = np.asarray(head_probs, dtype=float)
    num_heads, num_classes = head_probs.shape
    names = list(class_names)
    fused = int(np.argmax(head_probs.mean(0) if fused_probs is None else fused_probs))
    rows, cols = (2, 2) if num_heads == 4 else (1, num_heads)
    titles = []
    for k, region in enumerate(head_titles(num_heads)):
        vote = int(head_probs[k].argmax())
        mark = "✓ agrees" if vote == fused else "✗ disagrees"
        titles.append(f"<b>{region}</b>: {names[vote]} {head_probs[k, vote]:.0%} · {mark}")
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.2, vertical_spacing=0.16)
    for k in range(num_heads):
        r, c = divmod(k, cols)
        vote = int(head_probs[k].argmax())
        colour = AGREE if vote == fused else DISAGREE
        colours = [colour if j == vote else (FUSED if j == fused else MUTED) for j in range(num_classes)]
        fig.add_trace(
            go.Bar(
                x=head_probs[k],
                y=names,
                orientation="h",
                marker_color=colours,
                name="occluded" if clean_head_probs is not None else "probability",
                showlegend=False,
                hovertemplate="%{y}: %{x:.1%}<extra>" + head_titles(num_heads)[k] + "</extra>",
            ),
            row=r + 1,
            col=c + 1,
        )
        if clean_head_probs is not None:
            fig.add_trace(
                go.Scatter(
                    x=np.asarray(clean_head_probs, float)[k],
                    y=names,
                    mode="markers",
                    marker={"symbol": "line-ns-open", "size": 14, "color": "#222", "line": {"width": 2}},
                    name="without occlusion",
                    showlegend=k == 0,
                    hovertemplate="%{y} without occlusion: %{x:.1%}<extra></extra>",
                ),
                row=r + 1,
                col=c + 1,
            )
        fig.update_xaxes(range=[0, 1], tickformat=".0%", row=r + 1, col=c + 1)
        fig.update_yaxes(autorange="reversed", row=r + 1, col=c + 1)
    fig.update_annotations(font_size=12)
    fig.update_layout(
        title={"text": f"{title} — fused decision: <b>{names[fused]}</b>", "x": 0.01, "font_size": 14},
        height=460 if rows == 2 else 260,
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        legend={"orientation": "h", "y": -0.08, "x": 0.0},
        template="plotly_white",
        bargap=0.25,
    )
    return fig
