"""Load test of the demo: N concurrent gradio_client clients × M requests against a local app.

    python benchmarks/load.py [--clients 8] [--requests 25] [--endpoint predict|analyse] [--url URL --pid PID]
                              [--port PORT]

Without --url it starts `python app.py` on a free port (or --port) offline, as the tests do. Prints failures,
p50/p95 latency, requests per second and the server's resident memory (RSS) before (after a
warm-up request per client) and after the run. Targets at 8 × 25: 0 failures, RSS growth ≤ 10 %.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODEL = "faceapi_expression (pretrained reference)"


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MiB (Linux /proc), including its child processes' is not counted."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _photo() -> str:
    from PIL import Image
    from skimage import data

    path = Path(tempfile.gettempdir()) / "fer-load-astronaut.jpg"
    if not path.exists():
        Image.fromarray(data.astronaut()).save(path, quality=90)
    return str(path)


def _call(client, endpoint: str, photo: str):
    from gradio_client import handle_file

    if endpoint == "predict":
        return client.predict(handle_file(photo), MODEL, api_name="/predict")
    editor = {"background": handle_file(photo), "layers": [], "composite": None}
    return client.predict(editor, MODEL, "surgical_mask", None, 0.6, 0, "as drawn", None, api_name="/analyse")


def run_load(
    url: str, clients: int = 8, requests: int = 25, pid: int | None = None, endpoint: str = "predict", photo: str | None = None
) -> dict:
    """Run the load; returns counts, latencies (s) and RSS (MiB) before/after. `photo`: default the astronaut."""
    from gradio_client import Client

    photo = photo or _photo()
    pool = [Client(url, verbose=False) for _ in range(clients)]
    # warm-up, concurrently like the run (the server's worker threads and their malloc arenas exist
    # afterwards): the "before" reading is the steady state, so growth means a leak
    warm = [threading.Thread(target=lambda c=c: [_call(c, endpoint, photo) for _ in range(2)]) for c in pool]
    for t in warm:
        t.start()
    for t in warm:
        t.join()
    before = rss_mb(pid) if pid else float("nan")
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(client) -> None:
        for _ in range(requests):
            t0 = time.perf_counter()
            try:
                label = _call(client, endpoint, photo)
                ok = bool(label)
                err = "" if ok else "empty answer"
            except Exception as exc:  # noqa: BLE001 - every failure is counted, not raised
                ok, err = False, f"{type(exc).__name__}: {exc}"
            dt = time.perf_counter() - t0
            with lock:
                latencies.append(dt)
                if not ok:
                    errors.append(err)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(c,)) for c in pool]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    after = rss_mb(pid) if pid else float("nan")
    lat = sorted(latencies)
    return {
        "clients": clients,
        "requests": len(lat),
        "failures": len(errors),
        "errors": errors,
        "p50_s": statistics.median(lat) if lat else float("nan"),
        "p95_s": lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))] if lat else float("nan"),
        "throughput_rps": len(lat) / wall if wall > 0 else float("nan"),
        "rss_before_mb": before,
        "rss_after_mb": after,
        "rss_growth": (after / before - 1) if before and before == before else float("nan"),
    }


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=25)
    parser.add_argument("--endpoint", choices=("predict", "analyse"), default="predict")
    parser.add_argument("--url", default=None, help="an already running app (default: start one)")
    parser.add_argument("--pid", type=int, default=None, help="the running app's process id, for RSS")
    parser.add_argument("--port", type=int, default=None, help="port for the app it starts (default: a free one)")
    args = parser.parse_args(argv if argv is not None else [])
    if args.url:
        result = run_load(args.url, args.clients, args.requests, args.pid, args.endpoint)
    else:
        sys.path.insert(0, str(REPO / "tests"))
        from app_server import running_app

        with running_app(port=args.port) as server:
            from gradio_client import Client

            _call(Client(server.url, verbose=False), "predict", _photo())
            first_answer_s = time.perf_counter() - server.started_at
            result = run_load(server.url, args.clients, args.requests, server.pid, args.endpoint)
            result.update(first_answer_s=first_answer_s, ready_s=server.ready_after_s)
    name = f"load {args.clients}x{args.requests} /{args.endpoint}"
    rows = [
        {"benchmark": name, "metric": "failures", "value": float(result["failures"]), "target": "0"},
        {"benchmark": name, "metric": "p50 latency s", "value": result["p50_s"], "target": "-"},
        {"benchmark": name, "metric": "p95 latency s", "value": result["p95_s"], "target": "-"},
        {"benchmark": name, "metric": "p95 / p50", "value": result["p95_s"] / result["p50_s"], "target": "-"},
        {"benchmark": name, "metric": "requests per s", "value": result["throughput_rps"], "target": "-"},
        {"benchmark": name, "metric": "RSS before MiB", "value": result["rss_before_mb"], "target": "-"},
        {"benchmark": name, "metric": "RSS after MiB", "value": result["rss_after_mb"], "target": "-"},
        {"benchmark": name, "metric": "RSS growth", "value": result["rss_growth"], "target": "<= 0.10"},
    ]
    if "ready_s" in result:
        rows.insert(0, {"benchmark": name, "metric": "start -> HTTP answer s", "value": result["ready_s"], "target": "-"})
        rows.insert(1, {"benchmark": name, "metric": "start -> first /predict s", "value": result["first_answer_s"], "target": "<= 25"})
    for err in result["errors"][:5]:
        print("failure:", err[:300])
    return rows


if __name__ == "__main__":
    for row in main(sys.argv[1:]):
        print(f"{row['benchmark']:28s} {row['metric']:16s} {row['value']:10.3f}  target {row['target']}")
