from __future__ import annotations

from datetime import date, timedelta

from api.core.loaders import ById, Loader
from domain.check_ins import CheckInStatus, check_in_status, make_up_check_ins_left, make_up_month
from persistence.check_ins import queries


class CheckInById(ById):
    fetch = queries.check_ins_by_ids


class CheckInStatusByMember(Loader):
    async def batch_load_fn(self, member_ids) -> list[CheckInStatus]:
        program = self.context.program
        today, yesterday = today_and_yesterday(program, self.context.now)
        rows = await queries.check_ins_on(self.reader, list(member_ids), [today, yesterday])
        by_key = {(row.member_id, row.local_date): row for row in rows}
        return [check_in_status(program, by_key.get((m, today)), by_key.get((m, yesterday))) for m in member_ids]


class MakeUpCheckInsLeftByMember(Loader):
    """What `check_in.make_up.per_month` leaves each member this local month: one statement for them all
    (none where the program has no make-ups)."""

    async def batch_load_fn(self, member_ids) -> list[int]:
        program = self.context.program
        if program.make_up is None:
            return [0 for _ in member_ids]
        made = await queries.made_up_counts(self.reader, list(member_ids), *make_up_month(program, self.context.now))
        return [make_up_check_ins_left(program, made.get(m, 0)) for m in member_ids]


def today_and_yesterday(program, now) -> tuple[date, date]:
    """The local days a check-in status is read from."""
    today = program.calendar.local_date(now)
    return today, today - timedelta(days=1)
