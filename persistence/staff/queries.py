"""The audit log and API keys as the API reads them."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import select

from persistence.database import Reader
from persistence.rows import rows_by_ids
from persistence.tables import api_keys, audit_log


async def active_api_key(reader: Reader, key_hash: str):
    return (await reader.execute(
        select(api_keys).where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)))).first()


async def audit_page(reader: Reader, subject: str | None, after_id: int | None, limit: int) -> list:
    return list(await reader.execute(
        select(audit_log).where(audit_log.c.subject == subject if subject is not None else True,
                                audit_log.c.id < after_id if after_id is not None else True)
        .order_by(audit_log.c.id.desc()).limit(limit)))


async def api_key_page(reader: Reader, after_id: int | None, limit: int) -> list:
    return list(await reader.execute(
        select(api_keys).where(api_keys.c.id < after_id if after_id is not None else True)
        .order_by(api_keys.c.id.desc()).limit(limit)))


async def api_keys_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, api_keys, ids)
