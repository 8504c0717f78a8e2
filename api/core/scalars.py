"""How `DateTime` is written and read.

Written to the millisecond with the offset (`2026-11-30T16:05:09.123+08:00`): ECMAScript's date
format has three fractional digits, and iOS's JavaScriptCore (WeChat on iOS) refuses more, where V8
rounds. Read in any ISO 8601 precision (whole minutes to nanoseconds, `Z` or an offset). A value
without an offset reads as one, and the rule that takes it refuses it as a user error naming the
field (`domain.orders`: paidAt), since the API cannot know whose clock it was read from.
"""
from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import GraphQLError

DESCRIPTION = ("An ISO 8601 date-time with an offset, written to the millisecond "
               "(2026-11-30T16:05:09.123+08:00); read in any precision, `Z` or an offset.")


def serialize_datetime(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise GraphQLError("DateTime must be a string: an ISO 8601 date-time with an offset.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise GraphQLError(f"{value[:40]!r} is not an ISO 8601 date-time.") from None
    return moment


SCALAR_MAP = {datetime: strawberry.scalar(name="DateTime", description=DESCRIPTION, serialize=serialize_datetime,
                                          parse_value=parse_datetime)}
