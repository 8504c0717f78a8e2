"""Cross-origin calls from web pages (a staff console, an H5 page, a local dev server): CORS with an
allow-list of origins (`LOYALTY_CORS_ORIGINS`, empty by default: no other origin may call).

The mini-program and the native apps are not browsers and send no preflight; this concerns web pages
only. Credentials travel in the Authorization header, never in cookies, so no credentialed CORS is
needed. A page may send what the contract's clients send (Authorization, Content-Type, Accept,
X-Request-ID; outside production X-Loyalty-Now), and read X-Request-ID, Retry-After and
WWW-Authenticate. X-API-Key is not allowed: an integration key belongs on a server, never in a page.
A preflight the policy refuses gets a JSON error (403, `CORS_REFUSED`) and no Access-Control-Allow-Origin,
so the browser stops there.
"""
from __future__ import annotations

import uuid

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware

from server.http import answer_type, refused

ALLOWED_HEADERS = ("Authorization", "Content-Type", "Accept", "X-Request-ID")
DEVELOPMENT_HEADERS = ("X-Loyalty-Now",)
EXPOSED_HEADERS = ("X-Request-ID", "Retry-After", "WWW-Authenticate")
PREFLIGHT_CACHE_SECONDS = 600


class Cors(CORSMiddleware):
    def __init__(self, app, origins: tuple[str, ...], production: bool):
        super().__init__(app, allow_origins=origins, allow_methods=("GET", "POST"),
                         allow_headers=ALLOWED_HEADERS + (() if production else DEVELOPMENT_HEADERS),
                         expose_headers=EXPOSED_HEADERS, max_age=PREFLIGHT_CACHE_SECONDS)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not any(name == b"origin" for name, _ in scope["headers"]):
            return await self.app(scope, receive, send)  # not a browser's cross-origin call: nothing to add
        if scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            if "origin" in headers and "access-control-request-method" in headers:
                response = self.preflight_response(request_headers=headers)
                if response.status_code != 200:
                    refusal = bytes(response.body).decode().removeprefix("Disallowed CORS ")
                    response = refused(uuid.uuid4().hex, 403, f"This API does not take this cross-origin request "
                                       f"(not allowed: {refusal}). Allowed origins are set in LOYALTY_CORS_ORIGINS.",
                                       "CORS_REFUSED", answer_type(headers.get("accept")))
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

