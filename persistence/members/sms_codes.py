"""Sign-in codes sent by SMS, found by the number's blind index (`persistence.personal_data`): the number is
never stored in the clear here either."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import SmsCode
from persistence.personal_data import PersonalDataCipher
from persistence.rows import columns_of, to_model
from persistence.tables import sms_codes


class SqlSmsCodeRepository:
    def __init__(self, conn: AsyncConnection, personal_data: PersonalDataCipher | None):
        self.conn, self._personal_data = conn, personal_data

    @property
    def personal_data(self) -> PersonalDataCipher:
        if self._personal_data is None:
            raise RuntimeError("this unit of work was opened without the personal-data cipher")
        return self._personal_data

    async def replace(self, phone: str, code_hash: str, now: datetime, expires_at: datetime) -> None:
        await self.conn.execute(delete(sms_codes).where(sms_codes.c.phone_index.in_(self.personal_data.indexes(phone))))
        await self.conn.execute(insert(sms_codes).values(phone_index=self.personal_data.index(phone),
                                                         code_hash=code_hash, attempts=0, created_at=now,
                                                         expires_at=expires_at))

    async def latest(self, phone: str) -> SmsCode | None:
        row = (await self.conn.execute(
            select(*columns_of(sms_codes, SmsCode)).where(sms_codes.c.phone_index.in_(self.personal_data.indexes(phone)))
            .order_by(sms_codes.c.id.desc()).limit(1).with_for_update())).first()
        return to_model(SmsCode, row) if row else None

    async def count_wrong_try(self, code_id: int) -> None:
        await self.conn.execute(update(sms_codes).where(sms_codes.c.id == code_id)
                                .values(attempts=sms_codes.c.attempts + 1))

    async def spend(self, code_id: int, now: datetime) -> None:
        await self.conn.execute(update(sms_codes).where(sms_codes.c.id == code_id).values(used_at=now))
