"""Catalog management over HTTP: CreateReward, UpdateReward, CreateCouponTemplate, UpdateCouponTemplate
by OPERATIONS_MANAGER and ADMIN, audited; retiring, stock set and adjusted (racing redemptions), and
`sync_program` (what `loyalty db upgrade` runs) keeping what staff changed.

Standard program: tier levels 1–4; points from integration RecordOrder, floor(amount/100) for a
regular member on a non-Tuesday (MONDAY).
"""
import asyncio
import dataclasses

from sqlalchemy import func, select

from api.core.ids import pk_of
from domain.program import RewardSpec
from persistence.catalog import sync_program
from persistence.tables import redemptions, rewards
from tests.api.staff_helpers import staff_token
from tests.api.test_rewards import catalog, codes, member, redeem

GOODS = {"name": "保温杯", "description": "350ml", "kind": "GOODS", "pointsCost": 100, "minTierLevel": 1,
         "stock": 3}
NODE = """query($id: ID!) { node(id: $id) { ... on Reward { name description kind pointsCost minTierLevel stock
  active } ... on Redemption { status pointsSpent } } }"""


async def manager(api, database, name: str = "ops") -> str:
    return await staff_token(api, database, name, "OPERATIONS_MANAGER")


async def create(api, token, **changes) -> dict:
    return (await api.data("CreateReward", {"input": {**GOODS, **changes}}, token=token))["createReward"]


async def update(api, token, reward_id, **changes) -> dict:
    return (await api.data("UpdateReward", {"input": {"id": reward_id, **changes}}, token=token))["updateReward"]


async def template(api, token, **values) -> dict:
    return (await api.data("CreateCouponTemplate", {"input": values}, token=token))["createCouponTemplate"]


async def node(api, global_id) -> dict:
    return (await api.execute(NODE, {"id": global_id}))["data"]["node"]


async def test_create_then_update_each_field(api, database):
    token = await manager(api, database)
    created = await create(api, token)
    assert created["userErrors"] == []
    reward = created["reward"]
    assert reward["name"] == "保温杯" and reward["pointsCost"] == 100 and reward["stock"] == 3 and reward["active"]
    assert (await catalog(api))["保温杯"]["id"] == reward["id"]
    rid = reward["id"]
    for changes, shown in [
        ({"name": "保温杯 Pro"}, {"name": "保温杯 Pro"}),
        ({"description": "500ml"}, {"description": "500ml"}),
        ({"pointsCost": 250}, {"pointsCost": 250}),
        ({"minTierLevel": 2}, {"minTierLevel": 2}),
        ({"stock": 10}, {"stock": 10}),
        ({"stockDelta": -4}, {"stock": 6}),
        ({"stockDelta": 5}, {"stock": 11}),
        ({"stock": None}, {"stock": None}),
        ({"active": False}, {"active": False}),
        ({"active": True}, {"active": True}),
    ]:
        payload = await update(api, token, rid, **changes)
        assert payload["userErrors"] == [], (changes, payload)
        now = await node(api, rid)
        assert {key: now[key] for key in shown} == shown, (changes, now)
    assert await node(api, rid) == {"name": "保温杯 Pro", "description": "500ml", "kind": "GOODS", "pointsCost": 250,
                                    "minTierLevel": 2, "stock": None, "active": True}


async def test_invalid_input_and_unknown_ids(api, database):
    token = await manager(api, database)
    coupon_template = (await template(api, token, title="满30减5", kind="AMOUNT_OFF", minSpend=3000,
                                      discountAmount=500, validDays=7))["couponTemplate"]["id"]
    for changes, field in [({"name": ""}, "name"), ({"name": "x" * 65}, "name"), ({"pointsCost": 0}, "pointsCost"),
                           ({"minTierLevel": 9}, "minTierLevel"), ({"stock": -1}, "stock"),
                           ({"kind": "COUPON"}, "couponTemplateId"),
                           ({"couponTemplateId": coupon_template}, "couponTemplateId")]:
        payload = await create(api, token, **changes)
        assert codes(payload) == ["INVALID_INPUT"] and payload["userErrors"][0]["field"] == ["input", field], changes
        assert payload["reward"] is None
    missing = await create(api, token, kind="COUPON", couponTemplateId="Q291cG9uVGVtcGxhdGU6OTk5OTk=")
    assert codes(missing) == ["NOT_FOUND"]
    assert codes(await update(api, token, "UmV3YXJkOjk5OTk5", name="x")) == ["NOT_FOUND"]
    rid = (await create(api, token))["reward"]["id"]
    assert codes(await update(api, token, rid, stock=5, stockDelta=1)) == ["INVALID_INPUT"]
    assert codes(await update(api, token, rid, pointsCost=0)) == ["INVALID_INPUT"]
    bad_percent = await template(api, token, title="折扣", kind="PERCENT_OFF", discountPercent=100, validDays=7)
    assert codes(bad_percent) == ["INVALID_INPUT"]
    assert (await catalog(api))["保温杯"]["pointsCost"] == 100  # nothing of the refused writes stayed


