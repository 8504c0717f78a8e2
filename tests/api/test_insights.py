"""insights(from, to): a small world built through the API, then every report total checked exactly,
against the ledger too (`loyalty verify`-style: report totals equal ledger sums), at the local-day edges
of the range, for each role, and as `loyalty report` CSV.
Calendar (Asia/Shanghai): the range is Mon 2026-03-02 .. Thu 2026-03-05; Tuesday is member day (avoided)."""
from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from domain.jobs import expire_points
from persistence.tables import members, point_entries, points_lots
from tests.api.staff_helpers import staff_token
from tests.integration.jobs_harness import run_job

RANGE = {"from": "2026-03-02", "to": "2026-03-05"}
CHECK_INS = "query($from: Date!, $to: Date!) { insights(from: $from, to: $to) { checkInsPerDay { date checkIns } } }"


async def order(api, member: str, external_id: str, amount: int, paid_at: str) -> None:
    payload = (await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": external_id,
                                                               "amount": amount, "channel": "APP", "paidAt": paid_at}},
                                     now=paid_at))["recordOrder"]
    assert payload["userErrors"] == [], payload


async def check_in(api, token: str, key: str, now: str) -> None:
    assert (await api.data("CheckIn", {"idempotencyKey": key}, token=token, now=now))["checkIn"]["userErrors"] == []


async def reward_id(api, name: str) -> str:
    edges = (await api.data("RewardCatalog", {"first": 50}))["rewards"]["edges"]
    return next(edge["node"]["id"] for edge in edges if edge["node"]["name"] == name)


async def build_world(api, database, program) -> None:
    """old (2025-03-01) loses its 100 sign-up points to the expiry job on 03-02, orders and checks in at 23:59
    on `to` and orders again at 00:00 the day after; d (02-01) and e (02-04) joined before the range, d's
    welcome coupon lapsing on 03-03 and e's on 03-06; a joins on 03-02, checks in twice, orders ¥200,
    is refunded ¥50, redeems the free-shipping coupon (200) and uses it; c joins on 03-03 and deregisters;
    b joins at 00:00 the day after the range."""
    old_token, old = await api.login("old", now="2025-03-01T09:00:00+08:00")
    await api.login("d", now="2026-02-01T10:00:00+08:00")
    await api.login("e", now="2026-02-04T10:00:00+08:00")
    await run_job(expire_points, database, program, "2026-03-02T03:00:00+08:00")
    a_token, a = await api.login("a", now="2026-03-02T10:00:00+08:00")
    await check_in(api, a_token, "a-1", "2026-03-02T10:05:00+08:00")
    c_token, _ = await api.login("c", now="2026-03-03T10:00:00+08:00")
    await check_in(api, a_token, "a-2", "2026-03-04T09:00:00+08:00")
    await order(api, a, "a-order", 20000, "2026-03-04T12:00:00+08:00")
    assert (await api.data("DeregisterMember", token=c_token, now="2026-03-04T13:00:00+08:00")
            )["deregisterMember"]["userErrors"] == []
    refunded = (await api.integration("RefundOrder", {"input": {"externalId": "a-order", "externalRefundId": "a-r1",
                                                                "amount": 5000}}, now="2026-03-05T10:00:00+08:00"))
    assert refunded["refundOrder"]["userErrors"] == [], refunded
    redeemed = (await api.data("RedeemReward", {"rewardId": await reward_id(api, "免运费券"), "idempotencyKey": "a-redeem"},
                               token=a_token, now="2026-03-05T11:00:00+08:00"))["redeemReward"]
    assert redeemed["userErrors"] == [], redeemed
    used = (await api.integration("UseCoupon", {"input": {
        "memberId": a, "couponId": redeemed["redemption"]["coupon"]["id"], "externalOrderId": "a-ship",
        "orderAmount": 1000}}, now="2026-03-05T12:00:00+08:00"))["useCoupon"]
    assert used["userErrors"] == [], used
    await order(api, old, "old-late", 5000, "2026-03-05T23:59:00+08:00")
    await check_in(api, old_token, "old-1", "2026-03-05T23:59:30+08:00")
    await order(api, old, "old-next-day", 3000, "2026-03-06T00:00:00+08:00")
    b_token, _ = await api.login("b", now="2026-03-06T00:00:00+08:00")
    await check_in(api, b_token, "b-1", "2026-03-06T00:00:30+08:00")


