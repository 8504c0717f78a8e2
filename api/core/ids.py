"""Relay global IDs: base64 of "TypeName:databaseId"."""
from __future__ import annotations

import base64
import binascii


def to_global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def from_global_id(global_id: str) -> tuple[str, int] | None:
    """(type name, database id), or None when the text is not one of our IDs."""
    try:
        type_name, _, pk = base64.b64decode(global_id.encode(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not type_name or not is_canonical_number(pk):
        return None
    return type_name, int(pk)


def is_canonical_number(text: str) -> bool:
    """ASCII digits, no leading zero, at most 18 of them: fits a 64-bit column, one spelling per id."""
    return text.isascii() and text.isdigit() and len(text) <= 18 and (text == "0" or not text.startswith("0"))


def pk_of(global_id: str, type_name: str) -> int | None:
    """The database id when `global_id` is an ID of `type_name`; None otherwise."""
    parsed = from_global_id(global_id)
    return parsed[1] if parsed and parsed[0] == type_name else None
