"""Orders as the API reads them."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import select

from persistence.database import Reader
from persistence.rows import rows_by_ids
from persistence.tables import orders


async def order_by_external_id(reader: Reader, external_id: str):
    return (await reader.execute(select(orders).where(orders.c.external_id == external_id))).first()


async def orders_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, orders, ids)
