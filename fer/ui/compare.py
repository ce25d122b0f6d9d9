"""Two models side by side on the same (occluded) face: the library logic behind the demo's comparison.

No Gradio here. `compare_models()` finds the faces once, puts the occluder on the photo once (placed
from the picked face's landmarks, as `fer.ui.analysis.analyse` does), and then lets each model cut its
own crop from the same clean and occluded photo (`Predictor.predict_face`: its own crop recipe, input
size and colour), predict it and explain it (Grad-CAM++). Heads are matched by their region name
(`fer.regions`: four regions, or one "whole-face" head) and classes by name, so a one-head model, or a
model with another class order or class set, compares with a four-head one. The UI only renders the
`ModelComparison` (`table()`, `summary()`, `to_dict()`).

    result = compare_models(photo, Predictor("faceapi_expression"), Predictor("mini_xception_fer2013"),
                            0, OcclusionRequest("surgical_mask", 0.6))
    result.table()      # head, A vote, A P(vote), B vote, B P(vote), change
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fer.face.numbering import face_label, pick_face
from fer.face.types import Face
from fer.regions import REGION_NAMES, SINGLE_HEAD_NAME
from fer.ui.analysis import OcclusionRequest, cam_overlays, detect_faces, occlude_photo, to_display

if TYPE_CHECKING:
    from fer.predictor import FacePrediction

FUSED = "fused"
TABLE_HEADERS = ("head", "A vote", "A P(vote)", "B vote", "B P(vote)", "change")
SAME_DELTA = 0.005  # a probability change under half a point reads as "no change"


@dataclass
class ModelSide:
    """One model's view of the face: its predictions without and with the occluder, its crop and maps."""

    name: str  # how the comparison names the model (the picker label)
    clean: FacePrediction
    occluded: FacePrediction
    crop: np.ndarray  # the occluded crop this model saw, at display size
    cams: list[tuple[np.ndarray, str]]  # Grad-CAM++ overlays of the fused decision, then each head
    trained: bool

    @property
    def label(self) -> str:
        return self.occluded.label

    @property
    def heads(self) -> dict[str, dict[str, float]]:
        """Region name -> class probabilities (with the occluder), plus FUSED -> the fused probabilities."""
        return {FUSED: self.occluded.probs, **dict(zip(self.occluded.region_names, self.occluded.head_probs))}

    @property
    def flipped(self) -> bool:
        """The occluder changed this model's fused decision."""
        return self.clean.label != self.occluded.label


@dataclass
class HeadRow:
    """One head (or the fused decision) of both models: each one's vote and its probability."""

    head: str
    a_vote: str | None
    a_prob: float | None
    b_vote: str | None
    b_prob: float | None
    b_prob_of_a_vote: float | None  # how much B gives A's vote (None: B has no such class or no such head)

    @property
    def same(self) -> bool | None:
        return None if self.a_vote is None or self.b_vote is None else self.a_vote == self.b_vote

    def change(self) -> str:
        if self.a_vote is None or self.b_vote is None:
            return f"only {'B' if self.a_vote is None else 'A'} has this head"
        if self.same:
            delta = self.b_prob - self.a_prob
            return "same vote" if abs(delta) < SAME_DELTA else f"same vote, B {delta * 100:+.0f} pts"
        given = "has no such class" if self.b_prob_of_a_vote is None else f"gives it {self.b_prob_of_a_vote:.0%}"
        return f"{self.a_vote} → {self.b_vote} (B {given})"


