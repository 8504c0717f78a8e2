"""The Node interface (Relay), and how `node(id:)` finds each type: the areas declare their node types
(`NODES` in `api/<area>/schema.py`) and `api.schema` gathers them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

import strawberry

from api.core.access import may_see


@strawberry.interface(description="An object with a global ID (Relay): node(id:) fetches any the caller may see.")
class Node:
    id: strawberry.ID


def local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Times are shown in the program's time zone, with their offset."""
    return moment.astimezone(zone) if moment is not None else None


@dataclass(frozen=True)
class NodeType:
    """A type `node(id:)` can answer: the loader of its rows, the object a row becomes, and who may see it."""

    loader: type
    build: Callable[[Any, Any], Any]                 # (row, context) → the GraphQL object
    visible: Callable[[Any, Any], bool]              # (caller, row) → may this caller see it?


def catalog(caller, row) -> bool:
    """The program's catalog (tiers, benefits, rewards): everyone sees it."""
    return True


def owned_by(kind: str, owner: Callable[[Any], int]) -> Callable[[Any, Any], bool]:
    """A member's object: seen by whom `api.core.access.may_see` allows for its kind."""
    return lambda caller, row: may_see(caller, kind, owner(row))