async def insights(api, token: str, variables: dict = RANGE) -> dict:
    return await api.op("ProgramInsights", variables, token=token, now="2026-03-06T09:00:00+08:00")


REPORT = {
    "members": {"total": 4, "joined": 2, "active": 2},  # old, a, d, e open (c closed, b later); a and c joined
    "tierMix": [{"tier": {"code": "regular"}, "members": 5}, {"tier": {"code": "silver"}, "members": 0},
                {"tier": {"code": "gold"}, "members": 0}, {"tier": {"code": "diamond"}, "members": 0}],
    "points": {"issued": 453, "spent": 200, "expired": 100, "outstanding": 434, "breakageRate": 100 / 453,
               "byKind": [{"kind": "SIGNUP", "points": 200}, {"kind": "ORDER", "points": 250},
                          {"kind": "CHECK_IN", "points": 3}, {"kind": "REDEMPTION", "points": -200},
                          {"kind": "REFUND", "points": -50}, {"kind": "EXPIRY", "points": -100},
                          {"kind": "ADJUSTMENT", "points": -100}]},  # c's deregistration gave up its 100
    # d's and e's sign-up lots (2027-02); a 52, old 81, b 101 (2027-03); 100 points are 1 yuan
    "liabilityByExpiryMonth": [{"month": "2027-02", "points": 200, "valueFen": 200},
                               {"month": "2027-03", "points": 234, "valueFen": 234}],
    # a's and c's welcome coupons; d's lapsed on 03-03, c's ended with its account (e's lapses on 03-06)
    "coupons": [{"source": "REDEMPTION", "issued": 1, "used": 1, "expired": 0},
                {"source": "SIGNUP_GIFT", "issued": 2, "used": 0, "expired": 2}],
}


async def test_every_total_of_a_known_world(api, database, program):
    await build_world(api, database, program)
    token = await staff_token(api, database, "ops", "OPERATIONS_MANAGER")
    result = await insights(api, token)
    assert "errors" not in result, result
    report = result["data"]["insights"]
    segments = report.pop("segments")
    assert report.pop("rewards") == [{"reward": {"id": await reward_id(api, "免运费券"), "name": "免运费券"},
                                      "redemptions": 1, "points": 200}]
    assert report == REPORT
    assert [s["segment"] for s in segments][:2] == ["NEW", "HIGH_VALUE"] and len(segments) == 9
    assert all(s["members"] == 0 and s["share"] == 0 and s["target"] is None for s in segments)  # job not run
    days = (await api.execute(CHECK_INS, RANGE, token=token))["data"]["insights"]["checkInsPerDay"]
    assert days == [{"date": "2026-03-02", "checkIns": 1}, {"date": "2026-03-03", "checkIns": 0},
                    {"date": "2026-03-04", "checkIns": 1}, {"date": "2026-03-05", "checkIns": 1}]
    # The books: outstanding = Σ ledger = Σ balances; liability = Σ lots left; the range's net = Σ its entries.
    async with database.read_engine.connect() as conn:
        ledger = (await conn.execute(select(func.sum(point_entries.c.delta)))).scalar_one()
        balances = (await conn.execute(select(func.sum(members.c.points_balance)))).scalar_one()
        lots = (await conn.execute(select(func.sum(points_lots.c.remaining)))).scalar_one()
        in_range = (await conn.execute(select(func.sum(point_entries.c.delta)).where(
            point_entries.c.occurred_at >= datetime.fromisoformat("2026-03-02T00:00:00+08:00"),
            point_entries.c.occurred_at < datetime.fromisoformat("2026-03-06T00:00:00+08:00")))).scalar_one()
    assert report["points"]["outstanding"] == ledger == balances == 434
    assert sum(m["points"] for m in report["liabilityByExpiryMonth"]) == lots
    assert sum(k["points"] for k in report["points"]["byKind"]) == in_range


