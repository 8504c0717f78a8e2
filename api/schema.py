"""The schema: Query, Mutation, and the extensions every request runs through."""
from __future__ import annotations

import importlib

import strawberry

from api.dataloaders import LADDER
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig

from api.auth import IntegrationCaller, MemberCaller, require_member
from api.errors import bad_request, should_mask, unauthenticated
from api.ids import from_global_id
from api.mutations.check_in import check_in
from api.mutations.claim_monthly_coupons import claim_monthly_coupons
from api.mutations.login_with_wechat import login_with_wechat
from api.mutations.mark_notifications_read import mark_notifications_read
from api.mutations.record_order import record_order
from api.mutations.redeem_points_for_order import redeem_points_for_order
from api.mutations.redeem_reward import redeem_reward
from api.mutations.refund_order import refund_order
from api.mutations.update_profile import update_profile
from api.mutations.use_coupon import use_coupon
from api.pagination import check_first, decode_cursor, page_of
from api.types.coupon import Coupon
from api.types.member import Member
from api.types.node import Node
from api.types.notification import Notification
from api.types.order import CheckIn, Order
from api.types.points import PointEntry
from api.types.reward import Redemption, Reward, RewardConnection
from api.types.tier import Benefit, Tier

# type name → (loader, how to build it, the member who owns it; None for the public catalog)
NODE_TYPES = {
    "Tier": ("tier", lambda row, ctx: Tier.from_row(row), None),
    "Benefit": ("benefit", lambda row, ctx: Benefit.from_row(row), None),
    "Reward": ("reward", lambda row, ctx: Reward.from_row(row), None),
    "Member": ("member", Member.from_row, lambda row: row.id),
    "Coupon": ("coupon", Coupon.from_row, lambda row: row.member_id),
    "PointEntry": ("point_entry", PointEntry.from_row, lambda row: row.member_id),
    "Redemption": ("redemption", Redemption.from_row, lambda row: row.member_id),
    "Order": ("order", Order.from_row, lambda row: row.member_id),
    "CheckIn": ("check_in", lambda row, ctx: CheckIn.from_row(row), lambda row: row.member_id),
    "Notification": ("notification", Notification.from_row, lambda row: row.member_id),
}


def may_see(caller, owner_id: int | None) -> bool:
    """The catalog is public; a member sees only their own objects; integrations see members' objects."""
    if owner_id is None:
        return True
    if isinstance(caller, MemberCaller):
        return caller.member_id == owner_id
    return isinstance(caller, IntegrationCaller)


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in member (Authorization: Bearer <accessToken>).")
    async def me(self, info: strawberry.Info) -> Member:
        member_id = require_member(info.context.caller)
        row = await info.context.loaders.member.load(member_id)
        if row is None:
            raise unauthenticated("This access token's member no longer exists; sign in again.")
        return Member.from_row(row, info.context)

    @strawberry.field(description="The program's tiers, lowest first.")
    async def tiers(self, info: strawberry.Info) -> list[Tier]:
        return [Tier.from_row(row) for row in await info.context.loaders.tier_ladder.load(LADDER)]

    @strawberry.field(description="The reward catalog.")
    async def rewards(self, info: strawberry.Info, first: int, after: str | None = None) -> RewardConnection:
        check_first(first)
        rows = await info.context.loaders.reward_page.load((decode_cursor(after, 2), first + 1))
        edges, page_info = page_of(rows, first, Reward.from_row, lambda row: (row.sort_order, row.id),
                                   after is not None)
        return RewardConnection(edges=edges, page_info=page_info)

    @strawberry.field(description="Any object by its global ID, if the caller may see it.")
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        parsed = from_global_id(id)
        if parsed is None:
            raise bad_request("id is not a valid ID.")
        type_name, pk = parsed
        if type_name not in NODE_TYPES:
            return None
        loader_name, build, owner = NODE_TYPES[type_name]
        row = await getattr(info.context.loaders, loader_name).load(pk)
        if row is None or not may_see(info.context.caller, owner(row) if owner else None):
            return None
        return build(row, info.context)


@strawberry.type
class Mutation:
    login_with_we_chat = strawberry.mutation(resolver=login_with_wechat, name="loginWithWeChat")
    check_in = strawberry.mutation(resolver=check_in)
    redeem_reward = strawberry.mutation(resolver=redeem_reward)
    claim_monthly_coupons = strawberry.mutation(resolver=claim_monthly_coupons)
    update_profile = strawberry.mutation(resolver=update_profile)
    record_order = strawberry.mutation(resolver=record_order)
    refund_order = strawberry.mutation(resolver=refund_order)
    use_coupon = strawberry.mutation(resolver=use_coupon)
    redeem_points_for_order = strawberry.mutation(resolver=redeem_points_for_order)
    mark_notifications_read = strawberry.mutation(resolver=mark_notifications_read)


def build_schema() -> strawberry.Schema:
    # "Did you mean …?" reveals names of the schema to whoever probes it. Strawberry switches off
    # field suggestions only; graphql-core's one switch for arguments, types and enum values is this.
    importlib.import_module("graphql.pyutils.did_you_mean").MAX_LENGTH = 0
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Member, Tier, Benefit, Reward, Coupon, PointEntry, Redemption, Order, CheckIn, Notification],
        config=StrawberryConfig(disable_field_suggestions=True),
        extensions=[ParserCache(maxsize=256), ValidationCache(maxsize=256), MaskErrors(should_mask_error=should_mask)],
    )


schema = build_schema()
