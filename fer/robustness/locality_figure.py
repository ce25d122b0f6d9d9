"""Plotly heatmap of a cross-talk matrix (`fer.robustness.locality`), for reports and the demo.

Takes the JSON form (`LocalityResult.to_dict()`), so a saved report can be drawn again without a model.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

from fer.errors import InputError


def _cell(v) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def describe(doc: dict) -> str:
    """One sentence on what the matrix says (for captions and the printed summary)."""
    if not doc.get("applies", True):
        return ("One-head model: locality does not apply; the column is how much its decision changes when each "
                "quadrant is hidden.")
    ratio = doc.get("offdiag_over_diag")
    if ratio is None:
        return "No head's probabilities changed when a region was hidden, so locality cannot be told here."
    verdict = ("local (a head reacts almost only to its own region)" if ratio < 0.1 else
               "partly local" if ratio < 0.5 else "not local (hiding one region moves the other heads too)")
    return (f"Row = region hidden with grey, column = head, cell = how much that head's probabilities change "
            f"(0-1): a local model has a bright diagonal and a dark rest; here off-diagonal ÷ diagonal = "
            f"{ratio:.2f}, {verdict}.")


def crosstalk_figure(doc: dict, title: str = "Cross-talk", height: int = 300) -> go.Figure:
    """Heatmap of `doc["crosstalk"]` (rows: hidden region, columns: heads), locality index in the column titles."""
    try:
        matrix = [[float(v) for v in row] for row in doc["crosstalk"]]
        rows, columns = list(doc["rows"]), list(doc["columns"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"not a locality result (fer.robustness.locality to_dict()): {exc!r}") from None
    if len(matrix) != len(rows) or any(len(r) != len(columns) for r in matrix):
        raise InputError(f"cross-talk matrix of shape {len(matrix)}x{len(matrix[0]) if matrix else 0} does not match "
                         f"{len(rows)} rows and {len(columns)} columns")
    index = list(doc.get("locality") or [None] * len(columns))
    x = [f"{c}<br>L={_cell(v)}" if doc.get("applies", True) else c for c, v in zip(columns, index)]
    fig = go.Figure(go.Heatmap(
        z=matrix, x=x, y=[f"hide {r}" for r in rows], zmin=0, zmax=max(1e-6, max(max(r) for r in matrix)),
        colorscale="Viridis", text=[[f"{v:.3f}" for v in r] for r in matrix], texttemplate="%{text}",
        colorbar={"title": "change"},
        hovertemplate="%{y}, head %{x}: mean change %{z:.3f}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title={"text": html.escape(title), "x": 0.01, "font_size": 13}, height=height,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, template="plotly_white")
    return fig
