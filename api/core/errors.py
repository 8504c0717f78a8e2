"""Top-level GraphQL errors the contract names, and which errors may show their message."""
from __future__ import annotations

import logging
import re
import traceback

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from domain.errors import WriteConflict
from persistence.database import is_unavailable


class ExpectedError(GraphQLError):
    """An error whose message is meant for the caller (never masked)."""

    def __init__(self, message: str, code: str):
        super().__init__(message, extensions={"code": code})


def unauthenticated(message: str = "Sign in first: send Authorization: Bearer <accessToken>.") -> ExpectedError:
    return ExpectedError(message, "UNAUTHENTICATED")


def forbidden(message: str = "This caller may not do that.") -> ExpectedError:
    return ExpectedError(message, "FORBIDDEN")


def bad_request(message: str) -> ExpectedError:
    return ExpectedError(message, "BAD_USER_INPUT")


def should_mask(error: GraphQLError) -> bool:
    """Mask only unexpected exceptions: validation and parse errors have no original error,
    and our own expected errors say what the caller should know."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, GraphQLError)


PHONE_NUMBER = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def redact(text: str) -> str:
    """Mainland mobile numbers masked as the API shows them (138****8000): logs never hold one."""
    return PHONE_NUMBER.sub(r"\1****\2", text)


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        if record.exc_info:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


log = logging.getLogger("loyalty.errors")
log.addFilter(RedactPersonalData())


def _busy(error: GraphQLError) -> bool:
    """The database could not serve in time (a pool, lock or statement timeout, or write conflicts past
    every retry): the service is busy, the request is sound and may be retried."""
    original = error.original_error
    return original is not None and (isinstance(original, WriteConflict) or is_unavailable(original))


def log_unexpected(errors: list[GraphQLError], request_id: str) -> None:
    for error in errors:
        if not should_mask(error):
            continue
        if _busy(error):
            log.warning("request %s: database busy at %s: %s", request_id, error.path,
                        type(error.original_error).__name__)
        else:
            log.error("request %s: unexpected error at %s", request_id, error.path, exc_info=error.original_error)


def masked(errors: list[GraphQLError], request_id: str) -> list[GraphQLError]:
    """`errors` as the client sees them: unexpected ones replaced by a generic message carrying the
    request id, under which they were logged (`log_unexpected`); expected ones as they are."""
    return [anonymised(error, request_id) if should_mask(error) else error for error in errors]


def anonymised(error: GraphQLError, request_id: str) -> GraphQLError:
    if _busy(error):
        return GraphQLError("The service is busy; retry in a moment (with the same idempotency key).",
                            nodes=error.nodes, path=error.path,
                            extensions={"code": "SERVICE_UNAVAILABLE", "requestId": request_id})
    return GraphQLError(f"Internal error; quote request id {request_id} to support.", nodes=error.nodes,
                        path=error.path, extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id})


class MaskUnexpectedErrors(MaskErrors):
    """`masked`, as a schema extension: for what strawberry executes."""

    def __init__(self):
        super().__init__(should_mask_error=should_mask)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return anonymised(error, self.execution_context.context.request_id)
