"""Environment-dependent behaviour: production refusals, GraphiQL, the test clock, the WeChat client."""
import base64
import binascii
import re
from pathlib import Path

import httpx
import pytest

from server.app import build_services, create_app
from server.services import Services
from server.settings import DEV_DATA_KEY, DEV_SECRET_KEY, NOT_PROJECT, Settings, SettingsError
from server.wechat import WeChatClient, WeChatRefused
from tests.conftest import TEST_ENV, production_env


def test_production_refuses_to_start_without_secret_key():
    with pytest.raises(SettingsError, match="LOYALTY_SECRET_KEY"):
        Settings.from_env({"LOYALTY_ENV": "production"})


def test_unknown_environment_is_refused():
    with pytest.raises(SettingsError, match="LOYALTY_ENV"):
        Settings.from_env({"LOYALTY_ENV": "staging"})


async def _client(services: Services, environment: str) -> httpx.AsyncClient:
    settings = Settings.from_env(production_env(LOYALTY_ENV=environment))
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


ROOT = Path(__file__).resolve().parents[2]


def keys_written_in_the_repository() -> tuple[set[str], set[str]]:
    """Every string in the project's files that could serve as a signing key (32+ characters in quotes
    or after `=`) or as a data key (base64 of 32 bytes)."""
    secrets_found, data_keys = set(), set()
    for path in ROOT.rglob("*"):
        if any(part in NOT_PROJECT for part in path.relative_to(ROOT).parts):  # what `published` reads
            continue
        if not path.is_file() or path.suffix not in (".py", ".md", ".toml", ".txt", ".yml", ".sh", ""):
            continue
        text = path.read_text(errors="ignore")
        for candidate in re.findall(r"""["'=]([A-Za-z0-9+/=_.\-]{32,128})["'\s]""", text):
            try:
                if len(base64.b64decode(candidate, validate=True)) == 32:
                    data_keys.add(candidate)
            except (binascii.Error, ValueError):
                pass
            secrets_found.add(candidate)
    return secrets_found, data_keys


def test_production_refuses_the_development_keys_and_every_key_in_the_repository():
    secrets_found, data_keys = keys_written_in_the_repository()
    assert {DEV_SECRET_KEY, TEST_ENV["LOYALTY_SECRET_KEY"]} <= secrets_found  # the scan sees what it must
    data_keys.add(DEV_DATA_KEY)
    for key in secrets_found:
        with pytest.raises(SettingsError, match="LOYALTY_SECRET_KEY") as refused:
            Settings.from_env(production_env(LOYALTY_SECRET_KEY=key))
        assert "\n" not in str(refused.value), key  # one line: nothing else is wrong
    for key in data_keys:
        with pytest.raises(SettingsError, match="LOYALTY_DATA_KEY") as refused:
            Settings.from_env(production_env(LOYALTY_DATA_KEY=key))
        assert "\n" not in str(refused.value), key
    for patterned in ("k" * 48, "ab" * 24):
        with pytest.raises(SettingsError, match="LOYALTY_SECRET_KEY"):
            Settings.from_env(production_env(LOYALTY_SECRET_KEY=patterned))
    with pytest.raises(SettingsError, match="LOYALTY_DATA_KEY"):
        Settings.from_env(production_env(LOYALTY_DATA_KEY=base64.b64encode(b"n" * 32).decode()))
    assert Settings.from_env(production_env()).is_production  # keys of its own are taken
    assert Settings.from_env({"LOYALTY_SECRET_KEY": DEV_SECRET_KEY}).secret_key == DEV_SECRET_KEY  # development


def test_every_problem_with_the_settings_is_named_at_once_one_line_each():
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"LOYALTY_ENV": "production", "LOYALTY_MAX_BATCH": "many",
                           "LOYALTY_RATE_LIMITS": "login_ip=fast", "LOYALTY_DB_POOL_SIZE": "0"})
    lines = str(refused.value).splitlines()
    assert [line.split(" ")[0].rstrip(":") for line in lines] == [
        "LOYALTY_SECRET_KEY", "LOYALTY_DATA_KEY", "DATABASE_URL", "LOYALTY_WECHAT_APPID", "LOYALTY_RATE_LIMITS",
        "LOYALTY_MAX_BATCH", "LOYALTY_DB_POOL_SIZE"]


def test_the_mobile_apps_wechat_and_the_sms_provider_are_set_up_whole_or_not_at_all():
    with pytest.raises(SettingsError, match="LOYALTY_WECHAT_APP_APPID and LOYALTY_WECHAT_APP_SECRET go together"):
        Settings.from_env({"LOYALTY_WECHAT_APP_APPID": "wx-app-only"})
    with pytest.raises(SettingsError, match="LOYALTY_SMS_PROVIDER must be one of aliyun, tencent"):
        Settings.from_env({"LOYALTY_SMS_PROVIDER": "twilio"})
    with pytest.raises(SettingsError, match="needs LOYALTY_SMS_ACCESS_KEY_SECRET, LOYALTY_SMS_SDK_APP_ID"):
        Settings.from_env({"LOYALTY_SMS_PROVIDER": "tencent", "LOYALTY_SMS_ACCESS_KEY_ID": "id",
                           "LOYALTY_SMS_SIGN_NAME": "会员中心", "LOYALTY_SMS_TEMPLATE": "1"})
    sms = Settings.from_env({"LOYALTY_SMS_PROVIDER": "aliyun", "LOYALTY_SMS_ACCESS_KEY_ID": "id",
                             "LOYALTY_SMS_ACCESS_KEY_SECRET": "secret", "LOYALTY_SMS_SIGN_NAME": "会员中心",
                             "LOYALTY_SMS_TEMPLATE": "SMS_1"}).sms
    assert (sms.provider, sms.template) == ("aliyun", "SMS_1")
    production = Settings.from_env(production_env())
    assert production.sms is None and production.wechat_app_appid is None   # both off: no stand-ins there
    services = build_services(production)
    assert services.sms is None
