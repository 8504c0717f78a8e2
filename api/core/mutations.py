"""A mutation runs a command (`domain.commands`) through the service layer (`domain.service`), which owns
the transaction and the audit log. Here: who may call it (`@mutation(MEMBERS)`), the member's rate limit,
the caller as the audit log names them, the request's read connection given back while the write runs,
and refusals answered as the payload's userErrors."""
from __future__ import annotations

import asyncio
import functools
import typing
from typing import Callable, TypeVar

import strawberry

from api.core import observability
from api.core.access import may_see
from api.core.auth import IntegrationCaller, MemberCaller, StaffCaller
from api.core.ids import from_global_id, pk_of
from api.core.rate_limits import RateLimited
from api.core.vocabulary import UserError, UserErrorCode
from domain.commands import Command
from domain.errors import LoyaltyError, invalid
from domain.handling import Actor, as_record
from domain.model import AuditRecord

T = TypeVar("T")


class Refused(Exception):
    """userErrors for a mutation's payload. Every userError answered is made here, so here they are counted."""

    def __init__(self, errors: list[UserError]):
        self.errors = errors
        observability.user_errors([error.code.value for error in errors])


def mutation(check):
    """Declare a mutation's resolver: who may call it (`check`, see `api.core.access`), and every refusal
    raised while it runs (Refused, or a domain rule's LoyaltyError checked before any command, such as
    an input's format) answered as its payload (the return type) carrying only the userErrors."""
    def declare(resolver):
        @functools.wraps(resolver)
        async def answered(*args, info, **kwargs):
            check(info.context.caller)
            try:
                return await resolver(*args, info=info, **kwargs)
            except Refused as refused:
                return _payload_of(resolver)(user_errors=refused.errors)
            except LoyaltyError as error:
                return _payload_of(resolver)(user_errors=Refused([user_error(error)]).errors)
        return answered
    return declare


@functools.cache
def _payload_of(resolver) -> type:
    return typing.get_type_hints(resolver)["return"]


def user_error(error: LoyaltyError) -> UserError:
    return UserError(field=error.field, message=error.message, code=UserErrorCode(error.code))


def rate_limited(limit: RateLimited) -> Refused:
    return Refused([UserError(field=None, code=UserErrorCode.RATE_LIMITED, retry_after=limit.retry_after,
                              message=f"Too many requests; try again in {limit.retry_after} seconds.")])


async def check_rate(info: strawberry.Info, name: str, key) -> None:
    """Count the request under rate limit `name` for `key`; Refused (RATE_LIMITED) when over it."""
    try:
        await info.context.services.rate_limits.check(name, key)
    except RateLimited as limit:
        observability.RATE_LIMITED.labels(name).inc()
        raise rate_limited(limit) from None


def actor_of(caller) -> Actor | None:
    """Whom the audit log names: a staff member or an integration key (members' own writes are not audited)."""
    if isinstance(caller, StaffCaller):
        return Actor("STAFF", caller.staff_id, caller.username)
    if isinstance(caller, IntegrationCaller):
        return Actor("INTEGRATION", caller.api_key_id, caller.name)
    return None


async def execute(info: strawberry.Info, command: Command, asked=None):
    """The command's result, or Refused carrying the userErrors of a business-rule refusal. `asked` is the
    input as the caller wrote it, for the audit log.

    The write runs to its end even when the request is cut off at its time limit: the caller is told
    (504) to retry with the same idempotency key, and the retry replays what this write committed.
    Cancelling it half-way would leave that to chance and a pooled connection mid-statement."""
    context = info.context
    if isinstance(context.caller, MemberCaller):
        await check_rate(info, "member_mutations", context.caller.member_id)

    async def write():
        async with context.reader.released():  # a write never waits for a connection while holding one
            return await context.services.service.handle(
                command, now=context.now, actor=actor_of(context.caller), request_id=context.request_id,
                asked=as_record(asked) if asked is not None else None)

    task = asyncio.ensure_future(write())
    task.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved even if cut off
    try:
        result = await asyncio.shield(task)
    except LoyaltyError as error:
        raise Refused([user_error(error)]) from None
    context.after_write()
    return result


async def audit(info: strawberry.Info, action: str, subject: str | None, asked: dict, outcome: str,
                actor: Actor | None = None) -> None:
    """Append to the audit log what the caller (or `actor`: a staff sign-in, before there is a signed-in
    caller) did outside a command: a staff read, a sign-in attempt."""
    context = info.context
    actor = actor or actor_of(context.caller)
    if actor is None:
        return
    record = AuditRecord(occurred_at=context.now, request_id=context.request_id, actor_kind=actor.kind,
                         actor_id=actor.id, actor_name=actor.name, action=action, subject=subject,
                         outcome=outcome, input=as_record(asked))
    async with context.reader.released():
        await context.services.service.record_audit(record)


def shown(info: strawberry.Info, kind: str, owner_id: int, build: Callable[[], T]) -> T | None:
    """A payload's object, or None when the caller may not see it: a payload shows what node(id:) would."""
    return build() if may_see(info.context.caller, kind, owner_id) else None


def parse_id(global_id: str, type_name: str, field: str) -> int | None:
    """The database id of a global ID of `type_name`; a malformed ID is INVALID_INPUT, and an ID of
    another type is None (the use case answers NOT_FOUND, as for an unknown one)."""
    if from_global_id(global_id) is None:
        raise invalid(field, f"{field} is not a valid ID.")
    return pk_of(global_id, type_name)


async def staff_read(info: strawberry.Info, action: str, subject: str | None, asked: dict) -> None:
    """Staff reading members' accounts, the audit log or the keys is recorded, as any staff action is."""
    if isinstance(info.context.caller, StaffCaller):
        await audit(info, action, subject, asked, "OK")
