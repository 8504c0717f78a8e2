"""Cursor connections, paged in SQL by keyset: a cursor is the opaque sort key of its row."""
from __future__ import annotations

import base64
import binascii
from typing import Generic, TypeVar

import strawberry

from api.core.errors import bad_request
from api.core.ids import is_canonical_number

MAX_PAGE = 100
Node = TypeVar("Node")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[Node]):
    cursor: str
    node: Node


def check_first(first: int) -> int:
    if first < 0 or first > MAX_PAGE:
        raise bad_request(f"first must be between 0 and {MAX_PAGE}, not {first}.")
    return first


def encode_cursor(*key: int) -> str:
    return base64.urlsafe_b64encode(":".join(map(str, key)).encode()).decode()


def decode_cursor(cursor: str | None, parts: int) -> tuple[int, ...] | None:
    if cursor is None:
        return None
    try:
        values = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        if len(values) == parts and all(is_canonical_number(v) for v in values):
            return tuple(int(v) for v in values)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise bad_request("after is not a cursor this list gave out.")


def page_of(rows: list, first: int, make_node, key, has_previous: bool) -> tuple[list, PageInfo]:
    """Edges and page info from up to first+1 rows (the extra one only says another page follows)."""
    edges = [Edge(cursor=encode_cursor(*key(row)), node=make_node(row)) for row in rows[:first]]
    return edges, PageInfo(
        has_next_page=len(rows) > first,
        has_previous_page=has_previous,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


async def newest_first_page(loader, key: tuple, first: int, after: str | None, make_node) -> tuple[list, PageInfo]:
    """A page of a member's list kept newest first by id: `loader` is loaded with
    (*key, the id of the cursor's row or None, first + 1)."""
    check_first(first)
    after_key = decode_cursor(after, 1)
    rows = await loader.load((*key, after_key[0] if after_key else None, first + 1))
    return page_of(rows, first, make_node, lambda row: (row.id,), after is not None)
