"""The HTTP edge: a request body read strictly, and every refusal answered in JSON.

Whatever a client sends, it gets a JSON answer with a clear message and its request id: a body that
is not UTF-8 or not JSON, JSON nested beyond reason or holding a 50,000-digit number, or JSON of the
wrong shape (`null`, a number, a batch holding something other than operations) is a 400; an
unsupported content type a 415. Each is logged as one line (the request's, `api.core.observability`), never a
traceback.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

import orjson
from cross_web import HTTPException
from starlette.responses import JSONResponse
from strawberry.http import GraphQLRequestData

from api.core import observability
from api.core.documents import PersistedDocuments

REQUEST_ID_HEADER = "x-request-id"
JSON_TYPES = ("application/json", "application/graphql-response+json")

CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
         413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 500: "INTERNAL_SERVER_ERROR",
         503: "SERVICE_UNAVAILABLE", 504: "TIMEOUT"}


def error_response(status: int, message: str, request_id: str, code: str | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    """`{"errors": [{"message", "extensions": {"code", "requestId"}}]}`, the shape of a GraphQL error."""
    body = {"errors": [{"message": message, "extensions": {"code": code or CODES.get(status, "BAD_REQUEST"),
                                                          "requestId": request_id}}]}
    return JSONResponse(body, status_code=status, headers={REQUEST_ID_HEADER: request_id, **(headers or {})})


def refused(request_id: str, status: int, message: str, code: str | None = None) -> JSONResponse:
    """A request refused before GraphQL; its reason goes into the request's one log line."""
    stats = observability.CURRENT.get()
    if stats is not None:
        stats.refusal = message
    return error_response(status, message, request_id, code)


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
