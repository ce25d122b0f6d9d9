"""A short plain-language account of what an occlusion changed for one face."""

from __future__ import annotations

import numpy as np

from fer.ui.figures import head_titles


def occlusion_summary(
    clean_head_probs: np.ndarray,
    occluded_head_probs: np.ndarray,
    class_names: tuple[str, ...] | list[str],
    occluder: str | None,
    clean_fused: np.ndarray | None = None,
    occluded_fused: np.ndarray | None = None,
) -> str:
    """Markdown: top class and confidence before/after, and which heads changed their vote.

    The fused probabilities default to the mean of the heads' (the paper's fusion); pass the
    model's own when it fuses otherwise (reference models).
    """
    clean = np.asarray(clean_head_probs, float)
    occ = np.asarray(occluded_head_probs, float)
    names = list(class_names)
    c_fused = clean.mean(0) if clean_fused is None else np.asarray(clean_fused, float)
    o_fused = occ.mean(0) if occluded_fused is None else np.asarray(occluded_fused, float)
    c_top, o_top = int(c_fused.argmax()), int(o_fused.argmax())
    regions = head_titles(len(clean))
    if not occluder:
        agree = [regions[k] for k in range(len(occ)) if occ[k].argmax() == o_top]
        text = f"**{names[o_top]}** with {o_fused[o_top]:.0%} confidence (no occluder applied)."
        if len(occ) > 1:
            text += f" {len(agree)} of {len(occ)} region heads vote for it."
        return text
    parts = []
    if c_top == o_top:
        delta = o_fused[o_top] - c_fused[c_top]
        if abs(delta) < 0.005:
            change = f"its confidence stayed at {o_fused[o_top]:.0%}"
        else:
            change = (
                f"its confidence {'rose' if delta > 0 else 'fell'} from {c_fused[c_top]:.0%} to {o_fused[o_top]:.0%}"
            )
        parts.append(f"With **{occluder}**, the prediction stays **{names[o_top]}**; {change}.")
    else:
        parts.append(
            f"With **{occluder}**, the prediction changes from **{names[c_top]}** ({c_fused[c_top]:.0%}) "
            f"to **{names[o_top]}** ({o_fused[o_top]:.0%}); {names[c_top]} is now at {o_fused[c_top]:.0%}."
        )
    if len(occ) > 1:
        flipped = [
            f"{regions[k]} ({names[int(clean[k].argmax())]} → {names[int(occ[k].argmax())]})"
            for k in range(len(occ))
            if clean[k].argmax() != occ[k].argmax()
        ]
        if flipped:
            parts.append(f"Heads that changed their vote: {', '.join(flipped)}.")
        else:
            parts.append("No region head changed its vote.")
        agree = sum(int(occ[k].argmax() == o_top) for k in range(len(occ)))
        parts.append(f"{agree} of {len(occ)} heads now agree with the fused decision.")
    return " ".join(parts)
