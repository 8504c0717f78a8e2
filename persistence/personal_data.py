"""Personal data at rest (PIPL): AES-GCM encryption and an HMAC blind index for exact lookups.

A ciphertext reads `v1.<key id>.<base64 of nonce + ciphertext>`; the key id names the data key that
sealed it, so keys can rotate: the current key seals, every key of the ring opens. The additional
data binds a ciphertext to its column and row, so one member's ciphertext cannot be copied onto
another. The blind index is HMAC-SHA256 under a key derived from each data key; a lookup asks for
the index under every key of the ring, so rows sealed before a rotation are still found.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"


class PersonalDataError(Exception):
    """A ciphertext that no key of the ring opens, or that was not made for this place."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"loyalty-data-key-id:" + key).hexdigest()[:8]


def _index_key(key: bytes) -> bytes:
    return hmac.new(key, b"loyalty-blind-index", hashlib.sha256).digest()


class PersonalDataCipher:
    def __init__(self, current: bytes, old: tuple[bytes, ...] = ()):
        self.current_id = key_id(current)
        self._keys = {key_id(key): AESGCM(key) for key in (current, *old)}
        self._index_keys = [_index_key(key) for key in (current, *old)]

    def seal(self, plaintext: str, place: str) -> str:
        """Encrypt `plaintext` for `place` (e.g. "members.phone:42")."""
        nonce = os.urandom(12)
        sealed = self._keys[self.current_id].encrypt(nonce, plaintext.encode(), place.encode())
        return f"{VERSION}.{self.current_id}.{base64.b64encode(nonce + sealed).decode()}"

    def open(self, token: str, place: str) -> str:
        version, kid, body = (token.split(".", 2) + ["", ""])[:3]
        key = self._keys.get(kid)
        if version != VERSION or key is None:
            raise PersonalDataError(f"no data key {kid!r} in the ring")
        raw = base64.b64decode(body)
        try:
            return key.decrypt(raw[:12], raw[12:], place.encode()).decode()
        except InvalidTag:
            raise PersonalDataError("the ciphertext does not open for this place") from None

    def sealed_with_current_key(self, token: str) -> bool:
        return token.split(".", 2)[1:2] == [self.current_id]

    def index(self, value: str) -> str:
        """The blind index under the current key: what is stored."""
        return self.indexes(value)[0]

    def indexes(self, value: str) -> list[str]:
        """The blind index under every key of the ring: what a lookup asks for."""
        return [hmac.new(k, value.encode(), hashlib.sha256).hexdigest() for k in self._index_keys]


def phone_place(member_id: int) -> str:
    """What a sealed phone number is bound to: its column and its member."""
    return f"members.phone:{member_id}"
