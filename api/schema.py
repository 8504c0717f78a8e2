"""The schema: Query, Mutation, and the extensions every request runs through (limits checked before
anything runs, cost reported, unexpected errors masked with the request id)."""
from __future__ import annotations

import functools
import importlib

import strawberry
from strawberry.schema.config import StrawberryConfig

from api.access import may_see, require_member, require_staff
from api.auth import StaffCaller
from api.dataloaders import LADDER
from api.document_limits import DocumentChecks, RequestChecks, RequestLimits
from api.errors import MaskUnexpectedErrors, bad_request, log_unexpected, unauthenticated
from api.ids import from_global_id
from api.mutations.base import Audit, record
from api.mutations.check_in import check_in
from api.mutations.claim_monthly_coupons import claim_monthly_coupons
from api.mutations.login_with_wechat import login_with_wechat
from api.mutations.mark_notifications_read import mark_notifications_read
from api.mutations.member_account import bind_phone_number, deregister_member
from api.mutations.record_order import record_order
from api.mutations.redeem_points_for_order import redeem_points_for_order
from api.mutations.redeem_reward import redeem_reward
from api.mutations.refund_order import refund_order
from api.mutations.sessions import logout, refresh_access_token
from api.mutations.staff import adjust_points, create_api_key, revoke_api_key, staff_login
from api.mutations.update_profile import update_profile
from api.mutations.use_coupon import use_coupon
from api.pagination import check_first, decode_cursor, newest_first_page, page_of
from api.types.coupon import Coupon
from api.types.member import Member, mask_phone
from api.types.node import Node
from api.types.notification import Notification
from api.types.order import CheckIn, Order
from api.types.points import PointEntry
from api.types.reward import Redemption, Reward, RewardConnection
from api.types.staff import ApiKey, ApiKeyConnection, AuditEntry, AuditEntryConnection, StaffAccount
from api.types.tier import Benefit, Tier
from domain.access import Permission, role_may
from persistence import queries


def _catalog(caller, row) -> bool:
    return True


def _owned_by(kind: str, owner):
    return lambda caller, row: may_see(caller, kind, owner(row))


def _key_managers(caller, row) -> bool:
    return isinstance(caller, StaffCaller) and role_may(caller.role, Permission.MANAGE_API_KEYS)


# type name → (loader, how to build it from a row, who may see it)
NODE_TYPES = {
    "Tier": ("tier", lambda row, ctx: Tier.from_row(row), _catalog),
    "Benefit": ("benefit", lambda row, ctx: Benefit.from_row(row), _catalog),
    "Reward": ("reward", lambda row, ctx: Reward.from_row(row), _catalog),
    "Member": ("member", Member.from_row, _owned_by("Member", lambda row: row.id)),
    "Coupon": ("coupon", Coupon.from_row, _owned_by("Coupon", lambda row: row.member_id)),
    "PointEntry": ("point_entry", PointEntry.from_row, _owned_by("PointEntry", lambda row: row.member_id)),
    "Redemption": ("redemption", Redemption.from_row, _owned_by("Redemption", lambda row: row.member_id)),
    "Order": ("order", Order.from_row, _owned_by("Order", lambda row: row.member_id)),
    "CheckIn": ("check_in", lambda row, ctx: CheckIn.from_row(row), _owned_by("CheckIn", lambda row: row.member_id)),
    "Notification": ("notification", Notification.from_row, _owned_by("Notification", lambda row: row.member_id)),
    "ApiKey": ("api_key", ApiKey.from_row, _key_managers),
}


