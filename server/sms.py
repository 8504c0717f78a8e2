"""SMS for phone sign-in: Alibaba Cloud's and Tencent Cloud's SendSms, each request signed here (Alibaba Cloud's
V3 signature, Tencent Cloud's TC3-HMAC-SHA256), or the development stand-in outside production."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Callable
from urllib.parse import quote

import httpx

from domain.sms import SmsUnavailable

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com"
TENCENT_ENDPOINT = "https://sms.tencentcloudapi.com"
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,79}")


class DevelopmentSms:
    """The contract's stand-in: nothing is sent, and the code is always 000000, whatever the number."""

    def new_code(self) -> str:
        return "000000"

    async def send(self, phone: str, code: str) -> None:
        return None


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _reason(value: object, *hidden: str) -> str:
    """The provider's error code when it is a plain identifier holding none of `hidden` (the SMS code, the
    secret): its messages are never passed on, as they may echo the request."""
    if isinstance(value, str) and _IDENTIFIER.fullmatch(value) and not any(h and h in value for h in hidden):
        return value
    return "no reason given"


async def _post(provider: str, transport: httpx.AsyncBaseTransport | None, url: str, headers: dict[str, str],
                 content: bytes) -> tuple[int, dict]:
    """POST and read a JSON object back; SmsUnavailable when unreachable or unreadable. Raised `from None`:
    httpx's errors carry the request, whose URL or body holds the code."""
    try:
        async with httpx.AsyncClient(timeout=5.0, transport=transport) as client:
            response = await client.post(url, headers=headers, content=content)
    except httpx.HTTPError as exc:
        raise SmsUnavailable(f"{provider} could not be reached ({type(exc).__name__}); try again.") from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise SmsUnavailable(f"{provider} gave an unreadable answer (HTTP {response.status_code}).")
    return response.status_code, data


def _host(endpoint: str) -> str:
    return httpx.URL(endpoint).netloc.decode("ascii")


# ---------------------------------------------------------------- Alibaba Cloud

