"""What the staff area adds to the schema."""
from __future__ import annotations

import strawberry

from api.core.access import require_staff
from api.core.auth import StaffCaller
from api.core.mutations import staff_read
from api.core.node import NodeType
from api.core.pagination import newest_first_page
from api.staff.loaders import ApiKeyById, ApiKeyPage, AuditPage
from api.staff.mutations import adjust_points, create_api_key, merge_members, revoke_api_key, staff_login
from api.staff.types import ApiKey, ApiKeyConnection, AuditEntry, AuditEntryConnection, StaffAccount
from domain.access import Permission, role_may


@strawberry.type
class StaffQuery:
    @strawberry.field(description="Staff: who is signed in, and what their role may do.")
    def staff_account(self, info: strawberry.Info) -> StaffAccount:
        return StaffAccount.of(require_staff(info.context.caller))

    @strawberry.field(description="Staff (VIEW_AUDIT_LOG): audited actions, newest first; of one subject if given.")
    async def audit_log(self, info: strawberry.Info, first: int, after: str | None = None,
                        subject: str | None = None) -> AuditEntryConnection:
        require_staff(info.context.caller, Permission.VIEW_AUDIT_LOG)
        edges, page_info = await newest_first_page(AuditPage(info.context), (subject,), first, after,
                                                   lambda row: AuditEntry.from_row(row, info.context))
        await staff_read(info, "auditLog", None, {"first": first, "after": after, "subject": subject})
        return AuditEntryConnection(edges=edges, page_info=page_info)

    @strawberry.field(description="Staff (MANAGE_API_KEYS): integration keys, newest first.")
    async def api_keys(self, info: strawberry.Info, first: int, after: str | None = None) -> ApiKeyConnection:
        require_staff(info.context.caller, Permission.MANAGE_API_KEYS)
        edges, page_info = await newest_first_page(ApiKeyPage(info.context), (), first, after,
                                                   lambda row: ApiKey.from_row(row, info.context))
        await staff_read(info, "apiKeys", None, {"first": first, "after": after})
        return ApiKeyConnection(edges=edges, page_info=page_info)


@strawberry.type
class StaffMutation:
    staff_login = strawberry.mutation(resolver=staff_login)
    adjust_points = strawberry.mutation(resolver=adjust_points)
    merge_members = strawberry.mutation(resolver=merge_members)
    create_api_key = strawberry.mutation(resolver=create_api_key)
    revoke_api_key = strawberry.mutation(resolver=revoke_api_key)


def _key_managers(caller, row) -> bool:
    return isinstance(caller, StaffCaller) and role_may(caller.role, Permission.MANAGE_API_KEYS)


NODES = {"ApiKey": NodeType(ApiKeyById, ApiKey.from_row, _key_managers)}
TYPES = [ApiKey]
