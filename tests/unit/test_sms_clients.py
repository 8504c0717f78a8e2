"""The SMS clients (server/sms.py) against local fakes of Alibaba Cloud's and Tencent Cloud's SendSms.

Each fake checks the request's signature the way the provider does, recomputed here from what arrived
(method, path, query, headers, body) and the secret, independently of server/sms.py; both checkers are
first pinned to the worked examples in the providers' signature documentation."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import traceback
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import parse_qsl, quote_plus

import httpx
import pytest

from domain.sms import SmsUnavailable
from server import sms
from server.sms import AliyunSms, DevelopmentSms, TencentSms, acs3_authorization, tc3_authorization

PHONE = "13800138000"
CODE = "482913"
SECRET = "s3cr3t-Fz8kQ2vLw9RtY4"
WRONG_SECRET = "wr0ng-Jd3mP7xQs1Hb"
NOW = 1551113065  # 2019-02-25T16:44:25Z, already 26 Feb in China: the signing date must be the UTC one


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- Alibaba Cloud's checker and fake

ACS3_AUTH = re.compile(r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([a-z0-9;\-]+),Signature=([0-9a-f]{64})")
ACS3_REQUIRED = {"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}


def _acs3_encode(value: str) -> str:
    # The documentation's recipe: form-encode, then + → %20, * → %2A, %7E → ~.
    return quote_plus(value, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def acs3_signature_ok(request: httpx.Request, secret: str) -> bool:
    match = ACS3_AUTH.fullmatch(request.headers.get("authorization", ""))
    if not match:
        return False
    names = match.group(2).split(";")
    if not ACS3_REQUIRED <= set(names) or names != sorted(names):
        return False
    body_hash = _sha256(request.content)
    if request.headers.get("x-acs-content-sha256") != body_hash:
        return False
    params = sorted(parse_qsl(request.url.query.decode(), keep_blank_values=True))
    query = "&".join(f"{_acs3_encode(k)}={_acs3_encode(v)}" for k, v in params)
    headers = "".join(f"{name}:{request.headers[name].strip()}\n" for name in names)
    canonical = f"{request.method}\n{request.url.path}\n{query}\n{headers}\n{match.group(2)}\n{body_hash}"
    string_to_sign = "ACS3-HMAC-SHA256\n" + _sha256(canonical.encode())
    expected = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(3))


class FakeAliyun:
    """dysmsapi.aliyuncs.com: a bad signature gets 400 SignatureDoesNotMatch (its message echoing the request,
    as the real one does); a good one gets `answer`."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response] | None = None, secret: str = SECRET):
        self.secret, self.requests = secret, []
        self.answer = answer or (lambda request: httpx.Response(200, json={
            "Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5-B967-440B"}))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not acs3_signature_ok(request, self.secret):
            echo = f"Specified signature does not match our calculation. Query: {request.url.query}"
            return httpx.Response(400, json={"Code": "SignatureDoesNotMatch", "RequestId": "7B2F", "Message": echo})
        return self.answer(request)


def aliyun(fake: Callable[[httpx.Request], httpx.Response], secret: str = SECRET,
           endpoint: str = sms.ALIYUN_ENDPOINT) -> AliyunSms:
    return AliyunSms("LTAI5tTestKeyId", secret, "会员中心", "SMS_154950909", endpoint=endpoint,
                     transport=httpx.MockTransport(fake), clock=lambda: NOW + 0.75)


# ---------------------------------------------------------------- Tencent Cloud's checker and fake

TC3_AUTH = re.compile(r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/([a-z]+)/tc3_request, "
                      r"SignedHeaders=([a-z0-9;\-]+), Signature=([0-9a-f]{64})")


