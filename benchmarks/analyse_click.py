"""Analyse click speed: in headless Chromium, Analyse click -> every output shown, for faceapi_expression.

    python benchmarks/analyse_click.py [--clicks 4] [--url URL] [--port PORT]

Without --url it starts `python app.py` offline (as the tests do). The page gets the example photo,
waits until the page is idle, then for each click picks an occluder (surgical_mask, sunglasses, ...
in turn), waits a moment and presses Analyse; the time runs until the summary names the occluder,
every output has stopped changing and every CAM image has loaded. Printed next to it, to split
where the time goes: the same request through gradio_client (server + protocol, no browser; output
files not downloaded) and the handler alone in this process (library + images + figure). On a
shared machine the figures move with the load average, which is printed with them; best and median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from _timing import demo_url, load_average

REPO = Path(__file__).resolve().parents[1]
MODEL = "faceapi_expression (pretrained reference)"
PHOTO = REPO / "examples" / "astronaut.jpg"
OCCLUDERS = ("surgical_mask", "sunglasses", "hand_mouth", "scarf")
OUTPUTS = ("fer-faces", "fer-original", "fer-occluded", "fer-clean-label", "fer-fused-label", "fer-votes", "fer-cams",
           "fer-summary")
TARGET_S = 1.0
CHROMIUM = "/usr/bin/chromium"

WATCH = """ids => { window.__ferChanged = {}; for (const id of ids) { const el = document.getElementById(id);
  new MutationObserver(() => { window.__ferChanged[id] = performance.now(); })
    .observe(el, {subtree: true, childList: true, attributes: true, characterData: true}); } }"""
DONE = """([kind, quiet]) => { const s = document.querySelector('#fer-summary')?.innerText || '';
  const imgs = [...document.querySelectorAll('#fer-cams img')];
  const last = Math.max(0, ...Object.values(window.__ferChanged || {}));
  return s.includes(kind) && imgs.length >= 5 && imgs.every(i => i.complete && i.naturalWidth > 0)
    && performance.now() - last > quiet; }"""


def browser_clicks(url: str, clicks: int, quiet_ms: int = 400) -> list[float]:
    """Seconds from each Analyse click to the last output shown (the quiet period after it is not counted)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu",
                                                                    "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector("#fer-run", timeout=60_000)
            page.wait_for_timeout(1000)
            page.locator("#fer-editor input[type=file]").first.set_input_files(str(PHOTO))
            shown = "() => (document.querySelector('#fer-summary')?.innerText || '').includes('no occluder')"
            try:
                page.wait_for_function(shown, timeout=45_000)
            except PlaywrightTimeout:  # the upload event got lost (page still hydrating): analyse by hand
                page.locator("#fer-run").click()
                page.wait_for_function(shown, timeout=120_000)
            page.wait_for_timeout(4000)  # the editor's own uploads after a new photo settle
            for k in range(clicks):
                kind = OCCLUDERS[k % len(OCCLUDERS)]
                page.locator("#fer-occluder input").first.click()
                page.locator("[role=option]", has_text=kind).first.click()
                page.wait_for_timeout(1500)
                page.evaluate(WATCH, list(OUTPUTS))
                started = page.evaluate("performance.now()")
                page.locator("#fer-run").click()
                page.wait_for_function(DONE, arg=[kind, quiet_ms], timeout=120_000, polling=50)
                last = page.evaluate("Math.max(...Object.values(window.__ferChanged))")
                times.append((last - started) / 1000)
        finally:
            browser.close()
    return times


def client_calls(url: str, calls: int) -> list[float]:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False, download_files=False)
    editor = {"background": handle_file(str(PHOTO)), "layers": [], "composite": None}
    times = []
    for k in range(calls + 1):
        started = time.perf_counter()
        client.predict(editor, MODEL, OCCLUDERS[k % len(OCCLUDERS)], None, 0.6, 0, "as drawn", None, api_name="/analyse")
        times.append(time.perf_counter() - started)
    return times[1:]  # the first uploads the photo


def handler_calls(calls: int) -> list[float]:
    from fer.io import load_image
    from fer.threads import set_threads
    from fer.ui.callbacks import DemoActions
    from fer.ui.models import ModelBank, default_choice, discover_models

    set_threads(1)  # as app.py
    choices = discover_models(None, include_untrained=False)
    bank = ModelBank(choices)
    label = next((c.label for c in choices if c.label == MODEL), default_choice(choices).label)
    actions = DemoActions(bank)
    editor = {"background": load_image(PHOTO), "layers": [], "composite": None}
    times = []
    for k in range(calls + 1):
        started = time.perf_counter()
        actions.analyse(editor, label, OCCLUDERS[k % len(OCCLUDERS)], None, 0.6, 0, "as drawn", None, progress=None)
        times.append(time.perf_counter() - started)
    return times[1:]


def _line(name: str, times: list[float]) -> str:
    return f"{name:58s} best {min(times):6.3f} s  median {statistics.median(times):6.3f} s  (n={len(times)})"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=4, help="Analyse clicks timed in the browser")
    parser.add_argument("--url", default=None, help="a running demo (default: start app.py)")
    parser.add_argument("--port", type=int, default=None, help="port for the app this script starts")
    args = parser.parse_args(argv)
    results = {"load_before": load_average()}
    with demo_url(args.url, args.port) as url:
        results["browser"] = browser_clicks(url, args.clicks)
        results["client"] = client_calls(url, args.clicks)
    results["handler"] = handler_calls(args.clicks)
    results["load_after"] = load_average()
    print(f"load average before: {results['load_before']}; after: {results['load_after']}")
    print(_line("Chromium: Analyse click -> last output shown", results["browser"]) + f"  target <= {TARGET_S:g} s")
    print(_line("gradio_client /analyse (server + protocol, no browser)", results["client"]))
    print(_line("handler in-process (DemoActions.analyse)", results["handler"]))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
