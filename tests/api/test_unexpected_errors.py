"""An unexpected exception is logged under the request's id, free of personal data, and answered with
a generic message carrying that id; expected errors keep their messages."""
import logging

from server.wechat import DevelopmentWeChat

BIND = 'mutation { bindPhoneNumber(input: {code: "13800138000"}) { userErrors { code } } }'


class BrokenWeChat(DevelopmentWeChat):
    async def phone_number(self, code: str) -> str:
        raise RuntimeError(f"upstream exploded while looking up {code} for +86 13912345678")


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(api_with, caplog):
    async with api_with(wechat=BrokenWeChat()) as api:
        token, _ = await api.login("unlucky")
        with caplog.at_level(logging.ERROR, logger="loyalty.errors"):
            response = await api.post(BIND, token=token, headers={"X-Request-ID": "req-unlucky-1"})
    error = response.json()["errors"][0]
    assert error["message"] == "Internal error; quote request id req-unlucky-1 to support."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-unlucky-1"}
    assert "exploded" not in response.text and "138" not in response.text
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert "req-unlucky-1" in logged and "upstream exploded" in logged and "RuntimeError" in logged
    assert "13800138000" not in logged and "13912345678" not in logged
    assert "138****8000" in logged and "139****5678" in logged


async def test_expected_errors_keep_their_messages_and_are_not_logged(api, caplog):
    with caplog.at_level(logging.ERROR, logger="loyalty.errors"):
        result = await api.execute("{ me { id } }")
        typo = await api.execute("{ tiers { idd } }")
    assert result["errors"][0]["message"].startswith("Sign in first")
    assert typo["errors"][0]["message"] == "Cannot query field 'idd' on type 'Tier'."
    assert not caplog.records
