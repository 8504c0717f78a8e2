"""A day's check-in, and today's state."""
from __future__ import annotations

from datetime import date

import strawberry

from api.core.ids import to_global_id
from api.core.node import Node


@strawberry.type(description="Today's check-in state.")
class CheckInStatus:
    checked_in_today: bool
    streak_days: int
    today_reward: int = strawberry.field(description="Points today's check-in gives, or gave.")


@strawberry.type(description="One day's check-in.")
class CheckIn(Node):
    date: date
    streak_days: int
    points_awarded: int

    @classmethod
    def from_row(cls, row) -> "CheckIn":
        return cls(id=to_global_id("CheckIn", row.id), date=row.local_date, streak_days=row.streak_days,
                   points_awarded=row.points_awarded)