async def _staff_read(info: strawberry.Info, action: str, subject: str | None, asked: dict) -> None:
    """Staff reading members' accounts, the audit log or the keys is recorded, as any staff action is."""
    if isinstance(info.context.caller, StaffCaller):
        await record(info.context, Audit(action, subject, asked), "OK")


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
        loader_name, build, visible = NODE_TYPES[type_name]
        row = await getattr(info.context.loaders, loader_name).load(pk)
        if row is None or not visible(info.context.caller, row):
            return None
        if type_name == "Member":
            await _staff_read(info, "node", f"Member:{row.id}", {"id": id})
        return build(row, info.context)

    @strawberry.field(description="Staff: who is signed in, and what their role may do.")
    def staff_account(self, info: strawberry.Info) -> StaffAccount:
        return StaffAccount.of(require_staff(info.context.caller))

    @strawberry.field(description="Staff (VIEW_MEMBERS): a member by member number or by phone number.")
    async def find_member(self, info: strawberry.Info, member_no: str | None = None,
                          phone: str | None = None) -> Member | None:
        context = info.context
        require_staff(context.caller, Permission.VIEW_MEMBERS)
        if (member_no is None) == (phone is None):
            raise bad_request("Give memberNo or phone, one of them.")
        if member_no is not None:
            row = await queries.member_by_number(context.reader, member_no.strip())
        else:
            row = await queries.member_by_phone_index(context.reader,
                                                      context.services.personal_data.indexes(phone.strip()))
        if row is not None:
            await _staff_read(info, "findMember", f"Member:{row.id}", {"memberNo": member_no, "phone": mask_phone(phone)})
        return Member.from_row(row, context) if row is not None else None

    @strawberry.field(description="Staff (VIEW_AUDIT_LOG): audited actions, newest first; of one subject if given.")
    async def audit_log(self, info: strawberry.Info, first: int, after: str | None = None,
                        subject: str | None = None) -> AuditEntryConnection:
        require_staff(info.context.caller, Permission.VIEW_AUDIT_LOG)
        edges, page_info = await newest_first_page(info.context.loaders.audit_page, (subject,), first, after,
                                                   lambda row: AuditEntry.from_row(row, info.context))
        await _staff_read(info, "auditLog", None, {"first": first, "after": after, "subject": subject})
        return AuditEntryConnection(edges=edges, page_info=page_info)

    @strawberry.field(description="Staff (MANAGE_API_KEYS): integration keys, newest first.")
    async def api_keys(self, info: strawberry.Info, first: int, after: str | None = None) -> ApiKeyConnection:
        require_staff(info.context.caller, Permission.MANAGE_API_KEYS)
        edges, page_info = await newest_first_page(info.context.loaders.api_key_page, (), first, after,
                                                   lambda row: ApiKey.from_row(row, info.context))
        await _staff_read(info, "apiKeys", None, {"first": first, "after": after})
        return ApiKeyConnection(edges=edges, page_info=page_info)


@strawberry.type
class Mutation:
    login_with_we_chat = strawberry.mutation(resolver=login_with_wechat, name="loginWithWeChat")
    refresh_access_token = strawberry.mutation(resolver=refresh_access_token)
    logout = strawberry.mutation(resolver=logout)
    bind_phone_number = strawberry.mutation(resolver=bind_phone_number)
    deregister_member = strawberry.mutation(resolver=deregister_member)
    check_in = strawberry.mutation(resolver=check_in)
    redeem_reward = strawberry.mutation(resolver=redeem_reward)
    claim_monthly_coupons = strawberry.mutation(resolver=claim_monthly_coupons)
    update_profile = strawberry.mutation(resolver=update_profile)
    mark_notifications_read = strawberry.mutation(resolver=mark_notifications_read)
    record_order = strawberry.mutation(resolver=record_order)
    refund_order = strawberry.mutation(resolver=refund_order)
    use_coupon = strawberry.mutation(resolver=use_coupon)
    redeem_points_for_order = strawberry.mutation(resolver=redeem_points_for_order)
    staff_login = strawberry.mutation(resolver=staff_login)
    adjust_points = strawberry.mutation(resolver=adjust_points)
    create_api_key = strawberry.mutation(resolver=create_api_key)
    revoke_api_key = strawberry.mutation(resolver=revoke_api_key)


class LoyaltySchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        """Log unexpected errors under the request's id (free of personal data); the expected ones are
        answers, not incidents."""
        context = getattr(execution_context, "context", None)
        log_unexpected(errors, getattr(context, "request_id", "-"))


@functools.cache
def build_schema(limits: RequestLimits = RequestLimits(), production: bool = False) -> strawberry.Schema:
    """The schema with `limits` checked before execution (`api.document_limits`); production also refuses
    introspection. Built once per set of limits."""
    # "Did you mean …?" reveals names of the schema to whoever probes it. Strawberry switches off
    # field suggestions only; graphql-core's one switch for arguments, types and enum values is this.
    importlib.import_module("graphql.pyutils.did_you_mean").MAX_LENGTH = 0
    checks = DocumentChecks(limits, production)
    built = LoyaltySchema(
        query=Query,
        mutation=Mutation,
        types=[Member, Tier, Benefit, Reward, Coupon, PointEntry, Redemption, Order, CheckIn, Notification, ApiKey],
        config=StrawberryConfig(disable_field_suggestions=True,
                                batching_config={"max_operations": limits.max_batch}),
        extensions=[lambda: RequestChecks(checks), MaskUnexpectedErrors],
    )
    built.checks = checks
    return built


schema = build_schema()
