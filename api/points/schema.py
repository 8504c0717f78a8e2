"""What the points area adds to the schema (its list is `Member.pointHistory`)."""
from __future__ import annotations

from api.core.node import NodeType, owned_by
from api.points.loaders import PointEntryById
from api.points.types import PointEntry

NODES = {"PointEntry": NodeType(PointEntryById, PointEntry.from_row, owned_by("PointEntry", lambda row: row.member_id))}
TYPES = [PointEntry]
