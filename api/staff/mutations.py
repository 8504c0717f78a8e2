"""Staff: signing in, adjusting points, and managing integration keys. Each is audited."""
from __future__ import annotations

from datetime import datetime

import strawberry

from api.core.access import ANYONE, staff_with
from api.core.auth import STAFF_AUDIENCE, new_access_token, new_api_key
from api.core.mutations import Refused, audit, check_rate, execute, mutation, parse_id, shown
from api.core.vocabulary import UserError
from api.members.types import Member, member_of
from api.points.types import PointEntry
from api.staff.loaders import ApiKeyById
from api.staff.types import ApiKey
from domain import commands
from domain.access import Permission
from domain.errors import LoyaltyError, UserErrorCode
from domain.handling import Actor


@strawberry.input
class StaffLoginInput:
    username: str
    password: str


@strawberry.type
class StaffLoginPayload:
    access_token: str | None = None
    expires_at: datetime | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@mutation(ANYONE)
async def staff_login(info: strawberry.Info, input: StaffLoginInput) -> StaffLoginPayload:
    """Sign a staff member in. Every attempt is audited; a wrong username or password is one answer."""
    context = info.context
    username = input.username.strip().lower()[:64]
    asked = {"username": username}
    try:
        await check_rate(info, "staff_login_ip", context.client_ip)
        await check_rate(info, "staff_login_user", username)
        account, session = await execute(info, commands.StaffSignIn(input.username, input.password))
    except Refused as refused:
        await audit(info, "staffLogin", None, asked, refused.errors[0].code.value, actor=Actor("STAFF", 0, username))
        raise
    await audit(info, "staffLogin", None, asked, "OK", actor=Actor("STAFF", account.id, account.username))
    token, expires_at = new_access_token(info, STAFF_AUDIENCE, session)
    return StaffLoginPayload(access_token=token, expires_at=expires_at)


@strawberry.input
class AdjustPointsInput:
    member_id: strawberry.ID
    points: int = strawberry.field(description="Added when positive, taken when negative.")
    reason: str = strawberry.field(description="Shown to the member in their points history.")
    idempotency_key: str


@strawberry.type
class AdjustPointsPayload:
    entry: PointEntry | None = None
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@mutation(staff_with(Permission.ADJUST_POINTS))
async def adjust_points(info: strawberry.Info, input: AdjustPointsInput) -> AdjustPointsPayload:
    """Add or take a member's points by hand (人工调整), with a reason."""
    context = info.context
    member_id = parse_id(input.member_id, "Member", "memberId")
    entry = await execute(info, commands.AdjustPoints(member_id, input.points, input.reason, input.idempotency_key),
                          input)
    return AdjustPointsPayload(entry=shown(info, "PointEntry", member_id, lambda: PointEntry.from_row(entry, context)),
                               member=await member_of(info, member_id))


@strawberry.input
class MergeMembersInput:
    source_member_id: strawberry.ID = strawberry.field(description="The duplicate, closed by the merge.")
    target_member_id: strawberry.ID = strawberry.field(description="The member the person keeps.")
    reason: str


@strawberry.type
class MergeMembersPayload:
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@mutation(staff_with(Permission.MERGE_MEMBERS))
async def merge_members(info: strawberry.Info, input: MergeMembersInput) -> MergeMembersPayload:
    """客服主管 and above: fold a duplicate member into the one the person keeps (`domain.merges`): identities,
    points (with their expiry), growth, coupons, orders and check-ins move; the duplicate is closed."""
    source_id = parse_id(input.source_member_id, "Member", "sourceMemberId")
    target_id = parse_id(input.target_member_id, "Member", "targetMemberId")
    if source_id is None or target_id is None:
        raise LoyaltyError(UserErrorCode.NOT_FOUND, "No such member.",
                           ["input", "sourceMemberId" if source_id is None else "targetMemberId"])
    await execute(info, commands.MergeMembers(source_id, target_id, input.reason), input)
    return MergeMembersPayload(member=await member_of(info, target_id))


@strawberry.input
class CreateApiKeyInput:
    name: str
    scopes: list[str] = strawberry.field(description="orders:write, coupons:write, points:write, members:read")


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey | None = None
    key: str | None = strawberry.field(default=None, description="The key itself: shown this once, never again.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeApiKeyInput:
    id: strawberry.ID


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKey | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@mutation(staff_with(Permission.MANAGE_API_KEYS))
async def create_api_key(info: strawberry.Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
    """A new integration key with the given scopes."""
    context = info.context
    key, key_hash = new_api_key()
    key_id = await execute(info, commands.CreateApiKey(input.name, tuple(input.scopes), key_hash, key[:10]), input)
    return CreateApiKeyPayload(api_key=ApiKey.from_row(await ApiKeyById(context).load(key_id), context), key=key)


@mutation(staff_with(Permission.MANAGE_API_KEYS))
async def revoke_api_key(info: strawberry.Info, input: RevokeApiKeyInput) -> RevokeApiKeyPayload:
    """Revoke an integration key: it stops working at once."""
    context = info.context
    key_id = parse_id(input.id, "ApiKey", "id")
    await execute(info, commands.RevokeApiKey(key_id), input)
    return RevokeApiKeyPayload(api_key=ApiKey.from_row(await ApiKeyById(context).load(key_id), context))
