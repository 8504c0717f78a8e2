"""Staff: the signed-in account, integration keys, the audit log."""
from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.core.ids import to_global_id
from api.core.node import Node, local
from api.core.pagination import Edge, PageInfo
from domain.access import permissions_of


@strawberry.type(description="The signed-in staff member.")
class StaffAccount:
    username: str
    role: str
    permissions: list[str] = strawberry.field(description="What the role may do (domain.access).")

    @classmethod
    def of(cls, caller) -> "StaffAccount":
        return cls(username=caller.username, role=caller.role,
                   permissions=sorted(p.value for p in permissions_of(caller.role)))


@strawberry.type(description="An integration API key (the key itself is shown once, when created).")
class ApiKey(Node):
    name: str
    prefix: str = strawberry.field(description="The key's first characters, to tell keys apart.")
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row, context) -> "ApiKey":
        return cls(id=to_global_id("ApiKey", row.id), name=row.name, prefix=row.prefix, scopes=row.scopes.split(),
                   created_at=local(row.created_at, context.zone), revoked_at=local(row.revoked_at, context.zone))


@strawberry.type
class ApiKeyConnection:
    edges: list[Edge[ApiKey]]
    page_info: PageInfo


@strawberry.type(description="One audited staff action or integration write. Read-only.")
class AuditEntry:
    occurred_at: datetime
    request_id: str
    actor_kind: str
    actor_name: str
    action: str
    subject: str | None
    outcome: str
    input: JSON
    before: JSON | None
    after: JSON | None

    @classmethod
    def from_row(cls, row, context) -> "AuditEntry":
        return cls(occurred_at=local(row.occurred_at, context.zone), request_id=row.request_id,
                   actor_kind=row.actor_kind, actor_name=row.actor_name, action=row.action, subject=row.subject,
                   outcome=row.outcome, input=row.input, before=row.before, after=row.after)


@strawberry.type
class AuditEntryConnection:
    edges: list[Edge[AuditEntry]]
    page_info: PageInfo
