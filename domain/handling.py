"""What a command's handler works with besides its command and unit of work (`Handling`), and the audit
trail of a staff or integration write."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from domain.model import AuditRecord
from domain.ports import UnitOfWork
from domain.program import Program


@dataclass(frozen=True)
class Actor:
    """Who the audit log names: a staff member or an integration key."""

    kind: str   # STAFF or INTEGRATION
    id: int
    name: str


def as_record(value):
    """A value as the audit log keeps it (JSON): dataclasses by their camelCase field names."""
    if dataclasses.is_dataclass(value):
        return {_camel(f.name): as_record(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [as_record(v) for v in value]
    return value


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


class AuditTrail:
    """What one audited command did: what it concerns, as it was before and after."""

    def __init__(self, uow: UnitOfWork, actor: Actor, action: str, asked: dict, now: datetime, request_id: str):
        self.uow, self.actor, self.action, self.asked = uow, actor, action, asked
        self.now, self.request_id = now, request_id
        self.subject: str | None = None
        self.before: dict | None = None

    async def concerns(self, subject: str | None) -> None:
        self.subject = subject
        self.before = await self.uow.audit.snapshot(subject)

    def record(self, outcome: str, after: dict | None = None) -> AuditRecord:
        return AuditRecord(occurred_at=self.now, request_id=self.request_id, actor_kind=self.actor.kind,
                           actor_id=self.actor.id, actor_name=self.actor.name, action=self.action,
                           subject=self.subject, outcome=outcome, input=self.asked,
                           before=self.before if outcome == "OK" else None, after=after)


@dataclass
class Handling:
    """What a handler works with besides its command and unit of work."""

    program: Program
    now: datetime              # the request's moment (outside production a test clock may set it)
    real_now: datetime         # the real clock's: sessions and tokens follow it, never a test clock
    passwords: Any = None      # domain.staff.PasswordHasher, for staff sign-in
    trail: AuditTrail | None = None
    replaying: bool = False

    def replay(self, result):
        """The command was handled before (its idempotency key): `result` is that first answer, and
        nothing is changed, committed or audited again."""
        self.replaying = True
        return result

    async def concerns(self, subject: str) -> None:
        """The handler has learnt what the command concerns (a refund's member): the audit log takes the
        state before the change now, and names it."""
        if self.trail is not None:
            await self.trail.concerns(subject)

    def created(self, subject: str) -> None:
        """The command made `subject`: there was nothing before."""
        if self.trail is not None:
            self.trail.subject = subject


