"""What the members area adds to the schema."""
from __future__ import annotations

import strawberry

from api.core.access import require_member, require_staff
from api.core.errors import bad_request, unauthenticated
from api.core.mutations import staff_read
from api.core.node import NodeType, owned_by
from api.members.loaders import MemberById
from api.members.mutations import (
    bind_phone_number, deregister_member, login_with_phone, login_with_wechat, request_sms_code, update_profile,
)
from api.members.types import Member, mask_phone
from domain.access import Permission
from persistence.members import queries


@strawberry.type
class MembersQuery:
    @strawberry.field(description="The signed-in member (Authorization: Bearer <accessToken>).")
    async def me(self, info: strawberry.Info) -> Member:
        member_id = require_member(info.context.caller)
        row = await MemberById(info.context).load(member_id)
        if row is None:
            raise unauthenticated("This access token's member no longer exists; sign in again.")
        return Member.from_row(row, info.context)

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
            await staff_read(info, "findMember", f"Member:{row.id}", {"memberNo": member_no, "phone": mask_phone(phone)})
        return Member.from_row(row, context) if row is not None else None


@strawberry.type
class MembersMutation:
    login_with_we_chat = strawberry.mutation(resolver=login_with_wechat, name="loginWithWeChat")
    request_sms_code = strawberry.mutation(resolver=request_sms_code)
    login_with_phone = strawberry.mutation(resolver=login_with_phone)
    bind_phone_number = strawberry.mutation(resolver=bind_phone_number)
    deregister_member = strawberry.mutation(resolver=deregister_member)
    update_profile = strawberry.mutation(resolver=update_profile)


NODES = {"Member": NodeType(MemberById, Member.from_row, owned_by("Member", lambda row: row.id))}
TYPES = [Member]
