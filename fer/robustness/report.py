"""Sweep reports: a tidy CSV, a JSON document, and one self-contained plotly HTML page.

The HTML embeds plotly.js (no network needed to open it) and holds: a heatmap of the fused
accuracy drop per occluder x severity (one panel per model), per-head accuracy bars at the
highest severity, accuracy-vs-severity curves, a model-vs-model comparison, and (when the sweep
result carries it) each model's cross-talk heatmap from `fer.robustness.locality`.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from fer.errors import FERError

_HEAD_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def _all_rows(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r.get("class") == "all"]


def _fieldnames(rows: list[dict]) -> list[str]:
    names: list[str] = []
    for r in rows:
        names += [k for k in r if k not in names]
    return names


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=_fieldnames(rows))
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: str | Path) -> list[dict]:
    """Rows of a written CSV, numbers converted back to float (empty cells dropped)."""
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for raw in csv.DictReader(fh):
            row = {}
            for k, v in raw.items():
                if v == "":
                    continue
                try:
                    row[k] = float(v) if k not in ("model", "occluder", "class") else v
                except ValueError:
                    row[k] = v
            out.append(row)
    return out


def read_report_json(path: str | Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FERError(f"cannot read robustness report {path}: {exc}") from exc


def _occluders(rows: list[dict]) -> list[str]:
    seen: list[str] = []
    for r in rows:
        if r["occluder"] != "clean" and r["occluder"] not in seen:
            seen.append(r["occluder"])
    return seen


def _severities(rows: list[dict]) -> list[float]:
    return sorted({float(r["severity"]) for r in rows if r["occluder"] != "clean"})


def heatmap_figure(rows: list[dict], metric: str = "drop") -> go.Figure:
    rows = _all_rows(rows)
    models = list(dict.fromkeys(r["model"] for r in rows))
    occ, sev = _occluders(rows), _severities(rows)
    fig = make_subplots(rows=1, cols=len(models), subplot_titles=models, shared_yaxes=True)
    zmax = max([abs(r.get(metric, 0.0)) for r in rows] + [1e-6])
    for i, m in enumerate(models, 1):
        cell = {(r["occluder"], float(r["severity"])): r.get(metric) for r in rows if r["model"] == m}
        z = [[cell.get((o, s)) for s in sev] for o in occ]
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=[f"{s:g}" for s in sev],
                y=occ,
                zmin=-zmax,
                zmax=zmax,
                colorscale="RdBu_r",
                showscale=i == len(models),
                text=[[("" if v is None else f"{v:+.2f}") for v in line] for line in z],
                texttemplate="%{text}",
                hovertemplate="%{y} @ %{x}: %{z:.3f}<extra>" + html.escape(m) + "</extra>",
            ),
            row=1,
            col=i,
        )
        fig.update_xaxes(title_text="severity", row=1, col=i)
    fig.update_layout(
        title=f"Fused accuracy {metric} vs clean (occluder x severity)", height=max(350, 28 * len(occ) + 150)
    )
    return fig


def head_bars_figure(rows: list[dict], heads: dict[str, list[str]]) -> go.Figure:
    rows = _all_rows(rows)
    models = list(dict.fromkeys(r["model"] for r in rows))
    occ, sev = _occluders(rows), _severities(rows)
    top = sev[-1] if sev else 0.0
    fig = make_subplots(
        rows=len(models), cols=1, subplot_titles=[f"{m}: accuracy per head at severity {top:g}" for m in models]
    )
    for i, m in enumerate(models, 1):
        pick = {
            r["occluder"]: r
            for r in rows
            if r["model"] == m and (r["occluder"] == "clean" or float(r["severity"]) == top)
        }
        x = ["clean"] + occ
        for k, h in enumerate(heads.get(m, []) + ["fused"]):
            key = "acc" if h == "fused" else f"acc_{h}"
            colour = "#444444" if h == "fused" else _HEAD_COLOURS[k % len(_HEAD_COLOURS)]
            fig.add_trace(
                go.Bar(name=h, x=x, y=[pick.get(o, {}).get(key) for o in x], legendgroup=h, showlegend=i == 1,
                       marker_color=colour),
                row=i,
                col=1,
            )
    fig.update_layout(barmode="group", height=320 * len(models) + 80, yaxis_title="accuracy")
    return fig


def curves_figure(rows: list[dict]) -> go.Figure:
    rows = _all_rows(rows)
    models = list(dict.fromkeys(r["model"] for r in rows))
    fig = go.Figure()
    dashes = ["solid", "dash", "dot", "dashdot", "longdash"]
    for mi, m in enumerate(models):
        clean = next((r["acc"] for r in rows if r["model"] == m and r["occluder"] == "clean"), None)
        for o in _occluders(rows):
            pts = sorted((float(r["severity"]), r["acc"]) for r in rows if r["model"] == m and r["occluder"] == o)
            fig.add_trace(
                go.Scatter(
                    x=[0.0] + [p[0] for p in pts],
                    y=[clean] + [p[1] for p in pts],
                    mode="lines+markers",
                    name=f"{m} / {o}" if len(models) > 1 else o,
                    line={"dash": dashes[mi % len(dashes)]},
                )
            )
    fig.update_layout(title="Fused accuracy vs severity", xaxis_title="severity", yaxis_title="accuracy", height=480)
    return fig


def models_figure(rows: list[dict]) -> go.Figure:
    rows = _all_rows(rows)
    models = list(dict.fromkeys(r["model"] for r in rows))
    x = ["clean"] + _occluders(rows)
    fig = go.Figure()
    for m in models:
        ys = []
        for o in x:
            accs = [r["acc"] for r in rows if r["model"] == m and r["occluder"] == o and "acc" in r]
            ys.append(sum(accs) / len(accs) if accs else None)
        fig.add_trace(go.Bar(name=m, x=x, y=ys))
    fig.update_layout(
        title="Model vs model: fused accuracy per occluder (mean over severities)",
        barmode="group",
        yaxis_title="accuracy",
        height=420,
    )
    return fig


def face_sweep_figure(rows: list[dict], clean_class: str) -> go.Figure:
    """One face: probability of the clean prediction's class per occluder x severity."""
    occ = _occluders(rows)
    sev = _severities(rows)
    cell = {(r["occluder"], float(r["severity"])): r for r in rows}
    z = [[cell[(o, s)]["clean_class_prob"] if (o, s) in cell else None for s in sev] for o in occ]
    text = [[cell[(o, s)]["prediction"] if (o, s) in cell else "" for s in sev] for o in occ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{s:g}" for s in sev],
            y=occ,
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            text=text,
            texttemplate="%{text}",
            hovertemplate="%{y} @ %{x}: p=%{z:.2f}, predicts %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Probability of '{clean_class}' (the clean prediction) under each occluder; cell text = new prediction",
        xaxis_title="severity",
        height=max(320, 28 * len(occ) + 140),
    )
    return fig


