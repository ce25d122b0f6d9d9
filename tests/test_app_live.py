"""The demo as users and programs meet it: `python app.py` in a subprocess, driven by
gradio_client (every endpoint, bad input, a short load run) and by headless Chromium (Playwright).

One server for the whole module (starting it costs most of the time).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from app_server import app_server_fixture
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
REFERENCE = "faceapi_expression (pretrained reference)"
MASK = "surgical_mask"

app_server = app_server_fixture(scope="module")


@pytest.fixture(scope="module")
def photo_path(tmp_path_factory, astronaut) -> str:
    path = tmp_path_factory.mktemp("app") / "astronaut.png"
    Image.fromarray(astronaut).save(path)
    return str(path)


@pytest.fixture(scope="module")
def client(app_server):
    from gradio_client import Client

    return Client(app_server.url, verbose=False)


def _editor(path: str, layers: list | None = None) -> dict:
    from gradio_client import handle_file

    return {"background": handle_file(path), "layers": layers or [], "composite": None}


def _top(label: dict) -> tuple[str, float]:
    best = max(label["confidences"], key=lambda c: c["confidence"])
    return best["label"], best["confidence"]


def test_server_lists_every_endpoint(client, app_server):
    names = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert {
        "/predict", "/analyse", "/analyse_upload", "/analyse_example", "/analyse_face",
        "/model_info", "/model_info_on_load", "/placements", "/sweep", "/sensitivity", "/live_frame", "/compare",
        "/locality", "/locality_upload", "/locality_face",
    } <= names
    assert app_server.ready_after_s is not None


def test_predict_endpoint(client, photo_path):
    from gradio_client import handle_file

    label, details = client.predict(handle_file(photo_path), REFERENCE, api_name="/predict")
    probs = {c["label"]: c["confidence"] for c in label["confidences"]}
    assert len(probs) == 7 and abs(sum(probs.values()) - 1) < 1e-3
    assert label["label"] == "happiness" == details["label"]  # the astronaut smiles
    assert details["faces"] == 1 and details["trained"] is True
    assert {h["region"] for h in details["heads"]} == {"top-left", "top-right", "bottom-left", "bottom-right"}


def test_model_info_endpoints(client):
    text = client.predict(REFERENCE, api_name="/model_info")
    assert "Pretrained reference classifier" in text and "Provenance" in text
    assert client.predict(REFERENCE, api_name="/model_info_on_load") == text
    from fer.ui.models import UNTRAINED_MODELS, UNTRAINED_NOTE

    for name in UNTRAINED_MODELS:
        text = client.predict(f"{name} – {UNTRAINED_NOTE}", api_name="/model_info")
        assert "Untrained (random weights)" in text and "mean nothing" in text
    hands = client.predict("hand_mouth", api_name="/placements")
    assert hands["visible"] is True and [c[0] for c in hands["choices"]] == ["random", "left", "right"]
    assert client.predict("surgical_mask", api_name="/placements")["visible"] is False


def test_analyse_with_mask_and_drawing(client, photo_path, tmp_path):
    mask_kind = MASK
    out = client.predict(_editor(photo_path), REFERENCE, mask_kind, None, 0.7, 3, "as drawn", "face 1 (largest)", api_name="/analyse")
    faces, original, occluded, picker, clean, fused, votes, cams, text = out
    for path in (faces, original, occluded):
        assert Path(path).is_file()
    a, b = np.asarray(Image.open(original).convert("RGB"), int), np.asarray(Image.open(occluded).convert("RGB"), int)
    assert a.shape == b.shape and np.abs(a - b).mean() > 3  # the mask changed the face
    assert _top(clean)[0] == "happiness"
    assert len(cams) == 6 and all(Path(c["image"]).is_file() for c in cams)
    decided = _top(fused)[0]  # the maps explain the fused class, and their captions say so (fer.explain.panel_titles)
    assert cams[1]["caption"] == f"map for {decided} (fused decision)"
    assert cams[2]["caption"].startswith(f"head top-left: map for {decided} (")
    assert votes["type"] == "plotly" and "top-left" in votes["plot"] and "bottom-right" in votes["plot"]
    assert mask_kind in text and ("stays" in text or "changes" in text)
    assert picker["visible"] is False  # one face: no picker

    # a brush stroke over the eyes, black: the drawing is an occluder too
    layer = np.zeros((512, 512, 4), np.uint8)
    layer[85:115, 170:280] = (0, 0, 0, 255)
    layer_path = tmp_path / "layer.png"
    Image.fromarray(layer).save(layer_path)
    from gradio_client import handle_file

    out = client.predict(_editor(photo_path, [handle_file(str(layer_path))]), REFERENCE, "none", None, 0.5, 0, "black", None, api_name="/analyse")
    drawn = np.asarray(Image.open(out[2]).convert("RGB"), int)
    assert np.abs(drawn - a).mean() > 2 and "your drawing" in out[-1]


def test_face_picker_and_upload_endpoints(client, photo_path, astronaut, tmp_path):
    two = np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)
    path = tmp_path / "two.png"
    Image.fromarray(two).save(path)
    out = client.predict(_editor(str(path)), REFERENCE, "none", None, 0.5, 0, "as drawn", "face 2", api_name="/analyse_face")
    assert out[3]["visible"] is True and len(out[3]["choices"]) == 2 and out[3]["value"] == "face 2"
    assert "showing face 2" in out[-1]
    for endpoint in ("/analyse_upload", "/analyse_example"):
        out = client.predict(_editor(str(path)), REFERENCE, "none", None, 0.5, 0, "as drawn", "face 2", api_name=endpoint)
        assert out[3]["value"].startswith("face 1")  # a new photo starts from its largest face


def test_robustness_endpoints(client, photo_path):
    plot, table, note = client.predict(_editor(photo_path), REFERENCE, "face 1", 0, api_name="/sweep")
    assert plot["type"] == "plotly" and note.startswith("Face 1 · clean prediction")
    occluders = {row[0] for row in table["data"]}
    assert {"clean", "surgical_mask", "sunglasses"} <= occluders and len(table["data"]) > 10
    gallery, note = client.predict(_editor(photo_path), REFERENCE, "face 1", 0.25, 0.125, "gray", api_name="/sensitivity")
    assert len(gallery) == 5 and all(Path(g["image"]).is_file() for g in gallery)
    assert "patch positions" in note


def test_face_numbers_follow_one_rule_on_every_endpoint(client, photo_path):
    """fer.face.numbering through gradio_client: from 1; out of range or malformed -> a message naming the
    range (never the last face); the pictures' file names carry the face number."""
    out = client.predict(_editor(photo_path), REFERENCE, "none", None, 0.5, 0, "as drawn", "face 1",
                         api_name="/analyse")
    assert Path(out[1]).name.startswith("face1-original") and Path(out[2]).name.startswith("face1-occluded")
    occluder = ["none", None, 0.5, 0, "as drawn"]
    calls = {
        "/analyse": [_editor(photo_path), REFERENCE, *occluder],
        "/analyse_face": [_editor(photo_path), REFERENCE, *occluder],
        "/sweep": [_editor(photo_path), REFERENCE],
        "/sensitivity": [_editor(photo_path), REFERENCE],
    }
    tails = {"/sweep": [0], "/sensitivity": [0.25, 0.125, "gray"]}
    for endpoint, args in calls.items():
        for face, expected in (("face 2", "the image has 1 face(s), numbered 1 (largest first)"),
                               ("face 0", "faces are numbered from 1"), ("second", "give a face number")):
            with pytest.raises(Exception) as info:
                client.predict(*args, face, *tails.get(endpoint, []), api_name=endpoint)
            assert expected in str(info.value), (endpoint, face, str(info.value))
            assert "Traceback" not in str(info.value) and "Something went wrong" not in str(info.value)


