"""Staff passwords: Argon2id (argon2-cffi's defaults, RFC 9106's second recommended profile)."""
from __future__ import annotations

import functools

from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2PasswordHasher:
    def __init__(self):
        self._argon2 = Argon2()

    @functools.cached_property
    def dummy_hash(self) -> str:
        """Checked when a username is unknown, so that a miss costs as much as a hit."""
        return self._argon2.hash("not-a-password-anyone-has")

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._argon2.check_needs_rehash(password_hash)
