"""`loyalty serve` as a real process on a database of its own, for tests that drive it from outside (a
browser, Node clients): started as `make run` starts it, stopped after."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
LOYALTY = Path(sys.executable).parent / "loyalty"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The flags a sandbox without network wants: no background calls to Google's services.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def required_or_skip(why: str) -> None:
    """A tool the test needs is missing: skipped on a developer's machine, a failure under CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"this test must run in CI: {why}")
    pytest.skip(why)


def browser_or_skip() -> str:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        required_or_skip("playwright is not installed")
    if not CHROMIUM:
        required_or_skip("no chromium on this machine")
    return CHROMIUM


class LiveServer:
    def __init__(self, base: str, env: dict[str, str]):
        self.base, self.env = base, env
        self.url = f"{base}/graphql"

    def loyalty(self, *args: str) -> str:
        """A `loyalty` command on the server's database; what it printed."""
        done = subprocess.run([str(LOYALTY), *args], env=self.env, check=True, capture_output=True, text=True,
                              timeout=120)
        return done.stdout


@contextmanager
def live_server(tmp_path: Path, **settings: str) -> Iterator[LiveServer]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'live.db'}",
           "LOYALTY_ENV": "development", **settings}
    subprocess.run([str(LOYALTY), "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    process = subprocess.Popen([str(LOYALTY), "serve", "--port", str(port)], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):
            try:
                httpx.get(f"{base}/healthz")
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield LiveServer(base, env)
    finally:
        process.terminate()
        process.wait(timeout=10)
