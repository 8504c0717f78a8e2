"""The program's reports as staff read them (`insights(from, to)`); definitions in docs/reports.md. Each
section is read when asked for, by one statement (`persistence.insights.queries`)."""
from __future__ import annotations

from datetime import date, timedelta

import strawberry

from api.core.vocabulary import CouponSource, PointKind, Segment
from api.rewards.types import Reward
from api.tiers.types import Tier
from domain import insights as rules
from domain.insights import Range
from persistence.insights import queries


@strawberry.type(description="Members, counted from the members' rows, orders and check-ins.")
class MemberCounts:
    total: int = strawberry.field(description="Open members (not deregistered) at the end of `to`.")
    joined: int = strawberry.field(description="Members created within the range's local days.")
    active: int = strawberry.field(description="Members with an order paid or a check-in within the range.")


@strawberry.type(description="Open members holding a tier now.")
class TierMixRow:
    tier: Tier
    members: int


@strawberry.type(description="Open members in a lifecycle segment now (members.segment, set by the daily job).")
class SegmentRow:
    segment: Segment
    members: int
    share: float = strawberry.field(description="members ÷ all open members; 0 when there are none.")
    target: str | None = strawberry.field(description=(
        "The program's targets this segment counts towards, each `<op> <percent>% (<segments counted "
        "together>)`, joined by `; ` (fresh-grocery: `>= 20% (HIGH_VALUE + IMPORTANT_DEVELOP + "
        "IMPORTANT_RETAIN + IMPORTANT_LOST)`, `<= 5% (IMPORTANT_LOST)`); null when it has none."))


@strawberry.type(description="Net points of one ledger kind within the range (Σ delta: negative for spending).")
class PointsByKind:
    kind: PointKind
    points: int


@strawberry.type(description="Points from the ledger within the range, and the balance outstanding now.")
class PointsReport:
    issued: int = strawberry.field(description="Σ positive ledger deltas within the range, every kind.")
    spent: int = strawberry.field(description="−Σ negative deltas of REDEMPTION, ORDER_OFFSET and MAKE_UP.")
    expired: int = strawberry.field(description="−Σ EXPIRY deltas within the range.")
    outstanding: int = strawberry.field(description="Σ members' points balances now (equals Σ the ledger).")
    breakage_rate: float = strawberry.field(description="expired ÷ issued; 0 when nothing was issued.")
    by_kind: list[PointsByKind] = strawberry.field(description="Net Σ delta per kind within the range.")


@strawberry.type(description="Points left in lots that expire in one local month, now.")
class LiabilityMonth:
    month: str = strawberry.field(description="The local month the lots expire in, YYYY-MM.")
    points: int = strawberry.field(description="Σ points left in those lots.")
    value_fen: int = strawberry.field(description="points × 100 ÷ the program's points per yuan, rounded down.")


@strawberry.type(description="A reward's redemptions within the range.")
class RewardRow:
    reward: Reward
    redemptions: int
    points: int = strawberry.field(description="Σ points the redemptions spent.")


@strawberry.type(description="Coupons of one source within the range.")
class CouponRow:
    source: CouponSource
    issued: int = strawberry.field(description="Issued (valid from) within the range.")
    used: int = strawberry.field(description="Used within the range.")
    expired: int = strawberry.field(description="Last valid within the range and never used.")


@strawberry.type(description="Check-ins of one local day (a make-up check-in counts on the day it fills).")
class CheckInDay:
    date: date
    check_ins: int


@strawberry.type(description=("The program's reports over the local days [from, to] in the program's zone "
                              "(docs/reports.md). Each section is read when asked for."))
class Insights:
    span: strawberry.Private[Range]
    context: strawberry.Private[object]

    @strawberry.field
    async def members(self) -> MemberCounts:
        row = await queries.member_counts(self.context.reader, self.span)
        return MemberCounts(total=int(row.total), joined=int(row.joined), active=int(row.active))

    @strawberry.field(description="Every tier, lowest first, with the open members holding it now.")
    async def tier_mix(self) -> list[TierMixRow]:
        return [TierMixRow(tier=Tier.from_row(row), members=row.members)
                for row in await queries.tier_mix(self.context.reader)]

    @strawberry.field(description=("Every lifecycle segment with its open members now (members the job has not "
                                   "placed yet count in the share's denominator only)."))
    async def segments(self) -> list[SegmentRow]:
        counts, total = await queries.segment_counts(self.context.reader)
        program = self.context.program
        return [SegmentRow(segment=segment, members=counts.get(segment.value, 0),
                           share=rules.share(counts.get(segment.value, 0), total),
                           target=rules.segment_target(program, segment.value)) for segment in Segment]

    @strawberry.field
    async def points(self) -> PointsReport:
        sums, outstanding = await queries.point_sums(self.context.reader, self.span)
        totals = rules.point_totals(sums)
        return PointsReport(issued=totals.issued, spent=totals.spent, expired=totals.expired, outstanding=outstanding,
                            breakage_rate=rules.breakage_rate(totals.expired, totals.issued),
                            by_kind=[PointsByKind(kind=PointKind(kind), points=points) for kind, points in totals.by_kind])

    @strawberry.field(description="Points left in lots now, by the local month they expire in, earliest first.")
    async def liability_by_expiry_month(self) -> list[LiabilityMonth]:
        program = self.context.program
        return [LiabilityMonth(month=month, points=points, value_fen=rules.value_fen(points, program))
                for month, points in await queries.liability_by_month(self.context.reader, program.calendar.zone)]

    @strawberry.field(description="Rewards redeemed within the range.")
    async def rewards(self) -> list[RewardRow]:
        return [RewardRow(reward=Reward.from_row(row), redemptions=row.redemptions, points=int(row.points))
                for row in await queries.reward_redemptions(self.context.reader, self.span)]

    @strawberry.field(description="Coupons issued, used and expired within the range, per source.")
    async def coupons(self) -> list[CouponRow]:
        return [CouponRow(source=CouponSource(row.source), issued=int(row.issued), used=int(row.used),
                          expired=int(row.expired)) for row in await queries.coupon_counts(self.context.reader, self.span)]

    @strawberry.field(description="Every local day of the range with its check-ins (0 on a day without any).")
    async def check_ins_per_day(self) -> list[CheckInDay]:
        counts = await queries.check_ins_per_day(self.context.reader, self.span)
        days = (self.span.first + timedelta(days=n) for n in range((self.span.last - self.span.first).days + 1))
        return [CheckInDay(date=day, check_ins=counts.get(day, 0)) for day in days]
