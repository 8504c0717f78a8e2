"""GraphiQL works with no internet: the app serves it from its own files. Driven in headless Chromium
(Debian's package, through Playwright pointed at that browser; nothing is downloaded): open /graphql,
put the member's token in the Headers tab, run a query, find the member's data on the page. Skipped
where no browser is installed, except under CI=true (`.ci/run` installs one)."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The flags a sandbox without network wants: no background calls to Google's services.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


def _browser_or_skip() -> str:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        playwright_missing = True
    else:
        playwright_missing = False
    if CHROMIUM and not playwright_missing:
        return CHROMIUM
    why = "no chromium on this machine" if not CHROMIUM else "playwright is not installed"
    if os.environ.get("CI") == "true":
        pytest.fail(f"the GraphiQL browser test must run in CI: {why}")
    pytest.skip(why)


@pytest.fixture
def server(tmp_path):
    """`loyalty serve` on a database of its own, as `make run` starts it; its base URL."""
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'graphiql.db'}",
           "LOYALTY_ENV": "development"}
    loyalty = Path(sys.executable).parent / "loyalty"
    subprocess.run([str(loyalty), "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    process = subprocess.Popen([str(loyalty), "serve", "--port", str(port)], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/healthz")
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_graphiql_runs_a_members_query_in_a_browser_with_no_cdn(server):
    chromium = _browser_or_skip()
    from playwright.async_api import async_playwright

    login = httpx.post(f"{server}/graphql", json={"query": 'mutation { loginWithWeChat(input: {code: "browser"}) '
                                                           "{ accessToken member { memberNo } } }"}).json()
    token, member_no = login["data"]["loginWithWeChat"]["accessToken"], \
        login["data"]["loginWithWeChat"]["member"]["memberNo"]
    requested = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            await page.goto(f"{server}/graphql")
            await page.wait_for_selector(".graphiql-container", timeout=30_000)
            assert "MemberHome" in await page.locator(".graphiql-query-editor").inner_text()  # our operations
            await page.get_by_text("Headers", exact=True).click()
            await page.locator(".graphiql-editor-tool .CodeMirror:visible").click()
            await page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {token}"}))
            await page.locator(".graphiql-query-editor .CodeMirror").click()
            await page.keyboard.press("Control+A")
            await page.keyboard.insert_text("query Mine { me { memberNo pointsBalance tier { name } } }")
            response = page.locator(".graphiql-response")
            for _ in range(20):  # GraphiQL picks up the edited operation's name after a short debounce
                await page.wait_for_timeout(250)
                await page.keyboard.press("Control+Enter")
                await page.wait_for_timeout(250)
                if member_no in await response.inner_text():
                    break
            shown = await response.inner_text()
        finally:
            await browser.close()
    assert member_no in shown and '"pointsBalance": 100' in shown
    assert all(url.startswith(server) or url.startswith("data:") for url in requested), requested  # no CDN