def test_compare_endpoint(client, photo_path):
    """/compare: two reference models (different crops: 112 px RGB and 64 px grey) on the same masked face."""
    other = "mini_xception_fer2013 (pretrained reference)"
    out = client.predict(_editor(photo_path), REFERENCE, other, MASK, None, 0.6, 0, "as drawn", None,
                         api_name="/compare")
    label_a, label_b, cams_a, cams_b, table, summary, details = out
    assert label_a["label"] == details["a"]["occluded"]["label"]
    assert label_b["label"] == details["b"]["occluded"]["label"]
    assert [c["caption"] for c in cams_a][:2] == ["input 112×112", f"map for {label_a['label']} (fused decision)"]
    assert cams_b[0]["caption"] == "input 64×64" and len(cams_a) == len(cams_b) == 6
    assert all(Path(c["image"]).is_file() and Path(c["image"]).name.startswith("face1-model") for c in cams_a + cams_b)
    assert table["headers"] == ["head", "A vote", "A P(vote)", "B vote", "B P(vote)", "change"]
    assert [row[0] for row in table["data"]] == ["fused", "top-left", "top-right", "bottom-left", "bottom-right"]
    assert table["data"][0][1] == label_a["label"] and table["data"][0][3] == label_b["label"]
    assert MASK in summary and "without the occluder: happiness" in summary
    assert details["a"]["model"] == REFERENCE and details["b"]["model"] == other
    with pytest.raises(Exception) as info:
        client.predict(_editor(photo_path), REFERENCE, other, "none", None, 0.6, 0, "as drawn", "face 3",
                       api_name="/compare")
    assert "Face 3: the image has 1 face(s), numbered 1 (largest first)" in str(info.value)
    with pytest.raises(Exception) as info:
        client.predict(_editor(photo_path), REFERENCE, "no such model", "none", None, 0.6, 0, "as drawn", None,
                       api_name="/compare")
    assert "no such model" in str(info.value) and "Traceback" not in str(info.value)


