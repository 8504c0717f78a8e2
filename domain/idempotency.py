"""Keyed retries: the same key with the same input replays the first answer; another input is refused."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from domain.errors import LoyaltyError, UserErrorCode, invalid
from domain.model import IdempotencyRecord
from domain.ports import UnitOfWork

MAX_KEY_LENGTH = 128


def check_key(value: str, field: str) -> str:
    """Keys are 1–128 characters of visible text."""
    key = value.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise invalid(field, f"{field} must be 1 to {MAX_KEY_LENGTH} printable characters.")
    return key


def fingerprint(**request: object) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def key_reused(what: str) -> LoyaltyError:
    return LoyaltyError(UserErrorCode.IDEMPOTENCY_KEY_REUSED,
                        f"This {what} was already used for a request with different input.")


async def replayed_result(uow: UnitOfWork, member_id: int, operation: str, key: str, request_hash: str) -> int | None:
    """The id of the first answer when this key was used before with the same input; None if new."""
    record = await uow.idempotency.get(member_id, operation, key)
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise key_reused("idempotencyKey")
    return record.result_id


async def remember(uow: UnitOfWork, member_id: int, operation: str, key: str, request_hash: str, result_id: int,
                   now: datetime) -> None:
    await uow.idempotency.add(IdempotencyRecord(member_id, operation, key, request_hash, result_id, now))