def acs3_query(params: dict[str, str]) -> str:
    """The canonical query string: sorted by name, names and values percent-encoded per RFC 3986 (only
    A-Z a-z 0-9 - _ . ~ left as they are). Sent as is, so what is signed is what arrives."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params.items()))


def acs3_authorization(access_key_id: str, access_key_secret: str, method: str, path: str, query: str,
                       headers: dict[str, str], body: bytes) -> str:
    """Alibaba Cloud's V3 signature (ACS3-HMAC-SHA256) over host, content-type and the x-acs-* headers:
    HMAC-SHA256(secret, "ACS3-HMAC-SHA256\\n" + hex(SHA256(canonical request))), in hex."""
    signed = sorted((k.lower(), v.strip()) for k, v in headers.items()
                    if k.lower() in ("host", "content-type") or k.lower().startswith("x-acs-"))
    names = ";".join(k for k, _ in signed)
    canonical = "\n".join([method, path, query, "".join(f"{k}:{v}\n" for k, v in signed), names, _sha256(body)])
    signature = _hmac(access_key_secret.encode(), "ACS3-HMAC-SHA256\n" + _sha256(canonical.encode())).hex()
    return f"ACS3-HMAC-SHA256 Credential={access_key_id},SignedHeaders={names},Signature={signature}"


class AliyunSms:
    """Alibaba Cloud SMS SendSms (2017-05-25): an RPC call, its parameters in the query string and the body
    empty; success is Code "OK"."""

    def __init__(self, access_key_id: str, access_key_secret: str, sign_name: str, template_code: str,
                 endpoint: str = ALIYUN_ENDPOINT, transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.time):
        self.access_key_id, self.access_key_secret = access_key_id, access_key_secret
        self.sign_name, self.template_code = sign_name, template_code
        self.endpoint, self.transport, self.clock = endpoint.rstrip("/"), transport, clock

    def new_code(self) -> str:
        return _new_code()

    async def send(self, phone: str, code: str) -> None:
        query = acs3_query({"PhoneNumbers": phone, "SignName": self.sign_name, "TemplateCode": self.template_code,
                            "TemplateParam": json.dumps({"code": code})})
        headers = {"host": _host(self.endpoint), "x-acs-action": "SendSms", "x-acs-version": "2017-05-25",
                   "x-acs-date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock())),
                   "x-acs-signature-nonce": secrets.token_hex(16), "x-acs-content-sha256": _sha256(b"")}
        headers["Authorization"] = acs3_authorization(self.access_key_id, self.access_key_secret, "POST", "/",
                                                      query, headers, b"")
        status, data = await _post("Alibaba Cloud SMS", self.transport, f"{self.endpoint}/?{query}", headers, b"")
        if status != 200 or data.get("Code") != "OK":
            reason = _reason(data.get("Code"), code, self.access_key_secret)
            raise SmsUnavailable(f"Alibaba Cloud SMS refused to send (HTTP {status}, {reason}).")


# ---------------------------------------------------------------- Tencent Cloud

def tc3_authorization(secret_id: str, secret_key: str, service: str, host: str, content_type: str,
                      payload: bytes, timestamp: int) -> str:
    """Tencent Cloud's TC3-HMAC-SHA256 for a POST to / signing content-type and host: the key derived from
    "TC3" + secret through the UTC date, the service and "tc3_request"."""
    day = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    scope = f"{day}/{service}/tc3_request"
    canonical = (f"POST\n/\n\ncontent-type:{content_type.strip().lower()}\nhost:{host.strip().lower()}\n\n"
                 f"content-type;host\n{_sha256(payload)}")
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), day), service), "tc3_request")
    signature = hmac.new(key, f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_sha256(canonical.encode())}".encode(),
                         hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"


class TencentSms:
    """Tencent Cloud SMS SendSms (2021-01-11), a JSON POST; success is SendStatusSet[0].Code "Ok" and no Error
    (Tencent answers refusals with HTTP 200 too)."""

    def __init__(self, secret_id: str, secret_key: str, sdk_app_id: str, sign_name: str, template_id: str,
                 region: str = "ap-guangzhou", endpoint: str = TENCENT_ENDPOINT,
                 transport: httpx.AsyncBaseTransport | None = None, clock: Callable[[], float] = time.time):
        self.secret_id, self.secret_key, self.sdk_app_id = secret_id, secret_key, sdk_app_id
        self.sign_name, self.template_id, self.region = sign_name, template_id, region
        self.endpoint, self.transport, self.clock = endpoint.rstrip("/"), transport, clock

    def new_code(self) -> str:
        return _new_code()

    async def send(self, phone: str, code: str) -> None:
        payload = json.dumps({"PhoneNumberSet": ["+86" + phone], "SmsSdkAppId": self.sdk_app_id,
                              "SignName": self.sign_name, "TemplateId": self.template_id,
                              "TemplateParamSet": [code]}, ensure_ascii=False, separators=(",", ":")).encode()
        host, content_type, timestamp = _host(self.endpoint), "application/json; charset=utf-8", int(self.clock())
        headers = {"Host": host, "Content-Type": content_type, "X-TC-Action": "SendSms",
                   "X-TC-Version": "2021-01-11", "X-TC-Timestamp": str(timestamp), "X-TC-Region": self.region,
                   "Authorization": tc3_authorization(self.secret_id, self.secret_key, "sms", host, content_type,
                                                      payload, timestamp)}
        status, data = await _post("Tencent Cloud SMS", self.transport, f"{self.endpoint}/", headers, payload)
        answer = data.get("Response") if isinstance(data.get("Response"), dict) else {}
        statuses = answer.get("SendStatusSet")
        first = statuses[0] if isinstance(statuses, list) and statuses and isinstance(statuses[0], dict) else {}
        if status != 200 or answer.get("Error") is not None or first.get("Code") != "Ok":
            error = answer.get("Error")
            value = error.get("Code") if isinstance(error, dict) else first.get("Code")
            raise SmsUnavailable(f"Tencent Cloud SMS refused to send (HTTP {status}, "
                                 f"{_reason(value, code, self.secret_key)}).")