def test_bad_input_is_a_plain_message_and_server_survives(client, app_server, tmp_path):
    from gradio_client import handle_file

    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((200, 200, 3), 127, np.uint8)).save(blank)
    with pytest.raises(Exception) as info:
        client.predict(handle_file(str(blank)), REFERENCE, api_name="/predict")
    assert "No face was found" in str(info.value) and "Traceback" not in str(info.value)
    with pytest.raises(Exception) as info:
        client.predict(_editor(str(blank)), "no such model", "none", None, 0.5, 0, "as drawn", None, api_name="/analyse")
    assert "Traceback" not in str(info.value)
    assert app_server.alive() and app_server.answers()


def test_short_load_run(app_server, astronaut, tmp_path):
    """4 concurrent clients × 5 /predict requests: no failures (benchmarks/load.py, small; a 300 px
    crop around the face keeps it quick)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("load_bench", REPO / "benchmarks" / "load.py")
    load = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(load)
    photo = tmp_path / "face.jpg"
    Image.fromarray(astronaut[:300, 80:380]).save(photo, quality=90)
    result = load.run_load(app_server.url, clients=4, requests=5, pid=app_server.pid, photo=str(photo))
    assert result["requests"] == 20 and result["failures"] == 0, result["errors"][:3]
    assert result["p50_s"] > 0 and result["rss_after_mb"] > 0


def _wait_summary(page, text: str, timeout_ms: int = 120_000) -> None:
    page.wait_for_function(
        "t => (document.querySelector('#fer-summary')?.innerText || '').includes(t)", arg=text, timeout=timeout_ms
    )


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="/usr/bin/chromium is absent")
def test_browser_upload_mask_and_read_results(app_server, photo_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(app_server.url)
            page.wait_for_selector("#fer-run", timeout=60_000)
            page.wait_for_timeout(1000)
            try:
                page.locator("#fer-editor input[type=file]").first.set_input_files(photo_path)
                # the upload itself runs an analysis without occluder; wait for it, then pick the mask
                try:
                    _wait_summary(page, "no occluder applied", 45_000)
                except PlaywrightTimeout:  # the upload event got lost (page still hydrating): analyse by hand
                    page.locator("#fer-run").click()
                    _wait_summary(page, "no occluder applied")
                page.locator("#fer-occluder input").first.click()
                page.locator("[role=option]", has_text=MASK).first.click()
                page.wait_for_timeout(1500)  # as benchmarks/analyse_click.py: a user's pause after picking
                clicked = time.perf_counter()
                page.locator("#fer-run").click()
                _wait_summary(page, MASK)
                page.wait_for_selector("#fer-cams img", timeout=30_000)
                # the click's figure is recorded, not asserted (a shared machine; the target lives in
                # benchmarks/analyse_click.py)
                click_s = time.perf_counter() - clicked
                (ARTIFACTS / "analyse_click.txt").write_text(f"click -> summary and maps: {click_s:.3f} s\n")
                print(f"Analyse click -> summary and maps: {click_s:.3f} s")
                # the locality panel follows the analysis: a cross-talk heatmap and its sentence
                page.wait_for_selector("#fer-locality .js-plotly-plot", timeout=60_000)
                page.wait_for_function("document.querySelector('#fer-locality-note').innerText.includes('diagonal')",
                                       timeout=60_000)
                page.wait_for_timeout(1000)
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "demo-failure.png"), full_page=True)
                raise
            locality_note = page.locator("#fer-locality-note").inner_text()
            ticks = page.locator("#fer-locality .ytick")  # rows as seen, top to bottom (not DOM order)
            locality_rows = [t for _, t in sorted((ticks.nth(i).bounding_box()["y"], ticks.nth(i).text_content())
                                                  for i in range(ticks.count()))]
            page.locator("#fer-locality").screenshot(path=str(ARTIFACTS / "locality-panel.png"))
            fused = page.locator("#fer-fused-label").inner_text()
            titles = page.locator("#fer-votes .annotation-text").all_text_contents()
            cams = page.locator("#fer-cams img")
            loaded = [cams.nth(i).evaluate("img => img.complete && img.naturalWidth") for i in range(cams.count())]
            page.screenshot(path=str(ARTIFACTS / "demo.png"), full_page=True)
        finally:
            browser.close()
    assert any(name in fused for name in ("happiness", "neutral", "surprise", "sadness", "anger", "disgust", "fear"))
    assert "%" in fused
    heads = [t for t in titles if t.split(":")[0] in ("top-left", "top-right", "bottom-left", "bottom-right")]
    assert [t.split(":")[0] for t in heads] == ["top-left", "top-right", "bottom-left", "bottom-right"]
    assert all("agrees" in t for t in heads)
    assert len(loaded) >= 5 and all(w and w > 0 for w in loaded)
    assert (ARTIFACTS / "demo.png").stat().st_size > 10_000
    assert "off-diagonal ÷ diagonal" in locality_note
    assert locality_rows == ["hide top-left", "hide top-right", "hide bottom-left", "hide bottom-right"]


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="/usr/bin/chromium is absent")
def test_browser_compare_two_models(app_server, photo_path):
    """Open the comparison, run it with a mask, read the table from the page; screenshot artifacts/compare.png."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(app_server.url)
            page.wait_for_selector("#fer-run", timeout=60_000)
            page.wait_for_timeout(1000)
            page.locator("#fer-editor input[type=file]").first.set_input_files(photo_path)
            page.locator("#fer-occluder input").first.click()
            page.locator("[role=option]", has_text=MASK).first.click()
            page.locator("#fer-compare").get_by_text("Compare with a second model").first.click()
            page.locator("#fer-compare-run").click()
            page.wait_for_function(
                "() => (document.querySelector('#fer-compare-summary')?.innerText || '').includes('fused decisions')",
                timeout=120_000,
            )
            page.wait_for_selector("#fer-compare-cams-b img", timeout=30_000)
            page.wait_for_timeout(1000)
            summary = page.locator("#fer-compare-summary").inner_text()
            table = page.locator("#fer-compare-table").inner_text()
            images = page.locator("#fer-compare-cams-a img, #fer-compare-cams-b img")
            loaded = [images.nth(i).evaluate("img => img.complete && img.naturalWidth") for i in range(images.count())]
            page.locator("#fer-compare").screenshot(path=str(ARTIFACTS / "compare.png"))
        finally:
            browser.close()
    assert MASK in summary and "mini_xception_fer2013" in summary  # B defaults to the other trained model
    assert all(head in table for head in ("fused", "top-left", "top-right", "bottom-left", "bottom-right"))
    assert len(loaded) == 12 and all(w and w > 0 for w in loaded)
    assert (ARTIFACTS / "compare.png").stat().st_size > 10_000