async def test_local_day_edges(api, database, program):
    """An order at 23:59 local on `to` counts; one at 00:00 the next day counts the day after."""
    await build_world(api, database, program)
    token = await staff_token(api, database, "admin", "ADMIN")
    thursday = (await insights(api, token, {"from": "2026-03-05", "to": "2026-03-05"}))["data"]["insights"]
    friday = (await insights(api, token, {"from": "2026-03-06", "to": "2026-03-06"}))["data"]["insights"]
    assert thursday["members"] == {"total": 4, "joined": 0, "active": 1}  # old; a was refunded and redeemed only
    assert {k["kind"]: k["points"] for k in thursday["points"]["byKind"]} == {
        "ORDER": 50, "CHECK_IN": 1, "REDEMPTION": -200, "REFUND": -50}
    assert friday["members"] == {"total": 5, "joined": 1, "active": 2}  # b joined and checked in; old's order
    assert {k["kind"]: k["points"] for k in friday["points"]["byKind"]} == {"SIGNUP": 100, "ORDER": 30, "CHECK_IN": 1}
    assert friday["points"]["breakageRate"] == 0 and friday["coupons"] == [
        {"source": "SIGNUP_GIFT", "issued": 1, "used": 0, "expired": 1}]  # b's welcome coupon; e's lapses


async def test_who_may_read_and_what_is_refused(api, database, program):
    supervisor = await staff_token(api, database, "sup", "SUPPORT_SUPERVISOR")
    refused = await insights(api, supervisor)
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    admin = await staff_token(api, database, "boss", "ADMIN")
    empty = (await insights(api, admin))["data"]["insights"]
    assert empty["members"] == {"total": 0, "joined": 0, "active": 0} and empty["points"]["breakageRate"] == 0
    audited = await api.execute("{ auditLog(first: 5) { edges { node { action outcome input } } } }", token=admin)
    assert {"action": "insights", "outcome": "OK", "input": RANGE} in [e["node"] for e in audited["data"]["auditLog"]["edges"]]
    backwards = await insights(api, admin, {"from": "2026-03-05", "to": "2026-03-02"})
    assert backwards["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    too_long = await insights(api, admin, {"from": "2025-01-01", "to": "2026-03-02"})
    assert too_long["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def loyalty_report(database, name: str, *more: str) -> list[list[str]]:
    """`loyalty report NAME --from --to` as an operator runs it (another process) on the test database."""
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, DATABASE_URL=database.url, LOYALTY_ENV="test",
               LOYALTY_SECRET_KEY="cli-secret-key-cli-secret-key-cli-secret",
               LOYALTY_PROGRAM=str(root / "programs" / "standard.toml"))
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "server.cli", "report", name,
                                                    "--from", RANGE["from"], "--to", RANGE["to"], *more],
                                   cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return list(csv.reader(io.StringIO(done.stdout)))


async def test_the_csv_reports_equal_the_graphql_numbers(api, database, program, tmp_path):
    await build_world(api, database, program)
    token = await staff_token(api, database, "ops", "OPERATIONS_MANAGER")
    report = (await insights(api, token))["data"]["insights"]
    assert await loyalty_report(database, "members") == [["total", "joined", "active"], ["4", "2", "2"]]
    assert await loyalty_report(database, "tiers") == [["tier", "name", "members"]] + [
        [row["tier"]["code"], name, str(row["members"])]
        for row, name in zip(report["tierMix"], [t.name for t in program.tiers])]
    points = await loyalty_report(database, "points")
    totals = report["points"]
    assert points[:6] == [["measure", "kind", "value"], ["issued", "", "453"], ["spent", "", "200"],
                          ["expired", "", "100"], ["outstanding", "", "434"],
                          ["breakage_rate", "", str(totals["breakageRate"])]]
    assert points[6:] == [["by_kind", k["kind"], str(k["points"])] for k in totals["byKind"]]
    assert await loyalty_report(database, "liability") == [["month", "points", "value_fen"]] + [
        [m["month"], str(m["points"]), str(m["valueFen"])] for m in report["liabilityByExpiryMonth"]]
    assert await loyalty_report(database, "rewards") == [["reward", "name", "redemptions", "points"],
                                                         ["coupon-free-shipping", "免运费券", "1", "200"]]
    assert await loyalty_report(database, "coupons") == [["source", "issued", "used", "expired"]] + [
        [c["source"], str(c["issued"]), str(c["used"]), str(c["expired"])] for c in report["coupons"]]
    segments = await loyalty_report(database, "segments")
    assert segments[0] == ["segment", "members", "share", "target"] and segments[1] == ["NEW", "0", "0.0", ""]
    await loyalty_report(database, "check-ins", "--csv", str(tmp_path / "days.csv"))
    assert list(csv.reader((tmp_path / "days.csv").open(encoding="utf-8"))) == [
        ["date", "check_ins"], ["2026-03-02", "1"], ["2026-03-03", "0"], ["2026-03-04", "1"], ["2026-03-05", "1"]]
