"""Checkout holds as the API reads them."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import select

from persistence.database import Reader
from persistence.rows import rows_by_ids
from persistence.tables import checkout_holds


async def holds_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, checkout_holds, ids)


async def unapplied_of_order(reader: Reader, external_order_id: str) -> str | None:
    """What recordOrder of this order could not spend again after its hold expired (JSON), if anything."""
    return (await reader.execute(select(checkout_holds.c.unapplied)
                                 .where(checkout_holds.c.external_order_id == external_order_id))).scalar()
