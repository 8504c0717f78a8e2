"""Integration API keys: named, scoped, revocable; only their hashes are stored."""
from __future__ import annotations

from domain import commands
from domain.access import parse_scopes
from domain.errors import LoyaltyError, UserErrorCode, invalid
from domain.handling import Handling
from domain.ports import UnitOfWork

NAME_MAX = 64


async def create_api_key(command: commands.CreateApiKey, uow: UnitOfWork, context: Handling) -> int:
    """A key named 1–64 printable characters, carrying the scopes of `domain.access.Scope` it names.
    `replacing`: the active keys of that name are revoked in the same transaction (a key is shown once, so
    a fresh one is the way to have it again, and the old ones should not pile up)."""
    now, name, scopes, key_hash, prefix = context.now, command.name, list(command.scopes), command.key_hash, command.prefix
    name = name.strip()
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise invalid("name", f"name must be 1 to {NAME_MAX} printable characters.")
    try:
        parsed = parse_scopes(" ".join(scopes))
    except ValueError as exc:
        raise invalid("scopes", str(exc)) from None
    if not parsed:
        raise invalid("scopes", "Give the key at least one scope.")
    if command.replacing:
        await uow.api_keys.revoke_named(name, now)
    key_id = await uow.api_keys.add(name, key_hash, prefix, " ".join(sorted(s.value for s in parsed)), now)
    context.created(f"ApiKey:{key_id}")
    return key_id


async def revoke_api_key(command: commands.RevokeApiKey, uow: UnitOfWork, context: Handling) -> int:
    now, key_id = context.now, command.key_id
    if key_id is None or not await uow.api_keys.revoke(key_id, now):
        raise LoyaltyError(UserErrorCode.NOT_FOUND, "No such active API key.", ["input", "id"])
    return key_id