def test_synthfer_lab_endpoint(client):
    face, fused, plot, text = client.predict(
        "alfj_patch_resnet18_half_synthfer", "surprise", 2, "sunglasses", 0.8, api_name="/synthfer_lab"
    )
    assert Path(face).is_file() and plot["type"] == "plotly"
    assert "Synthetic SynthFER face" in text and "true class **surprise**" in text
    assert fused["label"] in {"neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear"}
    with pytest.raises(Exception, match="(?i)seed must be"):
        client.predict("alfj_patch_resnet18_half_synthfer", "surprise", -3, "none", 0.5, api_name="/synthfer_lab")


def test_live_frame_endpoint_tracks_and_answers(client, tmp_path):
    """/live_frame: a frame in, the annotated frame, fused label and head votes out; a client's
    repeated calls are one session, so the face is tracked instead of detected again."""
    from gradio_client import handle_file

    from fer.io import load_image
    from fer.live.clip import moving_clip

    frames = moving_clip(load_image(REPO / "examples" / "astronaut.jpg"), 3)
    outs = []
    for i, frame in enumerate(frames):
        path = tmp_path / f"frame{i}.jpg"
        Image.fromarray(frame).save(path, quality=90)
        outs.append(client.predict(handle_file(str(path)), REFERENCE, "none", 0.6, api_name="/live_frame"))
    image, label, details = outs[-1]
    assert np.asarray(Image.open(image)).shape == (480, 640, 3)
    assert _top(label)[0] == "happiness" == details["label"]
    assert list(details["head_votes"]) == ["top-left", "top-right", "bottom-left", "bottom-right"]
    assert outs[0][2]["tracked"] is False and details["tracked"] is True
    _, _, covered = client.predict(handle_file(str(tmp_path / "frame0.jpg")), REFERENCE, "hand_mouth", 1.0, api_name="/live_frame")
    assert covered["head_votes"] and covered["label"]