def tc3_signature_ok(request: httpx.Request, secret_key: str, service: str) -> bool:
    match = TC3_AUTH.fullmatch(request.headers.get("authorization", ""))
    if not match:
        return False
    _, day, signed_service, signed, signature = match.groups()
    timestamp = request.headers.get("x-tc-timestamp", "")
    if not timestamp.isdigit() or signed_service != service:
        return False
    if day != datetime.fromtimestamp(int(timestamp), timezone.utc).strftime("%Y-%m-%d"):
        return False
    names = signed.split(";")
    if not {"content-type", "host"} <= set(names) or names != sorted(names):
        return False
    headers = "".join(f"{name}:{request.headers[name].strip().lower()}\n" for name in names)
    canonical = f"{request.method}\n/\n{request.url.query.decode()}\n{headers}\n{signed}\n{_sha256(request.content)}"
    string_to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{day}/{service}/tc3_request\n{_sha256(canonical.encode())}"
    key = ("TC3" + secret_key).encode()
    for part in (day, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def tencent_sent(code: str = "Ok") -> httpx.Response:
    return httpx.Response(200, json={"Response": {"RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
                                                  "SendStatusSet": [{
                                                      "SerialNo": "5000:1045710669157053657849499619",
                                                      "PhoneNumber": "+86" + PHONE, "Fee": 1, "SessionContext": "",
                                                      "Code": code, "Message": f"send status for code {CODE}",
                                                      "IsoCode": "CN"}]}})


def tencent_error(code: str, message: str) -> httpx.Response:
    return httpx.Response(200, json={"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "3f"}})


class FakeTencent:
    """sms.tencentcloudapi.com: a bad signature gets AuthFailure.SignatureFailure (with HTTP 200, as Tencent
    answers errors); a good one gets `answer`."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response] | None = None, secret: str = SECRET):
        self.secret, self.requests = secret, []
        self.answer = answer or (lambda request: tencent_sent())

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not tc3_signature_ok(request, self.secret, "sms"):
            return tencent_error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        return self.answer(request)


def tencent(fake: Callable[[httpx.Request], httpx.Response], secret: str = SECRET,
            endpoint: str = sms.TENCENT_ENDPOINT) -> TencentSms:
    return TencentSms("AKIDtestSecretId0123", secret, "1400787878", "会员中心", "449739", region="ap-nanjing",
                      endpoint=endpoint, transport=httpx.MockTransport(fake), clock=lambda: NOW + 0.75)


def assert_discreet(exc: BaseException, *hidden: str) -> None:
    """Neither the message nor anything a logged traceback would print holds the code or the secret."""
    printed = "".join(traceback.format_exception(exc))
    for value in (CODE, SECRET, *hidden):
        assert value not in str(exc) and value not in printed


# ---------------------------------------------------------------- known answers from the documentation

ALIYUN_DOC = {  # Alibaba Cloud, "V3 request structure and signature", fixed parameter values
    "host": "ecs.cn-shanghai.aliyuncs.com", "x-acs-action": "RunInstances", "x-acs-version": "2014-05-26",
    "x-acs-date": "2023-10-26T10:22:32Z", "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
    "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
ALIYUN_DOC_QUERY = "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
ALIYUN_DOC_AUTHORIZATION = (
    "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;"
    "x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0")

# Tencent Cloud, "Signature v3" (TC3-HMAC-SHA256), the CVM DescribeInstances example
TENCENT_DOC_PAYLOAD = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
TENCENT_DOC_AUTHORIZATION = (
    "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
    "SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168")


def test_acs3_signature_matches_the_documented_example():
    query = sms.acs3_query({"RegionId": "cn-shanghai",
                            "ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"})
    assert query == ALIYUN_DOC_QUERY
    assert acs3_authorization("YourAccessKeyId", "YourAccessKeySecret", "POST", "/", query, ALIYUN_DOC, b"") \
        == ALIYUN_DOC_AUTHORIZATION


def test_tc3_signature_matches_the_documented_example():
    assert tc3_authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "cvm",
                             "cvm.tencentcloudapi.com", "application/json; charset=utf-8", TENCENT_DOC_PAYLOAD,
                             1551113065) == TENCENT_DOC_AUTHORIZATION


def test_the_fakes_checkers_accept_the_documented_examples_and_nothing_else():
    request = httpx.Request("POST", f"https://ecs.cn-shanghai.aliyuncs.com/?{ALIYUN_DOC_QUERY}",
                            headers={**ALIYUN_DOC, "Authorization": ALIYUN_DOC_AUTHORIZATION})
    assert acs3_signature_ok(request, "YourAccessKeySecret")
    assert not acs3_signature_ok(request, "AnotherSecret")
    request = httpx.Request("POST", "https://cvm.tencentcloudapi.com/", content=TENCENT_DOC_PAYLOAD, headers={
        "Authorization": TENCENT_DOC_AUTHORIZATION, "Content-Type": "application/json; charset=utf-8",
        "Host": "cvm.tencentcloudapi.com", "X-TC-Action": "DescribeInstances", "X-TC-Timestamp": "1551113065",
        "X-TC-Version": "2017-03-12", "X-TC-Region": "ap-guangzhou"})
    assert tc3_signature_ok(request, "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "cvm")
    assert not tc3_signature_ok(request, "AnotherSecret", "cvm")


# ---------------------------------------------------------------- codes

async def test_development_code_is_always_000000_and_nothing_is_sent():
    dev = DevelopmentSms()
    assert {dev.new_code() for _ in range(5)} == {"000000"}
    assert await dev.send(PHONE, "000000") is None


@pytest.mark.parametrize("client", [aliyun(FakeAliyun()), tencent(FakeTencent())], ids=["aliyun", "tencent"])
def test_new_code_is_six_random_digits(client, monkeypatch):
    codes = [client.new_code() for _ in range(300)]
    assert all(re.fullmatch(r"[0-9]{6}", code) for code in codes)
    assert len(set(codes)) > 250
    drawn = []
    monkeypatch.setattr(sms.secrets, "randbelow", lambda n: drawn.append(n) or 42)
    assert client.new_code() == "000042" and drawn == [1_000_000]


# ---------------------------------------------------------------- Alibaba Cloud

@pytest.mark.parametrize("endpoint", [sms.ALIYUN_ENDPOINT, "http://127.0.0.1:8765"])
async def test_aliyun_sends_a_signed_send_sms_the_fake_accepts(endpoint):
    fake = FakeAliyun()
    await aliyun(fake, endpoint=endpoint).send(PHONE, CODE)
    [request] = fake.requests
    assert acs3_signature_ok(request, SECRET)
    assert request.method == "POST" and request.url.path == "/" and request.content == b""
    assert request.headers["host"] == httpx.URL(endpoint).netloc.decode()
    assert request.headers["x-acs-action"] == "SendSms" and request.headers["x-acs-version"] == "2017-05-25"
    assert request.headers["x-acs-date"] == "2019-02-25T16:44:25Z"
    assert re.fullmatch(r"[0-9a-f]{32}", request.headers["x-acs-signature-nonce"])
    assert request.headers["x-acs-content-sha256"] == _sha256(b"")
    assert request.headers["authorization"].startswith("ACS3-HMAC-SHA256 Credential=LTAI5tTestKeyId,SignedHeaders=")
    params = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
    assert params.keys() == {"PhoneNumbers", "SignName", "TemplateCode", "TemplateParam"}
    assert params["PhoneNumbers"] == PHONE and params["SignName"] == "会员中心"
    assert params["TemplateCode"] == "SMS_154950909"
    assert json.loads(params["TemplateParam"]) == {"code": CODE}
    assert "%E4%BC%9A" in request.url.query.decode()  # UTF-8, percent-encoded


async def test_aliyun_nonce_is_fresh_for_every_request():
    fake = FakeAliyun()
    client = aliyun(fake)
    await client.send(PHONE, CODE)
    await client.send(PHONE, CODE)
    assert fake.requests[0].headers["x-acs-signature-nonce"] != fake.requests[1].headers["x-acs-signature-nonce"]


async def test_aliyun_with_the_wrong_secret_is_refused():
    with pytest.raises(SmsUnavailable, match="SignatureDoesNotMatch") as caught:
        await aliyun(FakeAliyun(secret=SECRET), secret=WRONG_SECRET).send(PHONE, CODE)
    assert_discreet(caught.value, WRONG_SECRET)


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectTimeout(f"timed out connecting for {request.url}", request=request)


@pytest.mark.parametrize("answer, reason", [
    (lambda r: httpx.Response(200, json={"Code": "isv.BUSINESS_LIMIT_CONTROL", "RequestId": "1",
                                         "Message": f"触发小时级流控Permits:5 ({CODE})"}),
     "isv.BUSINESS_LIMIT_CONTROL"),
    (lambda r: httpx.Response(200, json={"Code": f"isv.CODE_{CODE}", "Message": "?"}), "no reason given"),
    (lambda r: httpx.Response(500, json={"Code": "InternalError", "Message": "The request processing has failed."}),
     "HTTP 500, InternalError"),
    (lambda r: httpx.Response(500, text="<html>Internal Server Error</html>"), "unreadable answer (HTTP 500)"),
    (lambda r: httpx.Response(200, text=f"not json {r.url}"), "unreadable answer (HTTP 200)"),
    (lambda r: httpx.Response(200, json=["OK"]), "unreadable answer"),
    (_timeout, "could not be reached (ConnectTimeout)"),
], ids=["refusal", "code-in-refusal", "http-500-json", "http-500-html", "not-json", "not-an-object", "timeout"])
async def test_aliyun_failures_raise_sms_unavailable_without_the_code_or_secret(answer, reason):
    with pytest.raises(SmsUnavailable) as caught:
        await aliyun(FakeAliyun(answer)).send(PHONE, CODE)
    assert reason in str(caught.value) and str(caught.value).startswith("Alibaba Cloud SMS")
    assert_discreet(caught.value)


# ---------------------------------------------------------------- Tencent Cloud

@pytest.mark.parametrize("endpoint", [sms.TENCENT_ENDPOINT, "http://127.0.0.1:8765"])
async def test_tencent_sends_a_signed_send_sms_the_fake_accepts(endpoint):
    fake = FakeTencent()
    await tencent(fake, endpoint=endpoint).send(PHONE, CODE)
    [request] = fake.requests
    assert tc3_signature_ok(request, SECRET, "sms")
    assert request.method == "POST" and request.url.path == "/" and request.url.query == b""
    assert request.headers["host"] == httpx.URL(endpoint).netloc.decode()
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["x-tc-action"] == "SendSms" and request.headers["x-tc-version"] == "2021-01-11"
    assert request.headers["x-tc-region"] == "ap-nanjing" and request.headers["x-tc-timestamp"] == str(NOW)
    assert request.headers["authorization"].startswith(
        "TC3-HMAC-SHA256 Credential=AKIDtestSecretId0123/2019-02-25/sms/tc3_request, SignedHeaders=content-type;host, ")
    assert json.loads(request.content) == {"PhoneNumberSet": ["+8613800138000"], "SmsSdkAppId": "1400787878",
                                           "SignName": "会员中心", "TemplateId": "449739", "TemplateParamSet": [CODE]}


async def test_tencent_with_the_wrong_secret_is_refused():
    with pytest.raises(SmsUnavailable, match="AuthFailure.SignatureFailure") as caught:
        await tencent(FakeTencent(secret=SECRET), secret=WRONG_SECRET).send(PHONE, CODE)
    assert_discreet(caught.value, WRONG_SECRET)


@pytest.mark.parametrize("answer, reason", [
    (lambda r: tencent_sent("LimitExceeded.PhoneNumberDailyLimit"), "LimitExceeded.PhoneNumberDailyLimit"),
    (lambda r: tencent_error("FailedOperation.TemplateIncorrectOrUnapproved", f"template param {CODE} refused"),
     "FailedOperation.TemplateIncorrectOrUnapproved"),
    (lambda r: tencent_sent(f"Ok{CODE}"), "no reason given"),
    (lambda r: httpx.Response(200, json={"Response": {"SendStatusSet": [], "RequestId": "1"}}), "no reason given"),
    (lambda r: httpx.Response(500, json={"Response": {"Error": {"Code": "InternalError", "Message": "x"}}}),
     "HTTP 500, InternalError"),
    (lambda r: httpx.Response(502, text="<html>Bad Gateway</html>"), "unreadable answer (HTTP 502)"),
    (lambda r: httpx.Response(200, content=b"\x00" + r.content), "unreadable answer (HTTP 200)"),
    (_timeout, "could not be reached (ConnectTimeout)"),
], ids=["refusal", "error", "code-in-refusal", "no-status", "http-500", "http-502-html", "not-json", "timeout"])
async def test_tencent_failures_raise_sms_unavailable_without_the_code_or_secret(answer, reason):
    with pytest.raises(SmsUnavailable) as caught:
        await tencent(FakeTencent(answer)).send(PHONE, CODE)
    assert reason in str(caught.value) and str(caught.value).startswith("Tencent Cloud SMS")
    assert_discreet(caught.value)
