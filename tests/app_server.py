"""Start `python app.py` on a free port in a subprocess, offline, and wait until it answers.

Usage (tests, benchmarks):

    from tests.app_server import AppServer, running_app

    with running_app() as server:          # server.url, server.log_text(), server.pid
        Client(server.url).predict(...)

or the session fixture factory in a test module / conftest:

    app_server = app_server_fixture()        # -> a pytest fixture yielding an AppServer

The server runs with HF_HUB_OFFLINE=1 and GRADIO_ANALYTICS_ENABLED=False; its stdout/stderr go to a
log file (`server.log_path`) so a test can check that no traceback reached the user while the
server logged the details.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AppServer:
    """A running `app.py` subprocess."""

    def __init__(self, port: int | None = None, args: list[str] | tuple[str, ...] = (), env: dict | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.args = list(args)
        self.env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.ready_after_s: float | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="fer-app-", suffix=".log", delete=False)
        self.log_path = Path(self._log.name)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 180.0) -> AppServer:
        env = dict(os.environ)
        env.update({"HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"})
        env.setdefault("OMP_NUM_THREADS", "2")
        env.update(self.env)
        cmd = [sys.executable, str(REPO / "app.py"), "--host", "127.0.0.1", "--port", str(self.port), *self.args]
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=str(REPO), env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.wait_ready(timeout)
        return self

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "gradio_api/info", timeout=5) as resp:
                return resp.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def wait_ready(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with code {self.proc.returncode}:\n{self.log_text()[-4000:]}")
            if self.answers():
                self.ready_after_s = time.perf_counter() - self.started_at
                return
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"app.py did not answer within {timeout:.0f} s:\n{self.log_text()[-4000:]}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


@contextlib.contextmanager
def running_app(port: int | None = None, args=(), env: dict | None = None, timeout: float = 180.0):
    """Context manager: a started `AppServer`, stopped on exit."""
    server = AppServer(port, args, env)
    try:
        yield server.start(timeout)
    finally:
        server.stop()


def app_server_fixture(scope: str = "session", **kwargs):
    """A pytest fixture (default: one server per test session) yielding a running `AppServer`."""
    import pytest

    @pytest.fixture(scope=scope)
    def _app_server():
        with running_app(**kwargs) as server:
            yield server

    return _app_server
