"""One face, with and without an occluder: the computation behind the demo's main tab.

No Gradio here: `analyse()` takes a decoded photo, a loaded predictor and an occlusion request,
and returns arrays, predictions and images that the callbacks hand to the components.
Chain: detect → (occlude the photo, placed from the face's real landmarks) → cut the
clean and the occluded photo with the same detection by the model's own crop recipe
(`Predictor.predict_face`) → model → Grad-CAM++ on what the model saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from fer.errors import InputError
from fer.face.numbering import pick_face
from fer.face.types import AlignedFace, Face
from fer.ui.occluders import NO_OCCLUDER  # noqa: F401 - re-exported
from fer.ui.recent import Recent, photo_key

AS_DRAWN = "as drawn"  # the user's strokes themselves are the occluder
DISPLAY_SIZE = 224  # crops and CAM overlays are shown at this size whatever the model's input


@dataclass
class OcclusionRequest:
    kind: str = NO_OCCLUDER  # an occluder of fer.occlusion, or "none"
    severity: float = 0.5
    seed: int = 0
    params: dict = field(default_factory=dict)  # e.g. placement
    user_mask: np.ndarray | None = None  # (H, W) bool, drawn by the user on the photo
    user_fill: str = "black"  # how the drawing hides the face: a fill of the "user" occluder, or AS_DRAWN
    drawn_image: np.ndarray | None = None  # the photo with the user's strokes, for AS_DRAWN

    @property
    def active(self) -> bool:
        return self.kind != NO_OCCLUDER or (self.user_mask is not None and bool(self.user_mask.any()))

    def describe(self) -> str:
        parts = []
        if self.kind != NO_OCCLUDER:
            extra = ", ".join(f"{v}" for v in self.params.values() if v)
            parts.append(f"{self.kind}{f' ({extra})' if extra else ''} at severity {self.severity:g}")
        if self.user_mask is not None and self.user_mask.any():
            parts.append(f"your drawing ({self.user_mask.mean():.0%} of the photo)")
        return " + ".join(parts)


@dataclass
class FaceAnalysis:
    faces: list[Face]
    index: int
    photo: np.ndarray
    occluded_photo: np.ndarray
    clean_crop: np.ndarray
    occluded_crop: np.ndarray
    class_names: tuple[str, ...]
    clean_probs: np.ndarray  # (C,) fused
    clean_head_probs: np.ndarray  # (R, C)
    occluded_probs: np.ndarray  # (C,) fused
    occluded_head_probs: np.ndarray  # (R, C)
    cams: list[tuple[np.ndarray, str]]  # overlays on the occluded crop with captions
    aligned: AlignedFace  # the occluded face as the model saw it

    @property
    def fused(self) -> np.ndarray:
        return self.occluded_probs

    @property
    def clean_fused(self) -> np.ndarray:
        return self.clean_probs


_DETECTIONS = Recent(8)  # faces of the last photos: an analysis, its locality panel, a sweep share one detection


def detect_faces(photo: np.ndarray, backend: str = "auto") -> list[Face]:
    """The faces of `photo` (largest first), detected once per photo and backend; none -> `InputError`."""
    from fer.face import detect
    from fer.face.detect import resolve_backend

    key = photo_key(photo, resolve_backend(backend))
    faces = _DETECTIONS.get(key)
    if faces is None:
        faces = detect(photo, backend=backend)
        _DETECTIONS.put(key, faces)
    faces = list(faces)
    if not faces:
        raise InputError(
            "No face was found in this image. Try a photo where a face is clearly visible and at least ~40 pixels wide."
        )
    return faces


def occlude_photo(photo: np.ndarray, face: Face, request: OcclusionRequest) -> tuple[np.ndarray, np.ndarray]:
    """The photo with the requested occluder(s), and the (H, W) bool mask of covered pixels."""
    from fer import occlusion

    image = photo
    mask = np.zeros(photo.shape[:2], bool)
    if request.kind != NO_OCCLUDER:
        out = occlusion.apply(image, face, request.kind, severity=request.severity, seed=request.seed, **request.params)
        image, mask = out.image, mask | (np.asarray(out.mask) > 0)
    user = request.user_mask
    if user is not None and user.any():
        if (
            request.user_fill == AS_DRAWN
            and request.drawn_image is not None
            and request.drawn_image.shape == photo.shape
        ):
            image = np.where(user[..., None], request.drawn_image, image)
        else:
            fill = "black" if request.user_fill == AS_DRAWN else request.user_fill
            out = occlusion.apply(image, face, "user", severity=1.0, seed=request.seed, mask=user, fill=fill)
            image = out.image
        mask = mask | user
    return image, mask


def probs_of(prediction) -> tuple[np.ndarray, np.ndarray]:
    """Fused (C,) and per-head (R, C) probabilities of a `FacePrediction`, as arrays."""
    names = list(prediction.probs)
    return (np.array([prediction.probs[n] for n in names], np.float32),
            np.array([[h[n] for n in names] for h in prediction.head_probs], np.float32))


def to_display(image: np.ndarray, size: int = DISPLAY_SIZE) -> np.ndarray:
    if image.shape[0] == size:
        return image
    interp = cv2.INTER_CUBIC if image.shape[0] < size else cv2.INTER_AREA
    return cv2.resize(image, (size, size), interpolation=interp)


def cam_overlays(model, aligned: AlignedFace, target: int | None = None) -> list[tuple[np.ndarray, str]]:
    """Grad-CAM++ of the fused decision and of each region head, on the crop the model saw.

    Every head explains the fused decision's class, so the maps answer "where does each head
    find evidence for what the model decided". Captions say what each map explains (`fer.explain.panel_titles`,
    as `fer explain` writes them): "map for happiness (fused decision)", "head top-left: map for happiness
    (as the fused map; it votes surprise)" — a head's map is not its vote.
    """
    from fer.explain import draw_regions, explain, heatmap_on_image, panel_titles

    exp = explain(model, aligned, target=target)
    crop = to_display(aligned.image)
    boxes = exp.boxes_on(*crop.shape[:2])
    titles = panel_titles(exp)
    out = [(draw_regions(heatmap_on_image(crop, exp.fused), boxes), titles[0])]
    for k in range(len(exp.head_names)):
        picture = draw_regions(heatmap_on_image(crop, exp.heads[k]), boxes, highlight=k if boxes else None)
        out.append((picture, titles[k + 1]))
    return out


def analyse(
    photo: np.ndarray, predictor, face_index: int, request: OcclusionRequest, progress=None, explain: bool = True
) -> FaceAnalysis:
    """Detect, occlude, align, predict and explain one face of `photo` (RGB uint8).

    `face_index` is 0-based (largest first); one beyond the faces found is an `InputError` naming the range.
    """

    def step(fraction: float, text: str) -> None:
        if progress is not None:
            progress(fraction, desc=text)

    model = predictor.model  # held for this call (the cache may evict it meanwhile)
    step(0.05, "finding faces")
    faces = detect_faces(photo, predictor.detector)
    index, face = pick_face(faces, face_index + 1, "Face")  # fer.face.numbering: out of range -> InputError
    step(0.3, "applying the occluder")
    occluded_photo, _ = occlude_photo(photo, face, request) if request.active else (photo, None)
    step(0.45, "predicting")
    clean_pred = predictor.predict_face(photo, face)  # the model's own crop recipe, clean photo
    occ_pred = predictor.predict_face(occluded_photo, face) if request.active else clean_pred
    clean, occluded = clean_pred.aligned, occ_pred.aligned
    clean_p, clean_hp = probs_of(clean_pred)
    occ_p, occ_hp = probs_of(occ_pred)
    step(0.6, "computing Grad-CAM++ maps")
    cams = cam_overlays(model, occluded, int(np.argmax(occ_p))) if explain else []
    step(1.0, "done")
    return FaceAnalysis(
        faces=faces,
        index=index,
        photo=photo,
        occluded_photo=occluded_photo,
        clean_crop=to_display(clean.image),
        occluded_crop=to_display(occluded.image),
        class_names=tuple(model.config.class_names),
        clean_probs=clean_p,
        clean_head_probs=clean_hp,
        occluded_probs=occ_p,
        occluded_head_probs=occ_hp,
        cams=cams,
        aligned=occluded,
    )


def face_zoom(photo: np.ndarray, face: Face, margin: float = 0.6, size: int = 320) -> np.ndarray:
    """A square view of `photo` around `face` (box enlarged by `margin`), padded grey at the borders."""
    x1, y1, x2, y2 = (float(v) for v in face.box)
    side = max(x2 - x1, y2 - y1) * (1 + margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    scale = size / max(side, 1.0)
    matrix = np.array([[scale, 0, size / 2 - scale * cx], [0, scale, size / 2 - scale * cy]], np.float64)
    return cv2.warpAffine(photo, matrix, (size, size), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(128, 128, 128))


def draw_faces(photo: np.ndarray, faces: list[Face], selected: int) -> np.ndarray:
    """The photo with every detected face boxed and numbered; the selected one highlighted."""
    out = photo.copy()
    thick = max(2, round(max(photo.shape[:2]) / 300))
    for i, face in enumerate(faces):
        x1, y1, x2, y2 = (int(round(v)) for v in face.box)
        colour = (255, 196, 0) if i == selected else (120, 170, 255)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick + (1 if i == selected else 0))
        for x, y in np.asarray(face.landmarks):
            cv2.circle(out, (int(round(x)), int(round(y))), thick + 1, (0, 255, 128), -1)
        scale = max(0.5, (x2 - x1) / 180)
        label = f"{i + 1}"
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        ty = max(y1, th + 6)
        cv2.rectangle(out, (x1, ty - th - 6), (x1 + tw + 8, ty), colour, -1)
        cv2.putText(out, label, (x1 + 4, ty - 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick, cv2.LINE_AA)
    return out