def _table_html(rows: list[dict]) -> str:
    rows = _all_rows(rows)
    cols = ["model", "occluder", "severity", "n", "acc", "drop", "flip_rate", "head_agreement", "confidence_change"]
    head = "".join(f"<th>{c}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            cells.append(
                f"<td>{v:.3f}</td>" if isinstance(v, float) and c != "severity" else f"<td>{html.escape(str(v))}</td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _locality_html(locality: dict[str, dict]) -> str:
    """The report's locality section: one cross-talk heatmap per model, each with its one-sentence reading."""
    from fer.robustness.locality_figure import crosstalk_figure, describe

    if not locality:
        return ""
    parts = ["<h2>Locality of the heads</h2><p>Each model's cross-talk on the first clean faces "
             "(fer.robustness.locality; L = locality index, the share of a head's change that comes from its own "
             "region; see docs/locality.md).</p>"]
    for model, doc in locality.items():
        fig = crosstalk_figure(doc, f"{model}: cross-talk on {doc.get('n', '?')} faces")
        parts.append(f"<div>{fig.to_html(full_html=False, include_plotlyjs=False)}</div>"
                     f"<p>{html.escape(describe(doc))}</p>")
    return "".join(parts)


def write_html(rows: list[dict], meta: dict, path: Path, locality: dict[str, dict] | None = None) -> None:
    figs = [
        heatmap_figure(rows),
        head_bars_figure(rows, meta.get("heads", {})),
        curves_figure(rows),
        models_figure(rows),
    ]
    parts = [f.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figs)]
    untrained = [m for m, t in meta.get("trained", {}).items() if not t]
    warn = (
        f"<p class='warn'>Not trained on expression data: {html.escape(', '.join(untrained))}. "
        "Their numbers show the method, not a real model's robustness.</p>"
        if untrained
        else ""
    )
    info = html.escape(
        f"data: {meta.get('data', '')} · {meta.get('num_samples', '?')} images · labels: {meta.get('labels', '')} "
        f"· crop {meta.get('crop_size', '?')} px"
    )
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Occlusion robustness report</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:2px 6px}.warn{color:#a00}</style></head><body>"
        f"<h1>Occlusion robustness report</h1><p>{info}</p>{warn}"
        + "".join(f"<div>{p}</div>" for p in parts)
        + _locality_html(locality or {})
        + "<h2>All conditions</h2>"
        + _table_html(rows)
        + "</body></html>"
    )
    path.write_text(page, encoding="utf-8")


def write_reports(result, out_dir: str | Path, stem: str = "robustness") -> dict[str, Path]:
    """Write `<stem>.csv`, `<stem>.json`, `<stem>.html` into `out_dir`; returns their paths."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FERError(f"cannot create the output folder {out}: {exc}") from exc
    paths = {"csv": out / f"{stem}.csv", "json": out / f"{stem}.json", "html": out / f"{stem}.html"}
    write_csv(result.rows, paths["csv"])
    locality = result.locality  # model name -> fer.robustness.locality's to_dict(), empty without --locality-limit
    doc = {"meta": result.meta, "timings": result.timings, "rows": result.rows}
    if locality:
        doc["locality"] = locality
    paths["json"].write_text(json.dumps(doc, indent=1), encoding="utf-8")
    write_html(result.rows, result.meta, paths["html"], locality)
    return paths
