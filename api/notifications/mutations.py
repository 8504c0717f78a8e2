"""Marking notifications read."""
from __future__ import annotations

import strawberry

from api.core.access import MEMBERS
from api.core.mutations import execute, mutation, parse_id
from api.core.vocabulary import UserError
from domain import commands


@strawberry.input
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] = strawberry.field(description="Notification IDs, at most 100.")


@strawberry.type
class MarkNotificationsReadPayload:
    unread_count: int | None = strawberry.field(default=None, description="Unread notifications left.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@mutation(MEMBERS)
async def mark_notifications_read(info: strawberry.Info, input: MarkNotificationsReadInput) -> MarkNotificationsReadPayload:
    """Mark the member's notifications read; all or none (an ID that is not theirs is NOT_FOUND)."""
    context = info.context
    member_id = context.caller.member_id
    ids = [parse_id(global_id, "Notification", "ids") for global_id in input.ids]
    unread = await execute(info, commands.MarkNotificationsRead(member_id, tuple(ids)))
    return MarkNotificationsReadPayload(unread_count=unread)
