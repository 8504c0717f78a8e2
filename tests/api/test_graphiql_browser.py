"""GraphiQL works with no internet: the app serves it from its own files. Driven in headless Chromium
(Debian's package, through Playwright pointed at that browser; nothing is downloaded): open /graphql,
put the member's token in the Headers tab, run a query, find the member's data on the page. Skipped
where no browser is installed, except under CI=true (`.ci/run` installs one)."""
from __future__ import annotations

import json

import httpx
import pytest

from tests.live_server import CHROMIUM_FLAGS, browser_or_skip, live_server


@pytest.fixture
def server(tmp_path):
    """`loyalty serve` on a database of its own, as `make run` starts it; its base URL."""
    with live_server(tmp_path) as running:
        yield running.base


async def test_graphiql_runs_a_members_query_in_a_browser_with_no_cdn(server):
    chromium = browser_or_skip()
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
