"""The service layer (Cosmic Python's handlers): `Service.handle(command)` runs a command's handler in
one unit of work, retries it when another transaction won a race for the same key, records staff and
integration writes in the audit log in the same transaction (refusals too, in one of their own), and
commits. Handlers decide; they neither open nor commit the transaction.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, AsyncContextManager, Awaitable, Callable

from domain import (
    adjustments, api_keys, catalog, check_ins, checkout, commands, coupons, members, merges, notifications, orders,
    rewards, sessions, staff,
)
from domain.clock import Clock, SystemClock
from domain.errors import LoyaltyError, WriteConflict
from domain.handling import Actor, AuditTrail, Handling, as_record
from domain.model import AuditRecord
from domain.ports import UnitOfWork
from domain.program import Program
from domain.staff import PasswordHasher

ATTEMPTS = 3

HANDLERS: dict[type, Callable[[Any, UnitOfWork, Handling], Awaitable[Any]]] = {
    commands.SignInWithWeChat: members.sign_in_with_wechat,
    commands.StoreSmsCode: members.store_sms_code,
    commands.SignInWithPhone: members.sign_in_with_phone,
    commands.MergeMembers: merges.merge_members,
    commands.HoldForCheckout: checkout.hold_for_checkout,
    commands.ReleaseHold: checkout.release_hold,
    commands.BindPhone: members.bind_phone,
    commands.Deregister: members.deregister,
    commands.UpdateProfile: members.update_profile,
    commands.RefreshSession: sessions.refresh,
    commands.EndSession: sessions.end,
    commands.CreateStaff: staff.create_staff,
    commands.StaffSignIn: staff.sign_in,
    commands.CreateApiKey: api_keys.create_api_key,
    commands.RevokeApiKey: api_keys.revoke_api_key,
    commands.AdjustPoints: adjustments.adjust_points,
    commands.CheckIn: check_ins.check_in,
    commands.MakeUpCheckIn: check_ins.make_up_check_in,
    commands.ClaimMonthlyCoupons: coupons.claim_monthly_coupons,
    commands.UseCoupon: coupons.use_coupon,
    commands.RedeemReward: rewards.redeem_reward,
    commands.CreateReward: catalog.create_reward,
    commands.UpdateReward: catalog.update_reward,
    commands.CreateCouponTemplate: catalog.create_coupon_template,
    commands.UpdateCouponTemplate: catalog.update_coupon_template,
    commands.MarkNotificationsRead: notifications.mark_read,
    commands.RecordOrder: orders.record_order,
    commands.RefundOrder: orders.refund_order,
    commands.RedeemPointsForOrder: orders.redeem_points_for_order,
}


class Service:
    """The one way a write happens: a command, handled in a unit of work of `new_uow`."""

    def __init__(self, program: Program, new_uow: Callable[[], AsyncContextManager[UnitOfWork]],
                 clock: Clock = SystemClock(), passwords: PasswordHasher | None = None):
        self.program, self.new_uow, self.clock, self.passwords = program, new_uow, clock, passwords

    async def handle(self, command: commands.Command, *, now: datetime | None = None, actor: Actor | None = None,
                     request_id: str = "-", asked: dict | None = None):
        """The handler's result; LoyaltyError when a business rule refuses (nothing changed, except what a
        refusal keeps, see `LoyaltyError.keep_changes`). `now` is the moment the command happens at (the
        clock's by default); `actor` and `asked` (the input as the caller wrote it) go into the audit log."""
        handler = HANDLERS[type(command)]
        now = now or self.clock.now()
        audited = actor is not None and command.audit_action is not None
        for attempt in range(ATTEMPTS):
            trail = None
            try:
                async with self.new_uow() as uow:
                    if audited:
                        trail = AuditTrail(uow, actor, command.audit_action, as_record(asked or command), now,
                                           request_id)
                        await trail.concerns(command.audit_subject())
                    handling = Handling(self.program, now, self.clock.now(), self.passwords, trail)
                    try:
                        result = await handler(command, uow, handling)
                    except LoyaltyError as error:
                        if error.keep_changes:
                            await uow.commit()
                        raise
                    if handling.replaying:
                        return result
                    if trail is not None:
                        await uow.flush()
                        await uow.audit.add(trail.record("OK", await uow.audit.snapshot(trail.subject)))
                    await uow.commit()
                    return result
            except LoyaltyError as error:
                if trail is not None:
                    await self.record_audit(trail.record(error.code.value))
                raise
            except WriteConflict:
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def record_audit(self, record: AuditRecord) -> None:
        """Append to the audit log in a transaction of its own (a refusal, a staff read, a sign-in)."""
        async with self.new_uow() as uow:
            await uow.audit.add(record)
            await uow.commit()
