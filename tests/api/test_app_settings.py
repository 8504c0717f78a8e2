"""Environment-dependent behaviour: production refusals, GraphiQL, the test clock, the WeChat client."""
import httpx
import pytest

from api.app import create_app
from api.context import Services
from api.settings import Settings, SettingsError
from api.wechat import WeChatClient, WeChatRefused


def test_production_refuses_to_start_without_secret_key():
    with pytest.raises(SettingsError, match="LOYALTY_SECRET_KEY"):
        Settings.from_env({"LOYALTY_ENV": "production"})


def test_unknown_environment_is_refused():
    with pytest.raises(SettingsError, match="LOYALTY_ENV"):
        Settings.from_env({"LOYALTY_ENV": "staging"})


async def _client(services: Services, environment: str) -> httpx.AsyncClient:
    settings = Settings.from_env({"LOYALTY_ENV": environment, "LOYALTY_SECRET_KEY": "k" * 32,
                                  "LOYALTY_DATA_KEY": "dGVzdC1kYXRhLWtleS1vZi1leGFjdGx5LTMyLWJ5dGU="})
    app = create_app(services=Services(settings, services.program, services.database, services.wechat))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://loyalty.test")


async def test_graphiql_is_served_outside_production_only(services):
    async with await _client(services, "development") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
    async with await _client(services, "production") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 404


async def test_production_ignores_the_test_clock(services):
    query = "mutation { loginWithWeChat(input: {code: \"clock\"}) { accessToken member { id } } }"
    home = "{ me { checkInStatus { checkedInToday } } }"
    check_in = 'mutation { checkIn(input: {idempotencyKey: "k"}) { checkIn { date } userErrors { code } } }'
    async with await _client(services, "production") as client:
        login = (await client.post("/graphql", json={"query": query})).json()["data"]["loginWithWeChat"]
        headers = {"Authorization": f"Bearer {login['accessToken']}", "X-Loyalty-Now": "2020-01-01T10:00:00+08:00"}
        answer = (await client.post("/graphql", json={"query": check_in}, headers=headers)).json()
        assert answer["data"]["checkIn"]["checkIn"]["date"] != "2020-01-01"
        # without the header, today is the real today: already checked in
        status = (await client.post("/graphql", json={"query": home},
                                    headers={"Authorization": headers["Authorization"]})).json()
        assert status["data"]["me"]["checkInStatus"]["checkedInToday"] is True


async def test_wechat_client_reads_openid_and_unionid():
    seen = {}

    def wechat(request: httpx.Request) -> httpx.Response:
        seen.update(request.url.params)
        return httpx.Response(200, json={"openid": "o-real", "unionid": "u-real", "session_key": "s"})

    client = WeChatClient("wx-app", "wx-secret", transport=httpx.MockTransport(wechat))
    identity = await client.code_to_session("the-code")
    assert (identity.openid, identity.unionid) == ("o-real", "u-real")
    assert seen == {"appid": "wx-app", "secret": "wx-secret", "js_code": "the-code", "grant_type": "authorization_code"}


async def test_wechat_client_refuses_a_code_wechat_rejects():
    client = WeChatClient("wx-app", "wx-secret", transport=httpx.MockTransport(
        lambda request: httpx.Response(200, json={"errcode": 40029, "errmsg": "invalid code"})))
    with pytest.raises(WeChatRefused, match="40029"):
        await client.code_to_session("bad")


async def test_login_with_a_code_wechat_rejects_is_a_user_error(api, services):
    class Refusing:
        async def code_to_session(self, code):
            raise WeChatRefused("WeChat refused the code (errcode 40163).")

    services.wechat = Refusing()
    result = await api.op("LoginWithWeChat", {"code": "used-twice"})
    payload = result["data"]["loginWithWeChat"]
    assert payload["accessToken"] is None
    assert payload["userErrors"][0]["code"] == "INVALID_INPUT"


async def test_start_refuses_a_program_the_database_was_not_upgraded_to(services, programs):
    mismatched = Services(services.settings, programs["fresh-grocery"], services.database, services.wechat)
    app = create_app(services=mismatched)
    with pytest.raises(RuntimeError, match="loyalty db upgrade"):
        async with app.router.lifespan_context(app):
            pass
    app = create_app(services=services)
    async with app.router.lifespan_context(app):
        pass
