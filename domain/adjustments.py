"""Points adjusted by hand (人工调整): staff add or take points, with a reason the member sees."""
from __future__ import annotations

from domain import commands, idempotency, wallet
from domain.errors import invalid
from domain.handling import Handling
from domain.locking import member_for_update
from domain.model import LedgerEntry
from domain.ports import UnitOfWork
from domain.vocabulary import PointKind

MAX_ADJUSTMENT = 1_000_000
REASON_MAX = 60


async def adjust_points(command: commands.AdjustPoints, uow: UnitOfWork, context: Handling) -> LedgerEntry:
    """An ADJUSTMENT entry of `points` (not zero, at most a million either way): added points are a new
    lot that expires as any other (`points.expiry`); taken points come from the lots that expire first
    and never take the balance below zero (INSUFFICIENT_POINTS). `idempotencyKey` makes retries safe."""
    program, now, member_id, points = context.program, context.now, command.member_id, command.points
    key, reason = command.idempotency_key, command.reason
    key = idempotency.check_key(key, "idempotencyKey")
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX or not reason.isprintable():
        raise invalid("reason", f"reason must be 1 to {REASON_MAX} printable characters.")
    if points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise invalid("points", f"points must be non-zero and at most {MAX_ADJUSTMENT} either way.")
    member = await member_for_update(uow, member_id)
    request = idempotency.fingerprint(operation="adjustPoints", points=points, reason=reason)
    replay = await idempotency.replayed_result(uow, member.id, "adjustPoints", key, request)
    if replay is not None:
        return context.replay(await uow.points.get_entry(replay))
    description = f"人工调整：{reason}"
    if points > 0:
        entry = await wallet.credit(uow, program, member, points, PointKind.ADJUSTMENT, description, now)
    else:
        entry = await wallet.debit(uow, member, -points, PointKind.ADJUSTMENT, description, now)
    await idempotency.remember(uow, member.id, "adjustPoints", key, request, entry.id, now)
    return entry
