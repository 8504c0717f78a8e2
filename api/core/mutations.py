"""Running a use case for a mutation: the member's rate limit, a unit of work, domain refusals turned
into userErrors, a retry when another transaction won a race for the same key, and, for staff and
integrations, the audit record written in the same transaction as the change."""
from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Awaitable, Callable, TypeVar

import strawberry
from strawberry.utils.str_converters import to_camel_case

from api.core import observability
from api.core.access import may_see
from api.core.auth import IntegrationCaller, MemberCaller, StaffCaller
from api.core.ids import from_global_id, pk_of
from api.core.rate_limits import RateLimited
from api.core.vocabulary import UserError, UserErrorCode
from domain.errors import LoyaltyError, invalid
from persistence.staff.audit import AuditRecord
from persistence.unit_of_work import SqlUnitOfWork, WriteConflict

T = TypeVar("T")
ATTEMPTS = 3


class Refused(Exception):
    """userErrors for a mutation's payload. Every userError answered is made here, so here they are counted."""

    def __init__(self, errors: list[UserError]):
        self.errors = errors
        observability.user_errors([error.code.value for error in errors])


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


@dataclass(frozen=True)
class Audit:
    """What the audit log records of a staff or integration call: the action, what it concerns
    ("Member:12"; a function when only the change makes it known) and what was asked."""

    action: str
    subject: str | Callable[[], str | None] | None
    input: dict


def jsonable(value):
    """An input as the caller wrote it (GraphQL's names), for the audit log."""
    if dataclasses.is_dataclass(value):
        return {to_camel_case(f.name): jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


def _actor(caller) -> tuple[str, int, str] | None:
    if isinstance(caller, StaffCaller):
        return "STAFF", caller.staff_id, caller.username
    if isinstance(caller, IntegrationCaller):
        return "INTEGRATION", caller.api_key_id, caller.name
    return None


def _subject(audit: Audit) -> str | None:
    return audit.subject() if callable(audit.subject) else audit.subject


async def record(context, audit: Audit, outcome: str, before: dict | None = None, after: dict | None = None,
                 uow: SqlUnitOfWork | None = None, actor: tuple[str, int, str] | None = None) -> None:
    """Append to the audit log, in `uow`'s transaction, or in one of its own. The actor is the caller
    unless given (a staff sign-in, before there is a signed-in caller)."""
    actor = actor or _actor(context.caller)
    if actor is None:
        return
    entry = AuditRecord(occurred_at=context.now, request_id=context.request_id, actor_kind=actor[0],
                        actor_id=actor[1], actor_name=actor[2], action=audit.action, subject=_subject(audit),
                        outcome=outcome, input=jsonable(audit.input), before=before, after=after)
    if uow is not None:
        await uow.audit.add(entry)
        return
    async with context.unit_of_work() as own:
        await own.audit.add(entry)
        await own.commit()


async def run(info: strawberry.Info, use_case: Callable[[SqlUnitOfWork], Awaitable[T]],
              audit: Audit | None = None) -> T:
    """The use case's result, or Refused carrying the userErrors of a business-rule refusal.

    The write runs to its end even when the request is cut off at its time limit: the caller is told
    (504) to retry with the same idempotency key, and the retry replays what this write committed.
    Cancelling it half-way would leave that to chance and a pooled connection mid-statement."""
    context = info.context
    if isinstance(context.caller, MemberCaller):
        await check_rate(info, "member_mutations", context.caller.member_id)
    write = asyncio.ensure_future(_write(context, use_case, audit))
    write.add_done_callback(lambda task: task.cancelled() or task.exception())  # retrieved even if cut off
    result = await asyncio.shield(write)
    context.after_write()
    return result


async def _write(context, use_case: Callable[[SqlUnitOfWork], Awaitable[T]], audit: Audit | None) -> T:
    audited = audit is not None and _actor(context.caller) is not None
    for attempt in range(ATTEMPTS):
        try:
            async with context.unit_of_work() as uow:
                if audited:
                    before = await uow.audit.snapshot(_subject(audit))

                    async def write_record(uow=uow, before=before):
                        after = await uow.audit.snapshot(_subject(audit))
                        await record(context, audit, "OK", before, after, uow)

                    uow.before_commit(write_record)
                return await use_case(uow)
        except LoyaltyError as error:
            if audited:
                await record(context, audit, error.code.value)
            raise Refused([user_error(error)]) from None
        except WriteConflict:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def shown(info: strawberry.Info, kind: str, owner_id: int, build: Callable[[], T]) -> T | None:
    """A payload's object, or None when the caller may not see it: a payload shows what node(id:) would."""
    return build() if may_see(info.context.caller, kind, owner_id) else None


def parse_id(global_id: str, type_name: str, field: str) -> int | None:
    """The database id of a global ID of `type_name`; a malformed ID is INVALID_INPUT, and an ID of
    another type is None (the use case answers NOT_FOUND, as for an unknown one)."""
    if from_global_id(global_id) is None:
        raise Refused([user_error(invalid(field, f"{field} is not a valid ID."))])
    return pk_of(global_id, type_name)


async def staff_read(info: strawberry.Info, action: str, subject: str | None, asked: dict) -> None:
    """Staff reading members' accounts, the audit log or the keys is recorded, as any staff action is."""
    if isinstance(info.context.caller, StaffCaller):
        await record(info.context, Audit(action, subject, asked), "OK")
