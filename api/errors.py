"""Top-level GraphQL errors the contract names, and which errors may show their message."""
from __future__ import annotations

from graphql import GraphQLError


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