async def test_coupon_reward_issues_the_template_as_staff_last_set_it(api, database):
    token = await manager(api, database)
    made = (await template(api, token, title="满30减5", kind="AMOUNT_OFF", minSpend=3000, discountAmount=500,
                           validDays=7))["couponTemplate"]
    assert made["code"].startswith("staff-") and made["validDays"] == 7
    reward = (await create(api, token, name="减5券", kind="COUPON", couponTemplateId=made["id"], stock=None))["reward"]
    member_token, _ = await member(api, "coupon-fan", order_yuan=500)
    first = await redeem(api, member_token, reward["id"], "r1")
    changed = (await api.data("UpdateCouponTemplate", {"input": {"id": made["id"], "discountAmount": 800,
                                                                 "title": "满30减8"}}, token=token))
    assert changed["updateCouponTemplate"]["couponTemplate"]["discountAmount"] == 800
    second = await redeem(api, member_token, reward["id"], "r2")
    shown = "query($id: ID!) { node(id: $id) { ... on Redemption { coupon { title discountAmount minSpend } } } }"
    coupons = [(await api.execute(shown, {"id": r["redemption"]["id"]}, token=member_token))["data"]["node"]["coupon"]
               for r in (first, second)]
    assert coupons == [{"title": "满30减5", "discountAmount": 500, "minSpend": 3000},
                       {"title": "满30减8", "discountAmount": 800, "minSpend": 3000}]


async def test_retired_reward_leaves_the_catalog_and_cannot_be_redeemed(api, database):
    token = await manager(api, database)
    rid = (await create(api, token))["reward"]["id"]
    member_token, _ = await member(api, "early", order_yuan=500)
    earlier = await redeem(api, member_token, rid, "before")
    assert earlier["userErrors"] == []
    retired = await update(api, token, rid, active=False)
    assert retired["reward"]["active"] is False
    assert "保温杯" not in await catalog(api)
    refused = await redeem(api, member_token, rid, "after")
    assert codes(refused) == ["NOT_FOUND"]
    kept = (await api.execute(NODE, {"id": earlier["redemption"]["id"]}, token=member_token))["data"]["node"]
    assert kept == {"status": "PENDING_FULFILMENT", "pointsSpent": 100}


async def test_stock_never_goes_below_zero(api, database):
    token = await manager(api, database)
    rid = (await create(api, token, stock=2))["reward"]["id"]
    below = await update(api, token, rid, stockDelta=-3)
    assert codes(below) == ["INVALID_INPUT"] and below["userErrors"][0]["field"] == ["input", "stockDelta"]
    assert (await update(api, token, rid, stockDelta=-2))["reward"]["stock"] == 0
    unlimited = (await create(api, token, name="无限", stock=None))["reward"]["id"]
    assert codes(await update(api, token, unlimited, stockDelta=-1)) == ["INVALID_INPUT"]
    assert (await node(api, rid))["stock"] == 0 and (await node(api, unlimited))["stock"] is None


async def redeemed(database, global_id: str) -> int:
    async with database.read_engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(redemptions)
                                   .where(redemptions.c.reward_id == pk_of(global_id, "Reward")))).scalar_one()


async def test_stock_changes_race_redemptions_without_overselling(api, database):
    token = await manager(api, database)
    members = [await member(api, f"racer-{n}", order_yuan=500) for n in range(8)]
    for delta in (-2, 3):
        rid = (await create(api, token, name=f"限量{delta}", stock=5))["reward"]["id"]
        results = await asyncio.gather(
            *(redeem(api, member_token, rid, f"race{delta}") for member_token, _ in members[:4]),
            update(api, token, rid, stockDelta=delta),
            *(redeem(api, member_token, rid, f"race{delta}") for member_token, _ in members[4:]))
        staff_change, redemptions_made = results[4], results[:4] + results[5:]
        taken = sum(r["userErrors"] == [] for r in redemptions_made)
        assert all(codes(r) in ([], ["OUT_OF_STOCK"]) for r in redemptions_made)
        applied = delta if staff_change["userErrors"] == [] else 0
        assert codes(staff_change) in ([], ["INVALID_INPUT"])
        stock = (await node(api, rid))["stock"]
        assert stock >= 0 and stock == 5 + applied - taken
        assert await redeemed(database, rid) == taken
    rid = (await create(api, token, name="限量set", stock=5))["reward"]["id"]
    results = await asyncio.gather(*(redeem(api, member_token, rid, "race-set") for member_token, _ in members),
                                   update(api, token, rid, stock=1))
    assert results[-1]["userErrors"] == []
    taken = sum(r["userErrors"] == [] for r in results[:-1])
    stock = (await node(api, rid))["stock"]
    assert 0 <= stock <= 1 and taken <= 6 and await redeemed(database, rid) == taken


