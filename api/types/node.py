from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import strawberry


@strawberry.interface(description="An object with a global ID (Relay): node(id:) fetches any the caller may see.")
class Node:
    id: strawberry.ID


def local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Times are shown in the program's time zone, with their offset."""
    return moment.astimezone(zone) if moment is not None else None
