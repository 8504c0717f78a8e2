"""Sessions, attacked: access tokens live 15 minutes and name a live session; refresh tokens rotate,
and presenting a spent one (a stolen copy) ends the whole session; logout stops the access token at
once; a token cannot be bent into another session, member or kind of caller."""
import secrets
from datetime import datetime, timedelta, timezone

import jwt
from sqlalchemy import update

from api.core.auth import MEMBER_AUDIENCE, STAFF_AUDIENCE, issue_access_token
from persistence.tables import refresh_tokens

REFRESH = """
mutation RefreshAccessToken($refreshToken: String!) {
  refreshAccessToken(input: { refreshToken: $refreshToken }) {
    accessToken expiresAt refreshToken userErrors { field message code }
  }
}
"""
LOGOUT = "mutation Logout { logout { userErrors { field message code } } }"
ME = "{ me { id memberNo } }"


async def refresh(api, token: str) -> dict:
    result = await api.execute(REFRESH, {"refreshToken": token})
    assert "errors" not in result, result
    return result["data"]["refreshAccessToken"]


async def signed_in(api, token: str) -> bool:
    result = await api.execute(ME, token=token)
    if "errors" in result:
        assert [e["extensions"]["code"] for e in result["errors"]] in (["TOKEN_INVALID"], ["TOKEN_EXPIRED"]), result
        return False
    return True


def refused(payload: dict) -> bool:
    return [e["code"] for e in payload["userErrors"]] == ["INVALID_TOKEN"] and payload["accessToken"] is None


async def test_access_tokens_live_15_minutes(api):
    before = datetime.now(timezone.utc)
    payload = await api.sign_in("ttl")
    expires = datetime.fromisoformat(payload["expiresAt"])
    assert timedelta(minutes=14, seconds=58) <= expires - before <= timedelta(minutes=15, seconds=2)
    claims = jwt.decode(payload["accessToken"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert payload["refreshToken"].startswith("rt_")


async def test_refresh_tokens_rotate_and_each_works_once(api):
    first = await api.sign_in("rotate")
    second = await refresh(api, first["refreshToken"])
    assert second["userErrors"] == [] and second["refreshToken"] != first["refreshToken"]
    assert await signed_in(api, second["accessToken"])
    third = await refresh(api, second["refreshToken"])
    assert third["userErrors"] == [] and await signed_in(api, third["accessToken"])


async def test_a_spent_refresh_token_presented_again_ends_the_whole_session(api):
    """The thief and the member both hold the token; whoever comes second ends it for both."""
    stolen = await api.sign_in("victim")
    member = await refresh(api, stolen["refreshToken"])
    attacker = await refresh(api, stolen["refreshToken"])
    assert refused(attacker)
    assert refused(await refresh(api, member["refreshToken"]))          # the member's new one is dead too
    assert not await signed_in(api, member["accessToken"])            # and so are the session's access tokens
    assert not await signed_in(api, stolen["accessToken"])
    other = await api.sign_in("victim")                              # a new sign-in is a new session
    assert await signed_in(api, other["accessToken"])


async def test_logout_stops_the_access_token_at_once(api):
    session = await api.sign_in("leaver")
    other_device = await api.sign_in("leaver")
    assert (await api.execute(LOGOUT, token=session["accessToken"]))["data"]["logout"]["userErrors"] == []
    assert not await signed_in(api, session["accessToken"])
    assert refused(await refresh(api, session["refreshToken"]))
    assert await signed_in(api, other_device["accessToken"])        # another session of the member goes on
    assert (await api.execute(LOGOUT))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_unknown_expired_and_misused_refresh_tokens_are_refused(api, database):
    session = await api.sign_in("expiring")
    for bad in ["rt_unknown", "", "x" * 500, session["accessToken"]]:
        assert refused(await refresh(api, bad)), bad
    async with database.transaction() as conn:
        await conn.execute(update(refresh_tokens).values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert refused(await refresh(api, session["refreshToken"]))


async def test_a_token_cannot_be_bent_to_another_session_or_kind(api, settings):
    mine = await api.sign_in("bender")
    theirs = await api.sign_in("bent")
    claims = jwt.decode(mine["accessToken"], options={"verify_signature": False})
    their_claims = jwt.decode(theirs["accessToken"], options={"verify_signature": False})
    assert set(claims) == {"sid", "aud", "iat", "exp"}  # no sequential id to count from
    assert len(claims["sid"]) >= 22 and claims["sid"] != their_claims["sid"]
    now = datetime.now(timezone.utc)
    forged = {
        # signed with the real key (as if the key leaked), a session must still be guessed: 128 random bits
        "a made-up session": issue_access_token(settings.secret_key, MEMBER_AUDIENCE, secrets.token_urlsafe(16),
                                                now, 600)[0],
        "a session id as sequential ids were": issue_access_token(settings.secret_key, MEMBER_AUDIENCE, "1", now,
                                                                  600)[0],
        "a staff token for a member session": issue_access_token(settings.secret_key, STAFF_AUDIENCE, claims["sid"],
                                                                 now, 600)[0],
        "no session": jwt.encode({"aud": MEMBER_AUDIENCE, "exp": int(now.timestamp()) + 600},
                                 settings.secret_key, algorithm="HS256"),
        "a session named by a number": jwt.encode({"sid": 1, "aud": MEMBER_AUDIENCE, "exp": int(now.timestamp()) + 600},
                                                  settings.secret_key, algorithm="HS256"),
        "expired": issue_access_token(settings.secret_key, MEMBER_AUDIENCE, claims["sid"],
                                      now - timedelta(minutes=16), 900)[0],
    }
    for label, token in forged.items():
        assert not await signed_in(api, token), label
    assert await signed_in(api, mine["accessToken"])


async def test_each_reason_a_token_fails_is_its_own_answer(api, settings):
    """A client must tell "refresh the token" from "sign in again": an expired token of a live session is
    TOKEN_EXPIRED, and refreshing then works; a token of an ended session or one not issued here is
    TOKEN_INVALID (sign in again), no token at all UNAUTHENTICATED, an unknown key API_KEY_INVALID, each
    saying why."""
    session = await api.sign_in("reasons")
    sid = jwt.decode(session["accessToken"], options={"verify_signature": False})["sid"]
    expired = issue_access_token(settings.secret_key, MEMBER_AUDIENCE, sid,
                                 datetime.now(timezone.utc) - timedelta(minutes=16), 900)[0]

    async def answer(**kw) -> tuple[str, str]:
        error = (await api.execute(ME, **kw))["errors"][0]
        return error["extensions"]["code"], error["message"]

    code, message = await answer(token=expired)
    assert code == "TOKEN_EXPIRED" and "refreshAccessToken" in message
    renewed = await refresh(api, session["refreshToken"])
    assert await signed_in(api, renewed["accessToken"])
    code, message = await answer(token="not-a-token")
    assert code == "TOKEN_INVALID" and "not one this service issued" in message
    code, message = await answer()
    assert code == "UNAUTHENTICATED" and message.startswith("Sign in first")
    await api.execute(LOGOUT, token=renewed["accessToken"])
    for token in (renewed["accessToken"], expired):  # the session ended: refreshing cannot help
        code, message = await answer(token=token)
        assert code == "TOKEN_INVALID" and "session has ended" in message
    code, message = await answer(api_key="lk_no-such-key-was-ever-made")
    assert code == "API_KEY_INVALID" and "API key" in message