@dataclass
class ModelComparison:
    faces: list[Face]
    index: int  # 0-based; people read face_label(index)
    occluded_photo: np.ndarray
    occlusion: str  # the occluder in words ("" when none)
    a: ModelSide
    b: ModelSide
    rows: list[HeadRow]

    @property
    def shared_heads(self) -> list[HeadRow]:
        return [r for r in self.rows if r.head != FUSED and r.same is not None]

    def table(self) -> list[list[str]]:
        """Rows for a table under `TABLE_HEADERS` (probabilities as percentages, '—' where a head is absent)."""

        def pct(p):
            return "—" if p is None else f"{p:.0%}"

        return [[r.head, r.a_vote or "—", pct(r.a_prob), r.b_vote or "—", pct(r.b_prob), r.change()]
                for r in self.rows]

    def summary(self) -> str:
        """The comparison in plain words (markdown)."""
        where = self.occlusion or "no occluder applied"
        face = face_label(self.index).capitalize()
        lines = [f"**{face}** ({where}); each model cuts its own crop from the same photo."]
        for key, side in (("A", self.a), ("B", self.b)):
            text = f"- **{key}** · {side.name}: **{side.label}** {side.occluded.confidence:.0%}"
            if self.occlusion:
                text += f" (without the occluder: {side.clean.label} {side.clean.confidence:.0%})"
                text += " — **the occluder flips its decision**" if side.flipped else ""
            if not side.trained:
                text += " — ⚠️ untrained: its numbers are meaningless"
            lines.append(text)
        agree = "agree" if self.a.label == self.b.label else "**differ**"
        shared = self.shared_heads
        text = f"The fused decisions {agree}."
        if shared:
            alike = sum(bool(r.same) for r in shared)
            text += f" Of the {len(shared)} head(s) both models have, {alike} vote alike."
        else:
            text += " The models share no head (a one-head and a four-head model): compare their fused decisions."
        if self.a.name == self.b.name:
            text += " (A and B are the same model.)"
        lines.append("\n" + text)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready: both models' predictions (with and without the occluder) and the head-by-head rows."""

        def side(s: ModelSide) -> dict:
            return {"model": s.name, "trained": s.trained, "occluded": s.occluded.to_dict(), "clean": s.clean.to_dict()}

        rows = [{"head": r.head, "a_vote": r.a_vote, "a_prob": r.a_prob, "b_vote": r.b_vote, "b_prob": r.b_prob,
                 "b_prob_of_a_vote": r.b_prob_of_a_vote, "same": r.same, "change": r.change()} for r in self.rows]
        return {"face": self.index + 1, "faces": len(self.faces), "occlusion": self.occlusion,
                "a": side(self.a), "b": side(self.b), "rows": rows}


def head_rows(a: ModelSide, b: ModelSide) -> list[HeadRow]:
    """The fused decision, then every head either model has (region order, then the whole-face head)."""
    heads_a, heads_b = a.heads, b.heads
    order = [FUSED, *REGION_NAMES, SINGLE_HEAD_NAME]
    rows = []
    for head in order:
        pa, pb = heads_a.get(head), heads_b.get(head)
        if pa is None and pb is None:
            continue
        a_vote = None if pa is None else max(pa, key=pa.get)
        b_vote = None if pb is None else max(pb, key=pb.get)
        rows.append(HeadRow(
            head, a_vote, None if pa is None else float(pa[a_vote]), b_vote, None if pb is None else float(pb[b_vote]),
            None if pb is None or a_vote not in pb else float(pb[a_vote]),
        ))
    return rows


def _side(name: str, predictor, photo, occluded_photo, face: Face, active: bool, explain: bool) -> ModelSide:
    model = predictor.model  # held for this call (the cache may evict it meanwhile)
    clean = predictor.predict_face(photo, face)  # the model's own crop recipe
    occluded = predictor.predict_face(occluded_photo, face) if active else clean
    target = list(model.config.class_names).index(occluded.label)  # in this model's own class order
    cams = cam_overlays(model, occluded.aligned, target) if explain else []
    return ModelSide(name, clean, occluded, to_display(occluded.aligned.image), cams, bool(model.config.trained))


def compare_models(
    photo: np.ndarray,
    predictor_a,
    predictor_b,
    face_index: int,
    request: OcclusionRequest,
    names: tuple[str, str] = ("A", "B"),
    explain: bool = True,
    progress=None,
) -> ModelComparison:
    """Models A and B on face `face_index` (0-based, largest first; out of range -> `InputError`) of
    `photo` (RGB uint8), both with the same occluder on the same photo. Faces are found with A's detector."""

    def step(fraction: float, text: str) -> None:
        if progress is not None:
            progress(fraction, desc=text)

    step(0.05, "finding faces")
    faces = detect_faces(photo, predictor_a.detector)
    index, face = pick_face(faces, face_index + 1, "Face")
    step(0.2, "applying the occluder")
    occluded_photo = occlude_photo(photo, face, request)[0] if request.active else photo
    step(0.35, f"model A: {names[0]}")
    a = _side(names[0], predictor_a, photo, occluded_photo, face, request.active, explain)
    step(0.65, f"model B: {names[1]}")
    b = _side(names[1], predictor_b, photo, occluded_photo, face, request.active, explain)
    step(1.0, "done")
    return ModelComparison(faces, index, occluded_photo, request.describe(), a, b, head_rows(a, b))
