"""`loyalty seed demo`: demo members with a believable history, made through the real use cases
so every balance matches its ledger. Running it again adds nothing."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from domain import check_ins, coupons, members, orders, rewards, sessions
from domain.errors import LoyaltyError
from domain.program import Program
from persistence.database import Database, Reader
from persistence.rewards.queries import reward_page
from persistence.unit_of_work import SqlUnitOfWork

DEMO_CODE = "demo-member"
DEMO_CODES = (DEMO_CODE, "demo-newcomer")


async def seed_demo(database: Database, program: Program, now: datetime) -> tuple[int, str]:
    """Create the demo members (if missing); the main demo member's id and the token id of a new session of theirs."""
    async with SqlUnitOfWork(database) as uow:
        existing = await uow.members.by_openid(f"dev-{DEMO_CODE}")
    if existing is None:
        await _history(database, program, now)
    async with SqlUnitOfWork(database) as uow:
        demo = await uow.members.by_openid(f"dev-{DEMO_CODE}")
        session, _ = await sessions.start(uow, now, None, member_id=demo.id)
        await uow.commit()
    return demo.id, session.token_id


async def _history(database: Database, program: Program, now: datetime) -> None:
    ids = []
    for code in DEMO_CODES:
        async with SqlUnitOfWork(database) as uow:
            member, _, _ = await members.sign_in_with_wechat(uow, program, now - timedelta(days=40), f"dev-{code}",
                                                             None, now, None)
            ids.append(member.id)
    demo = ids[0]
    async with SqlUnitOfWork(database) as uow:
        await members.update_profile(uow, program, now - timedelta(days=39), demo, members.ProfileChange(
            nickname="小满", birthday=date(1995, 6, 18), gender="FEMALE", household_size=3))
    history = [(35, "order", 128_00, "MINI_PROGRAM"), (21, "order", 560_00, "APP"), (9, "order", 1_480_00, "STORE"),
               (8, "refund", 200_00, "DEMO-ORDER-3"), (2, "order", 66_50, "THIRD_PARTY")]
    for n, (days_ago, kind, amount, detail) in enumerate(history, start=1):
        at = now - timedelta(days=days_ago)
        async with SqlUnitOfWork(database) as uow:
            if kind == "order":
                await orders.record_order(uow, program, at, demo, f"DEMO-ORDER-{n}", amount, 800, detail,
                                          at - timedelta(minutes=5))
            else:
                await orders.refund_order(uow, program, at, detail, f"DEMO-REFUND-{n}", amount)
    for days_ago in range(5, 0, -1):
        async with SqlUnitOfWork(database) as uow:
            await check_ins.check_in(uow, program, now - timedelta(days=days_ago), demo, f"demo-check-in-{days_ago}")
    reader = Reader(database)
    try:
        first_reward = next(iter(await reward_page(reader, None, 1)), None)
    finally:
        await reader.close()
    if first_reward is not None:
        async with SqlUnitOfWork(database) as uow:
            await rewards.redeem_reward(uow, program, now - timedelta(hours=20), demo, first_reward.id, "demo-redeem-1")
    rule = program.monthly_coupons
    if rule.first_day <= program.calendar.local_date(now).day <= rule.last_day:
        async with SqlUnitOfWork(database) as uow:
            try:
                await coupons.claim_monthly_coupons(uow, program, now, demo)
            except LoyaltyError:  # this program gives the demo member's tier no monthly coupons
                pass
