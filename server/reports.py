"""`loyalty report NAME`: the sections of `insights` as CSV rows, read by the same statements
(`persistence.insights.queries`) and the same rules (`domain.insights`). Definitions: docs/reports.md."""
from __future__ import annotations

from datetime import timedelta

from domain import insights as rules
from domain.insights import Range
from domain.program import Program
from domain.vocabulary import Segment
from persistence.insights import queries


async def members(conn, program: Program, span: Range):
    row = await queries.member_counts(conn, span)
    return ["total", "joined", "active"], [[int(row.total), int(row.joined), int(row.active)]]


async def tiers(conn, program: Program, span: Range):
    return ["tier", "name", "members"], [[row.code, row.name, row.members] for row in await queries.tier_mix(conn)]


async def segments(conn, program: Program, span: Range):
    counts, total = await queries.segment_counts(conn)
    return ["segment", "members", "share", "target"], [
        [s.value, counts.get(s.value, 0), rules.share(counts.get(s.value, 0), total),
         rules.segment_target(program, s.value) or ""] for s in Segment]


async def points(conn, program: Program, span: Range):
    """Long form: the totals (kind empty), then the net points of each kind."""
    sums, outstanding = await queries.point_sums(conn, span)
    totals = rules.point_totals(sums)
    rows = [["issued", "", totals.issued], ["spent", "", totals.spent], ["expired", "", totals.expired],
            ["outstanding", "", outstanding],
            ["breakage_rate", "", rules.breakage_rate(totals.expired, totals.issued)]]
    return ["measure", "kind", "value"], rows + [["by_kind", kind, value] for kind, value in totals.by_kind]


async def liability(conn, program: Program, span: Range):
    return ["month", "points", "value_fen"], [
        [month, value, rules.value_fen(value, program)]
        for month, value in await queries.liability_by_month(conn, program.calendar.zone)]


async def rewards(conn, program: Program, span: Range):
    return ["reward", "name", "redemptions", "points"], [
        [row.code, row.name, row.redemptions, int(row.points)] for row in await queries.reward_redemptions(conn, span)]


async def coupons(conn, program: Program, span: Range):
    return ["source", "issued", "used", "expired"], [
        [row.source, int(row.issued), int(row.used), int(row.expired)] for row in await queries.coupon_counts(conn, span)]


async def check_ins(conn, program: Program, span: Range):
    counts = await queries.check_ins_per_day(conn, span)
    days = (span.first + timedelta(days=n) for n in range((span.last - span.first).days + 1))
    return ["date", "check_ins"], [[day.isoformat(), counts.get(day, 0)] for day in days]


REPORTS = {"members": members, "tiers": tiers, "segments": segments, "points": points, "liability": liability,
           "rewards": rewards, "coupons": coupons, "check-ins": check_ins}
