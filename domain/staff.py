"""Staff accounts: created by an operator (`loyalty staff create`), signed in with a password."""
from __future__ import annotations

import re
from typing import Protocol

from domain import commands, sessions
from domain.access import Role
from domain.errors import LoyaltyError, UserErrorCode, invalid
from domain.handling import Handling
from domain.model import Session, StaffMember
from domain.ports import UnitOfWork

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
PASSWORD_MIN, PASSWORD_MAX = 12, 256


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool:
        """True when it matches; never raises for a wrong password."""
    def needs_rehash(self, password_hash: str) -> bool: ...


def _refused() -> LoyaltyError:
    # One answer for an unknown user, a wrong password and a disabled account: nothing to enumerate.
    return LoyaltyError(UserErrorCode.INVALID_CREDENTIALS, "Wrong username or password.")


async def create_staff(command: commands.CreateStaff, uow: UnitOfWork, context: Handling) -> StaffMember:
    """Usernames are 3–64 of a–z, 0–9, '.', '_', '-'; passwords 12–256 characters; the role one of `Role`."""
    hasher, now, password, role = context.passwords, context.now, command.password, command.role
    username = command.username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise invalid("username", "username must be 3 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit.")
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise invalid("password", f"password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters.")
    if role not in {r.value for r in Role}:
        raise invalid("role", f"role must be one of {', '.join(r.value for r in Role)}.")
    if await uow.staff.by_username(username) is not None:
        raise invalid("username", f"{username!r} is taken.")
    staff = await uow.staff.add(StaffMember(username, hasher.hash(password), role, now))
    return staff


async def sign_in(command: commands.StaffSignIn, uow: UnitOfWork, context: Handling) -> tuple[StaffMember, Session]:
    """The staff member and a new session (by the real clock), or INVALID_CREDENTIALS. An unknown username
    is checked against the hasher's dummy hash, so that it takes as long as a known one."""
    hasher, now, username, password = context.passwords, context.real_now, command.username, command.password
    dummy_hash = hasher.dummy_hash
    staff = await uow.staff.by_username(username.strip().lower()) if len(username) <= 64 else None
    matches = hasher.verify(staff.password_hash if staff else dummy_hash, password[:PASSWORD_MAX])
    if staff is None or not matches or staff.disabled_at is not None:
        raise _refused()
    if hasher.needs_rehash(staff.password_hash):
        await uow.staff.save_password_hash(staff.id, hasher.hash(password))
    session, _ = await sessions.start(uow, now, None, staff_id=staff.id)
    return staff, session
