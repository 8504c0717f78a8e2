"""`loyalty seed demo`: demo members with a believable history, made through the service layer as any
write is, so every balance matches its ledger. Running it again adds nothing."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from domain import commands
from domain.errors import LoyaltyError
from domain.program import Program
from domain.service import Service
from persistence.database import Database, Reader
from persistence.rewards.queries import reward_page
from persistence.unit_of_work import SqlUnitOfWork

DEMO_CODE = "demo-member"
DEMO_CODES = (DEMO_CODE, "demo-newcomer")


async def seed_demo(database: Database, program: Program, now: datetime) -> tuple[int, str]:
    """Create the demo members (if missing); the main demo member's id and the token id of a new session of theirs."""
    service = Service(program, lambda: SqlUnitOfWork(database))
    async with SqlUnitOfWork(database) as uow:
        existing = await uow.members.by_openid(f"dev-{DEMO_CODE}")
    if existing is None:
        await _history(service, database, program, now)
    demo, session, _ = await service.handle(commands.SignInWithWeChat(f"dev-{DEMO_CODE}", None, None), now=now)
    return demo.id, session.token_id


async def _history(service: Service, database: Database, program: Program, now: datetime) -> None:
    ids = []
    for code in DEMO_CODES:
        member, _, _ = await service.handle(commands.SignInWithWeChat(f"dev-{code}", None, None),
                                            now=now - timedelta(days=40))
        ids.append(member.id)
    demo = ids[0]
    await service.handle(commands.UpdateProfile(demo, nickname="小满", birthday=date(1995, 6, 18), gender="FEMALE",
                                                household_size=3), now=now - timedelta(days=39))
    history = [(35, "order", 128_00, "MINI_PROGRAM"), (21, "order", 560_00, "APP"), (9, "order", 1_480_00, "STORE"),
               (8, "refund", 200_00, "DEMO-ORDER-3"), (2, "order", 66_50, "THIRD_PARTY")]
    for n, (days_ago, kind, amount, detail) in enumerate(history, start=1):
        at = now - timedelta(days=days_ago)
        if kind == "order":
            command = commands.RecordOrder(demo, f"DEMO-ORDER-{n}", amount, 800, detail, at - timedelta(minutes=5))
        else:
            command = commands.RefundOrder(detail, f"DEMO-REFUND-{n}", amount)
        await service.handle(command, now=at)
    for days_ago in range(5, 0, -1):
        await service.handle(commands.CheckIn(demo, f"demo-check-in-{days_ago}"), now=now - timedelta(days=days_ago))
    reader = Reader(database)
    try:
        first_reward = next(iter(await reward_page(reader, None, 1)), None)
    finally:
        await reader.close()
    if first_reward is not None:
        await service.handle(commands.RedeemReward(demo, first_reward.id, "demo-redeem-1"), now=now - timedelta(hours=20))
    rule = program.monthly_coupons
    if rule.first_day <= program.calendar.local_date(now).day <= rule.last_day:
        try:
            await service.handle(commands.ClaimMonthlyCoupons(demo), now=now)
        except LoyaltyError:  # this program gives the demo member's tier no monthly coupons
            pass
