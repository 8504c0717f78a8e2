"""CORS in a real browser (headless Chromium, as in test_graphiql_browser): a page served from an origin in
LOYALTY_CORS_ORIGINS calls the API with a member's token (a preflighted POST, and a GET) and reads the
answer and its X-Request-ID; the same page from another origin cannot read anything, and its preflight is
refused. Skipped where no browser is installed, except under CI=true."""
from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.live_server import CHROMIUM_FLAGS, browser_or_skip, free_port, live_server

PAGE = "<!doctype html><title>console</title><p>a staff console</p>"

CALL = """async ([url, token]) => {
  try {
    const posted = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json',
      authorization: `Bearer ${token}`}, body: JSON.stringify({query: '{ me { memberNo pointsBalance } }'})});
    const got = await fetch(url + '?query=' + encodeURIComponent('{ tiers { code } }'));
    return {ok: true, member: (await posted.json()).data.me.memberNo, requestId: posted.headers.get('x-request-id'),
            tiers: (await got.json()).data.tiers.length};
  } catch (error) {
    return {ok: false, error: String(error)};
  }
}"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def pages(tmp_path):
    """Two static sites on two origins, each serving the same page."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text(PAGE)
    servers = []
    for _ in range(2):
        server = ThreadingHTTPServer(("127.0.0.1", free_port()),
                                     partial(QuietHandler, directory=str(tmp_path / "site")))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield [f"http://127.0.0.1:{server.server_address[1]}" for server in servers]
    for server in servers:
        server.shutdown()


async def test_a_page_on_an_allowed_origin_calls_the_api_and_one_on_another_origin_cannot(tmp_path, pages):
    chromium = browser_or_skip()
    from playwright.async_api import async_playwright

    allowed, other = pages
    with live_server(tmp_path, LOYALTY_CORS_ORIGINS=allowed) as server:
        login = httpx.post(server.url, json={"query": 'mutation { loginWithWeChat(input: {code: "cors"}) '
                                                      "{ accessToken member { memberNo } } }"}).json()
        token = login["data"]["loginWithWeChat"]["accessToken"]
        member_no = login["data"]["loginWithWeChat"]["member"]["memberNo"]
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            try:
                answers = {}
                for origin in (allowed, other):
                    page = await browser.new_page()
                    await page.goto(f"{origin}/index.html")
                    answers[origin] = await page.evaluate(CALL, [server.url, token])
                    await page.close()
            finally:
                await browser.close()
        refused = httpx.options(server.url, headers={"Origin": other, "Access-Control-Request-Method": "POST"})
    assert answers[allowed]["ok"], answers[allowed]
    assert answers[allowed]["member"] == member_no and answers[allowed]["tiers"] > 0
    assert len(answers[allowed]["requestId"]) >= 8  # exposed to the page
    assert answers[other] == {"ok": False, "error": "TypeError: Failed to fetch"}
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    assert refused.json()["errors"][0]["extensions"]["code"] == "CORS_REFUSED"
