"""What the insights area adds to the schema: the `insights` query (VIEW_INSIGHTS)."""
from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from api.core.access import require_staff
from api.core.errors import bad_request
from api.core.mutations import staff_read
from api.insights.types import Insights
from domain.access import Permission
from domain.insights import report_range


@strawberry.type
class InsightsQuery:
    @strawberry.field(description=("Staff (VIEW_INSIGHTS): the program's reports over the local days [from, to] "
                                   "inclusive, in the program's zone (at most 366 days)."))
    async def insights(self, info: strawberry.Info, from_: Annotated[date, strawberry.argument(name="from")],
                       to: date) -> Insights:
        require_staff(info.context.caller, Permission.VIEW_INSIGHTS)
        try:
            span = report_range(info.context.program.calendar, from_, to)
        except ValueError as exc:
            raise bad_request(str(exc)) from None
        await staff_read(info, "insights", None, {"from": from_.isoformat(), "to": to.isoformat()})
        return Insights(span=span, context=info.context)


NODES: dict = {}
TYPES: list = []
