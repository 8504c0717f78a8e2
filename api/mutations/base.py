"""Running a use case for a mutation: a unit of work, domain refusals turned into userErrors,
a retry when another transaction won a race for the same key."""
from __future__ import annotations

from typing import Awaitable, Callable, TypeVar

import strawberry

from api.ids import from_global_id, pk_of
from api.types.enums import UserError, UserErrorCode
from api.types.member import Member
from domain.errors import LoyaltyError, invalid
from persistence.unit_of_work import SqlUnitOfWork, WriteConflict

T = TypeVar("T")
ATTEMPTS = 3


class Refused(Exception):
    def __init__(self, errors: list[UserError]):
        self.errors = errors


def user_error(error: LoyaltyError) -> UserError:
    return UserError(field=error.field, message=error.message, code=UserErrorCode(error.code))


async def run(info: strawberry.Info, use_case: Callable[[SqlUnitOfWork], Awaitable[T]]) -> T:
    """The use case's result, or Refused carrying the userErrors of a business-rule refusal."""
    context = info.context
    for attempt in range(ATTEMPTS):
        try:
            async with context.unit_of_work() as uow:
                result = await use_case(uow)
        except LoyaltyError as error:
            raise Refused([user_error(error)]) from None
        except WriteConflict:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        await context.after_write()
        return result
    raise AssertionError("unreachable")


async def member_of(info: strawberry.Info, member_id: int) -> Member:
    return Member.from_row(await info.context.loaders.member.load(member_id), info.context)


def parse_id(global_id: str, type_name: str, field: str) -> int | None:
    """The database id of a global ID of `type_name`; a malformed ID is INVALID_INPUT, and an ID of
    another type is None (the use case answers NOT_FOUND, as for an unknown one)."""
    if from_global_id(global_id) is None:
        raise Refused([user_error(invalid(field, f"{field} is not a valid ID."))])
    return pk_of(global_id, type_name)
