"""The demo's "Live" tab: the webcam streams to `fer.live.LiveEngine`, one engine per browser session.

The browser's webcam component sends a frame every `STREAM_EVERY` seconds but only while the
previous one is not pending, so a slow server drops frames instead of queueing them; a session
streams at most `TIME_LIMIT` seconds at a time, so one user cannot hold a worker.
API: `/live_frame` (image, model, occluder, severity -> annotated frame, fused label, head votes),
with the same per-session tracking when a `gradio_client.Client` calls it repeatedly.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import gradio as gr
import numpy as np

from fer.errors import InputError
from fer.ui.occluders import NO_OCCLUDER

if TYPE_CHECKING:
    from fer.live import LiveEngine

STREAM_EVERY = 0.1  # seconds between two frames sent by the browser (when none is pending)
TIME_LIMIT = 120  # seconds a session may stream before it has to press record again
MAX_SIDE = 1280  # frames larger than this are shrunk first (a webcam's 1920×1440 costs 4× as much)
CAM_EVERY = 15  # with "Grad-CAM++ every few frames": one map per this many frames

LIVE_INTRO = """Stream your webcam: each frame's face (the largest, or **click one** in the result) is tracked,
optionally covered with a **virtual occluder**, and the fused decision and the four region heads' votes are drawn
next to the region grid (green: the head agrees with the fused decision, red: it does not). Try covering your
mouth or eyes with a hand and watch which heads change their vote. Frames are dropped, not queued, when the
server is slower than your camera; a session streams for at most two minutes at a time."""


class LiveSession:
    """Per-browser-session state: one engine per model (a model switch starts a new track)."""

    def __init__(self) -> None:
        self.engine: LiveEngine | None = None
        self.model_label: str | None = None
        self.lock = threading.Lock()

    def engine_for(self, bank, model_label: str) -> LiveEngine:
        if self.engine is None or self.model_label != model_label:
            from fer.live import LiveEngine  # imported with the first frame: the page does not need it

            self.engine = LiveEngine(bank.get(model_label))
            self.model_label = model_label
        return self.engine


def _frame(value) -> np.ndarray:
    import cv2

    from fer.io import load_image

    if value is None:
        raise InputError("No frame received: allow the webcam, or send an image.")
    rgb = load_image(value)
    scale = MAX_SIDE / max(rgb.shape[:2])
    if scale < 1:
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    return rgb


def votes_text(result) -> str:
    if result.label is None:
        return result.message or "no face"
    marks = ["✓" if v == result.label else "✗" for v in result.head_labels]
    return " · ".join(f"{r}: {v} {m}" for (r, v), m in zip(result.votes().items(), marks))


class LiveActions:
    def __init__(self, bank) -> None:
        self.bank = bank

    def _process(self, image, model_label, kind, severity, cam_mode, session):
        session = session if isinstance(session, LiveSession) else LiveSession()
        from fer.live import Occluder

        rgb = _frame(image)
        with session.lock:
            engine = session.engine_for(self.bank, model_label)
            engine.cam_every = CAM_EVERY if cam_mode == "every few frames" else 0
            occluder = Occluder(kind or NO_OCCLUDER, float(severity if severity is not None else 0.6))
            return engine.process(rgb, occluder), session

    def frame(self, image, model_label, kind, severity, cam_mode, session):
        """One streamed frame: (annotated frame, fused label, head votes, session)."""
        result, session = self._process(image, model_label, kind, severity, cam_mode, session)
        return result.image, result.confidences() or {}, votes_text(result), session

    def api_frame(self, image, model_label, kind, severity, session):
        """/live_frame: (annotated frame, fused label, details JSON with the head votes)."""
        result, session = self._process(image, model_label, kind, severity, "off", session)
        details = {"label": result.label, "confidence": round(result.confidence, 6), "head_votes": result.votes(),
                   "tracked": not result.detected, "message": result.message}
        return result.image, result.confidences() or {}, details, session

    def cam_now(self, session):
        session = session if isinstance(session, LiveSession) else LiveSession()
        if session.engine is not None:
            session.engine.request_cam()
        return session

    def select(self, session, evt: gr.SelectData):
        session = session if isinstance(session, LiveSession) else LiveSession()
        if session.engine is not None and evt is not None and evt.index is not None:
            x, y = evt.index[:2]
            session.engine.select(float(x), float(y))
        return session


def build_live_tab(bank, model_labels: list[str], default_label: str, kinds: list[str], user_errors) -> None:
    """The "Live" tab and its events (called inside the demo's Blocks)."""
    actions = LiveActions(bank)
    with gr.Tab("Live", id="live"):
        gr.Markdown(LIVE_INTRO)
        session = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=4):
                camera = gr.Image(
                    sources=["webcam"], streaming=True, type="numpy", label="Webcam", elem_id="fer-live-cam", height=360
                )
                with gr.Row():
                    live_model = gr.Dropdown(model_labels, value=default_label, label="Model", elem_id="fer-live-model")
                    live_kind = gr.Dropdown(
                        [k for k in kinds if k != "user"],
                        value=NO_OCCLUDER,
                        label="Virtual occluder",
                        elem_id="fer-live-occluder",
                    )
                with gr.Row():
                    live_severity = gr.Slider(0.0, 1.0, value=0.6, step=0.05, label="Severity")
                    cam_mode = gr.Radio(["off", "every few frames"], value="off", label="Grad-CAM++")
                cam_button = gr.Button("Grad-CAM++ of the next frame", elem_id="fer-live-cam-now")
            with gr.Column(scale=5):
                shown = gr.Image(
                    label="What the model sees (click a face to follow it)",
                    interactive=False,
                    format="jpeg",
                    elem_id="fer-live-out",
                    height=480,
                )
                live_label = gr.Label(num_top_classes=3, label="Fused prediction (live)", elem_id="fer-live-label")
                live_votes = gr.Textbox(label="Region heads' votes (live)", interactive=False, elem_id="fer-live-votes")
        camera.stream(
            user_errors(actions.frame),
            [camera, live_model, live_kind, live_severity, cam_mode, session],
            [shown, live_label, live_votes, session],
            stream_every=STREAM_EVERY,
            time_limit=TIME_LIMIT,
            concurrency_limit=4,
            concurrency_id="live",
            api_name="live_stream",
        )
        cam_button.click(actions.cam_now, session, session, queue=False, api_name=False)
        shown.select(actions.select, session, session, queue=False, api_name=False)
        with gr.Row(visible=False):
            api_image = gr.File(type="filepath", label="image")
            api_out = gr.Image(format="jpeg", label="annotated frame")
            api_label = gr.Label(label="fused prediction")
            api_votes = gr.JSON(label="head votes")
            api_button = gr.Button("live frame")
        api_button.click(
            user_errors(actions.api_frame),
            [api_image, live_model, live_kind, live_severity, session],
            [api_out, api_label, api_votes, session],
            concurrency_id="live",
            api_name="live_frame",
        )
