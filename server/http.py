"""The HTTP edge: a request body read strictly, and every refusal answered in JSON.

Whatever a client sends, it gets a JSON answer with a clear message and its request id: a body that
is not UTF-8 or not JSON, JSON nested beyond reason or holding a 50,000-digit number, or JSON of the
wrong shape (`null`, a number, a batch holding something other than operations) is a 400; an
unsupported content type a 415. Each is logged as one line (the request's, `api.core.observability`), never a
traceback.

Answers speak the graphql-over-http spec: application/graphql-response+json, with its status codes, to a
client that asks for it (`answer_type`, `graphql_status`), application/json with a 200 to the rest.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

import orjson
from cross_web import HTTPException
from starlette.responses import Response
from strawberry.http import GraphQLRequestData

from api.core import observability
from api.core.documents import PersistedDocuments

REQUEST_ID_HEADER = "x-request-id"
JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON_TYPES = (JSON, GRAPHQL_RESPONSE)

CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
         413: "PAYLOAD_TOO_LARGE", 414: "URI_TOO_LONG", 415: "UNSUPPORTED_MEDIA_TYPE", 500: "INTERNAL_SERVER_ERROR",
         503: "SERVICE_UNAVAILABLE", 504: "TIMEOUT"}


def error_response(status: int, message: str, request_id: str, code: str | None = None,
                   headers: Mapping[str, str] | None = None, media_type: str = JSON) -> Response:
    """`{"errors": [{"message", "extensions": {"code", "requestId"}}]}`, the shape of a GraphQL error, in
    the media type the client accepts (`answer_type`)."""
    body = {"errors": [{"message": message, "extensions": {"code": code or CODES.get(status, "BAD_REQUEST"),
                                                          "requestId": request_id}}]}
    extra = {"Allow": "GET, POST"} if status == 405 else {}
    return Response(encode_json(body), status_code=status, media_type=typed(media_type),
                    headers={REQUEST_ID_HEADER: request_id, **extra, **(headers or {})})


def refused(request_id: str, status: int, message: str, code: str | None = None, media_type: str = JSON,
            headers: Mapping[str, str] | None = None) -> Response:
    """A request refused before GraphQL; its reason goes into the request's one log line."""
    stats = observability.CURRENT.get()
    if stats is not None:
        stats.refusal = message
    return error_response(status, message, request_id, code, headers, media_type)


# The refusals of a caller's credentials (`api.core.access`), and the challenge each answers with (RFC 6750).
CREDENTIALS_REFUSED = {
    "UNAUTHENTICATED": 'Bearer realm="loyalty"',
    "TOKEN_EXPIRED": 'Bearer realm="loyalty", error="invalid_token", error_description="The access token expired"',
    "TOKEN_INVALID": 'Bearer realm="loyalty", error="invalid_token"',
    "API_KEY_INVALID": 'ApiKey realm="loyalty"',
}


def graphql_status(data: Any, errors: list | None) -> tuple[int, dict[str, str]]:
    """The status of one GraphQL answer under application/graphql-response+json (graphql-over-http,
    "Status Codes"): 200 whenever there is data, or when the errors came from running it; 400 when the
    request could not run at all (it did not parse or validate, its variables did not fit, or it asked
    for more than the limits allow: errors without a path); 401 when it needed a caller and its
    credentials were missing or did not hold, with the challenge saying which."""
    if data is not None or not errors:
        return 200, {}
    for error in errors:
        challenge = CREDENTIALS_REFUSED.get((error.extensions or {}).get("code"))
        if challenge is not None:
            return 401, {"WWW-Authenticate": challenge}
    if all(error.path is None for error in errors):
        return 400, {}
    return 200, {}


def typed(media_type: str) -> str:
    """The Content-Type of an answer: JSON is UTF-8, said outright (the graphql-over-http spec asks for it)."""
    return f"{media_type}; charset=utf-8"


def answer_type(accept: str | None) -> str:
    """What an answer is written as, by the request's Accept header (graphql-over-http, "Accept"):
    application/graphql-response+json when the client asks for it at least as much as for
    application/json, else application/json (also with no Accept header, or only `*/*`: the clients
    written before the spec, which expect a 200 with every GraphQL answer)."""
    if not accept or "graphql-response" not in accept:
        return JSON
    weights = {JSON: 0.0, GRAPHQL_RESPONSE: 0.0}
    for part in accept.split(","):
        kind, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        kind = kind.lower()
        if kind in weights:
            weights[kind] = max(weights[kind], weight)
    return GRAPHQL_RESPONSE if weights[GRAPHQL_RESPONSE] > 0 and weights[GRAPHQL_RESPONSE] >= weights[JSON] else JSON


def encode_json(data: Any) -> bytes:
    """How every answer is written (bench/floor.py writes the same way): orjson, UTF-8, no spaces."""
    return orjson.dumps(data)


def decode_json(body: bytes | str, what: str = "The request body") -> Any:
    """JSON, or HTTPException(400) saying what is wrong with it."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise HTTPException(400, f"{what} is not valid UTF-8.") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise HTTPException(400, f"{what} nests JSON too deeply.") from None
    except json.JSONDecodeError as exc:
        raise HTTPException(400, f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.") \
            from None
    except ValueError:  # an integer past Python's 4,300 digits
        raise HTTPException(400, f"{what} holds a number too long to read.") from None


def _optional(item: dict, name: str, kind: type, described: str):
    value = item.get(name)
    if value is not None and not isinstance(value, kind):
        raise HTTPException(400, f"`{name}` must be {described} or null.")
    return value


def operation(item: Any, documents: PersistedDocuments) -> GraphQLRequestData:
    """One GraphQL request: an object with `query` (a string) or a persisted document's hash
    (`api.core.documents`), and optionally `operationName` (a string), `variables` and `extensions`
    (objects)."""
    if not isinstance(item, dict):
        raise HTTPException(400, "A GraphQL request is a JSON object with a `query`, or an array of such objects.")
    data = GraphQLRequestData(query=_optional(item, "query", str, "a string"),
                              variables=_optional(item, "variables", dict, "an object"),
                              operation_name=_optional(item, "operationName", str, "a string"),
                              extensions=_optional(item, "extensions", dict, "an object"))
    return documents.resolve(data, item.get("documentId"))


def operations(data: Any, max_batch: int, documents: PersistedDocuments) -> GraphQLRequestData | list[GraphQLRequestData]:
    """A request, or a batch of at most `max_batch` (a JSON array)."""
    if not isinstance(data, list):
        return operation(data, documents)
    if not data:
        raise HTTPException(400, "An empty batch: send at least one operation.")
    if len(data) > max_batch:
        raise HTTPException(400, f"Too many operations in one batch: at most {max_batch}.")
    return [operation(item, documents) for item in data]


def query_parameters(params: Mapping[str, str]) -> dict:
    """A GET request's parameters, with `variables` and `extensions` read as JSON."""
    data: dict[str, Any] = {name: params[name] for name in ("query", "operationName", "documentId")
                            if params.get(name)}
    for name in ("variables", "extensions"):
        if params.get(name):
            data[name] = decode_json(params[name], f"The `{name}` parameter")
    return data


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()
