from __future__ import annotations

from datetime import date, timedelta

from api.core.loaders import ById, Loader
from domain.check_ins import CheckInStatus, check_in_status
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


def today_and_yesterday(program, now) -> tuple[date, date]:
    """The local days a check-in status is read from."""
    today = program.calendar.local_date(now)
    return today, today - timedelta(days=1)