async def test_audited_with_before_and_after(api, database):
    token = await manager(api, database)
    rid = (await create(api, token))["reward"]["id"]
    await update(api, token, rid, pointsCost=300, stockDelta=-1)
    log = await api.data("AuditLog", {"first": 10, "subject": f"Reward:{pk_of(rid, 'Reward')}"}, token=token)
    entries = [edge["node"] for edge in log["auditLog"]["edges"]]
    assert [(e["action"], e["outcome"], e["actorName"]) for e in entries] == [("updateReward", "OK", "ops"),
                                                                              ("createReward", "OK", "ops")]
    updated, created = entries
    assert created["before"] is None and created["after"]["pointsCost"] == 100 and created["after"]["stock"] == 3
    assert (updated["before"]["pointsCost"], updated["before"]["stock"]) == (100, 3)
    assert (updated["after"]["pointsCost"], updated["after"]["stock"]) == (300, 2)
    made = (await template(api, token, title="免运", kind="FREE_SHIPPING", validDays=5))["couponTemplate"]
    await api.data("UpdateCouponTemplate", {"input": {"id": made["id"], "validDays": 9}}, token=token)
    subject = f"CouponTemplate:{pk_of(made['id'], 'CouponTemplate')}"
    log = await api.data("AuditLog", {"first": 10, "subject": subject}, token=token)
    changed = log["auditLog"]["edges"][0]["node"]
    assert changed["action"] == "updateCouponTemplate"
    assert (changed["before"]["validDays"], changed["after"]["validDays"]) == (5, 9)


async def test_only_operations_managers_and_admins(api, database):
    supervisor = await staff_token(api, database, "sup", "SUPPORT_SUPERVISOR")
    member_token, _ = await member(api, "curious")
    admin = await staff_token(api, database, "root", "ADMIN")
    for token in (supervisor, member_token):
        result = await api.op("CreateReward", {"input": GOODS}, token=token)
        assert [e["extensions"]["code"] for e in result["errors"]] == ["FORBIDDEN"]
        result = await api.op("UpdateReward", {"input": {"id": "UmV3YXJkOjE=", "active": False}}, token=token)
        assert [e["extensions"]["code"] for e in result["errors"]] == ["FORBIDDEN"]
    assert (await create(api, admin))["userErrors"] == []


async def test_upgrade_keeps_staff_edits_and_adds_what_the_file_adds(api, database, program):
    token = await manager(api, database)
    by_name = await catalog(api)
    edited_name, untouched_name = "会员定制帆布袋", "免运费券"
    await update(api, token, by_name[edited_name]["id"], name="帆布袋（店长版）", pointsCost=2500)
    await update(api, token, by_name["5元无门槛券"]["id"], active=False)
    staff_made = (await create(api, token))["reward"]["id"]
    changed_file = dataclasses.replace(program, rewards=tuple(
        dataclasses.replace(r, points_cost=r.points_cost + 1) for r in program.rewards) + (
        RewardSpec("new-mug", "新杯子", "", "GOODS", 900, 10, 1, None, 99),))
    async with database.transaction() as conn:
        await sync_program(conn, changed_file)
    after = await catalog(api)
    assert "帆布袋（店长版）" in after and after["帆布袋（店长版）"]["pointsCost"] == 2500  # staff's edit kept
    assert "5元无门槛券" not in after  # staff retired it; the file does not bring it back
    assert after[untouched_name]["pointsCost"] == by_name[untouched_name]["pointsCost"] + 1  # the file's change
    assert after["新杯子"]["stock"] == 10 and after["保温杯"]["id"] == staff_made  # new in the file; staff's own kept
    async with database.read_engine.connect() as conn:
        assert (await conn.execute(select(rewards.c.edited_at).where(rewards.c.code == "new-mug"))).scalar_one() is None
