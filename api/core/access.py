"""What each caller may reach. Every resolver asks here; the matrix itself is `domain.access`.

Members reach their own objects only; staff reach members' objects with VIEW_MEMBERS and the rest by
their role's permissions; integrations act within their key's scopes. Refusals are the contract's
top-level errors: no caller is UNAUTHENTICATED, a caller of the wrong kind or without the right is
FORBIDDEN.
"""
from __future__ import annotations

import logging

from api.core.auth import (
    ENDED, EXPIRED, INVALID_KEY, INVALID_TOKEN, Anonymous, Caller, IntegrationCaller, MemberCaller, StaffCaller,
)
from api.core.errors import ExpectedError, forbidden, unauthenticated
from domain.access import Permission, Scope, role_may, scopes_read

log = logging.getLogger("loyalty.access")


def _denied(caller: Caller, what: str):
    log.warning("access denied: %s to %s", type(caller).__name__, what)
    return forbidden()


# Why credentials did not hold → the code and message a client acts on: TOKEN_EXPIRED, refresh the token
# (refreshAccessToken) and retry once; TOKEN_INVALID, sign in again; API_KEY_INVALID, fix the key. No
# credentials at all is UNAUTHENTICATED. Under application/graphql-response+json each is an HTTP 401.
WHY = {
    EXPIRED: ("This access token has expired: get a new one with refreshAccessToken, then send the request again.",
              "TOKEN_EXPIRED"),
    ENDED: ("This session has ended (signed out, or ended to keep the account safe): sign in again.",
            "TOKEN_INVALID"),
    INVALID_TOKEN: ("This access token is not one this service issued: sign in again.", "TOKEN_INVALID"),
    INVALID_KEY: ("This API key is unknown or has been revoked.", "API_KEY_INVALID"),
}


def _nobody(caller: Caller, message: str | None = None) -> ExpectedError:
    """No caller: why the credentials sent did not hold (`WHY`), else UNAUTHENTICATED saying what to send."""
    why = caller.why if isinstance(caller, Anonymous) else None
    if why in WHY:
        return ExpectedError(*WHY[why])
    return unauthenticated(message) if message else unauthenticated()


def require_member(caller: Caller) -> int:
    if isinstance(caller, MemberCaller):
        return caller.member_id
    if isinstance(caller, (IntegrationCaller, StaffCaller)):
        raise forbidden("This operation is for members.")
    raise _nobody(caller)


def require_integration(caller: Caller, scope: Scope) -> IntegrationCaller:
    if isinstance(caller, IntegrationCaller):
        if scope not in caller.scopes:
            log.warning("access denied: API key %s lacks %s", caller.api_key_id, scope.value)
            raise forbidden(f"This API key does not carry the {scope.value} scope.")
        return caller
    if isinstance(caller, (MemberCaller, StaffCaller)):
        raise forbidden("This operation is for integrations (X-API-Key).")
    raise _nobody(caller, "Send X-API-Key: <key> to call integration operations.")


def require_staff(caller: Caller, permission: Permission | None = None) -> StaffCaller:
    """A signed-in staff member whose role has `permission` (any staff member when None)."""
    if isinstance(caller, StaffCaller):
        if permission is not None and not role_may(caller.role, permission):
            raise _denied(caller, permission.value)
        return caller
    if isinstance(caller, (MemberCaller, IntegrationCaller)):
        raise forbidden("This operation is for staff.")
    raise _nobody(caller, "Sign in as staff first (staffLogin).")


def require_session(caller: Caller) -> MemberCaller | StaffCaller:
    if isinstance(caller, (MemberCaller, StaffCaller)):
        return caller
    if isinstance(caller, IntegrationCaller):
        raise forbidden("Integrations have no session.")
    raise _nobody(caller)


def may_see(caller: Caller, kind: str, owner_id: int | None) -> bool:
    """Whether `caller` may see an object of `kind` (its GraphQL type) owned by member `owner_id` (None: the
    public catalog). The one rule for every path to an object: node(id:), queries and mutation payloads."""
    if owner_id is None:
        return True
    if isinstance(caller, MemberCaller):
        return caller.member_id == owner_id
    if isinstance(caller, StaffCaller):
        return role_may(caller.role, Permission.VIEW_MEMBERS)
    if isinstance(caller, IntegrationCaller):
        return scopes_read(caller.scopes, kind)
    return False


def staff_viewing_members(caller: Caller) -> bool:
    """Whether `caller` is staff with VIEW_MEMBERS: who sees a member's staff-only fields (Member.segment);
    members themselves and integrations get null there."""
    return isinstance(caller, StaffCaller) and role_may(caller.role, Permission.VIEW_MEMBERS)


# Queries whose answers are the same whoever asks (the program's catalog): a registered operation asking
# for these alone is answered without reading the caller's session, whatever token it carries.
PUBLIC_QUERIES = frozenset({"tiers", "rewards"})

# Who may call a mutation, declared on it (`@mutation(MEMBERS)`, api.core.mutations): checked before the
# resolver runs; anyone else is refused (UNAUTHENTICATED, TOKEN_EXPIRED or FORBIDDEN).
MEMBERS = require_member
SESSIONS = require_session
ANYONE = lambda caller: None  # noqa: E731 - sign-ins: the caller is whoever presents the credentials


def integrations(scope: Scope):
    return lambda caller: require_integration(caller, scope)


def staff_with(permission: Permission):
    return lambda caller: require_staff(caller, permission)