def test_live_stream_drops_frames_instead_of_queueing(app_server, tmp_path):
    """Frames sent faster than the server computes them replace the pending one (Gradio keeps one
    frame per stream event, `POST /stream/{event_id}` overwrites it), so after the camera stops at
    most the frame in work and the latest one come back, not a backlog. Driven as the browser does:
    join the stream event once, then post frames to it."""
    import json
    import threading
    import time

    import httpx

    from fer.io import load_image
    from fer.live.clip import moving_clip
    from fer.ui.live import STREAM_EVERY, TIME_LIMIT

    url = app_server.url.rstrip("/")
    config = httpx.get(f"{url}/config", timeout=30).json()
    dep = next(d for d in config["dependencies"] if d.get("api_name") == "live_stream")
    assert dep["connection"] == "stream" and dep["stream_every"] == STREAM_EVERY and dep["time_limit"] == TIME_LIMIT
    path = tmp_path / "frame.jpg"
    Image.fromarray(moving_clip(load_image(REPO / "examples" / "astronaut.jpg"), 2)[1]).save(path, quality=90)
    client = httpx.Client(timeout=60)
    with open(path, "rb") as f:
        uploaded = client.post(f"{url}/gradio_api/upload", files={"files": f}).json()[0]
    image = {"path": uploaded, "meta": {"_type": "gradio.FileData"}, "orig_name": "frame.jpg"}
    session = "drop-frames-test"
    body = {"data": [image, REFERENCE, "none", 0.6, "off", None], "fn_index": dep["id"],
            "trigger_id": dep["targets"][0][0], "session_hash": session, "event_data": None}
    outputs: list[float] = []

    def listen():
        with client.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}) as resp:
            for line in resp.iter_lines():
                if line.startswith("data:"):
                    msg = json.loads(line[5:]).get("msg")
                    if msg == "process_streaming":
                        outputs.append(time.perf_counter())
                    if msg == "process_completed":
                        return

    event = client.post(f"{url}/gradio_api/queue/join", json=body).json()["event_id"]
    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    deadline = time.perf_counter() + 60
    while not outputs and time.perf_counter() < deadline:  # the first frame (model and detector warm)
        time.sleep(0.05)
    assert outputs, "the stream answered no frame"
    sent = 60
    for _ in range(sent):  # back to back (a few ms apart): far faster than the server computes frames
        client.post(f"{url}/gradio_api/stream/{event}", json=body)
    stopped = time.perf_counter()
    time.sleep(2.0)
    client.post(f"{url}/gradio_api/stream/{event}/close")
    listener.join(timeout=30)
    during = [t for t in outputs[1:] if t <= stopped]
    after = [t for t in outputs if t > stopped]
    assert during or after, "no streamed frame came back"
    assert len(during) + len(after) < sent / 2, (len(during), len(after))  # most frames were dropped
    assert len(after) <= 2, [round(t - stopped, 2) for t in after]  # no backlog once the camera stops


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="/usr/bin/chromium is absent")
def test_browser_live_tab_with_fake_camera(app_server, tmp_path):
    """Chromium's fake camera plays the plain face, then the hand-over-mouth face; the Live tab's
    fused label and head votes are read from the page while it streams."""
    from playwright.sync_api import sync_playwright

    from fer.io import load_image
    from fer.live.clip import moving_clip, write_y4m

    plain = moving_clip(load_image(REPO / "examples" / "astronaut.jpg"), 30)
    hand = moving_clip(load_image(REPO / "examples" / "astronaut_hand_mouth.jpg"), 30)
    clip = write_y4m(plain + hand, tmp_path / "camera.y4m", fps=5)  # 6 s plain, then 6 s hand, looped
    ARTIFACTS.mkdir(exist_ok=True)
    seen: list[tuple[str, str]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                  f"--use-file-for-fake-video-capture={clip}"],
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1100}, permissions=["camera"])
            page = context.new_page()
            page.goto(app_server.url)
            page.get_by_role("tab", name="Live").click()
            page.locator("#fer-live-cam button", has_text="Click to Access Webcam").first.click()
            page.wait_for_timeout(1500)
            page.locator("#fer-live-cam button[aria-label='start recording'], #fer-live-cam .capture-button").first.click()
            for _ in range(60):
                page.wait_for_timeout(500)
                label = page.locator("#fer-live-label").inner_text()
                votes = page.locator("#fer-live-votes textarea").input_value()
                if votes and (not seen or seen[-1] != (label, votes)):
                    seen.append((label, votes))
                if len({v for _, v in seen if "top-left" in v}) >= 2:
                    break
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "live.png"), full_page=True)
        finally:
            browser.close()
    streamed = [(label, votes) for label, votes in seen if "top-left" in votes]
    assert streamed, f"no votes read from the page: {seen}"
    assert all("bottom-right" in v for _, v in streamed)
    assert len({v for _, v in streamed}) >= 2, streamed  # the votes changed when the clip changed
    assert (ARTIFACTS / "live.png").stat().st_size > 10_000
