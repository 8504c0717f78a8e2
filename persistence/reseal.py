"""`loyalty data-key rotate`: personal data sealed under an old data key is sealed and indexed again
under the current one, so that the old key can then leave LOYALTY_DATA_OLD_KEYS."""
from __future__ import annotations

from sqlalchemy import bindparam, select, update

from persistence.database import Database
from persistence.personal_data import PersonalDataCipher, phone_place
from persistence.tables import members


async def reseal_personal_data(database: Database, cipher: PersonalDataCipher, batch_size: int = 500) -> int:
    """Re-seal every phone number not sealed with the current key, a batch of members per transaction;
    how many were re-sealed. Safe to run again or after a crash: what is done is under the current key."""
    resealed, last_id = 0, 0
    while True:
        async with database.transaction() as conn:
            rows = (await conn.execute(
                select(members.c.id, members.c.phone_sealed)
                .where(members.c.phone_sealed.is_not(None), members.c.id > last_id)
                .order_by(members.c.id).limit(batch_size).with_for_update())).all()
            if not rows:
                return resealed
            last_id = rows[-1].id
            changes = []
            for row in rows:
                if not cipher.sealed_with_current_key(row.phone_sealed):
                    phone = cipher.open(row.phone_sealed, phone_place(row.id))
                    changes.append({"target": row.id, "sealed": cipher.seal(phone, phone_place(row.id)),
                                    "index": cipher.index(phone)})
            if changes:
                await conn.execute(update(members).where(members.c.id == bindparam("target"))
                                   .values(phone_sealed=bindparam("sealed"), phone_index=bindparam("index")), changes)
            resealed += len(changes)
