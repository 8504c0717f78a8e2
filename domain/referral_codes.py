"""Referral codes (邀请码): a member's code is their id under a fixed keyed permutation, so it needs no column,
is unique by construction and decodes back to the id, while consecutive members get unrelated codes.

The id (below 2**32) goes through a 4-round Feistel network over two 16-bit halves (round function:
keyed BLAKE2b), then is written in base 31 over digits and capitals without 0/O and 1/I/L, 7 characters
(31**7 > 2**32). The key hides the sequence of ids; it is not a secret, and a code is no credential:
it only names a referrer. Changing the key or the alphabet changes every code already shared.
"""
from __future__ import annotations

import hashlib

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"   # 31 characters: none of 0 O 1 I L
LENGTH = 7
ID_LIMIT = 2**32                               # ids from 0 up to this (exclusive) have a code
_KEY = b"loyalty/referral-code/v1"
_ROUNDS = 4
_HALF = 0xFFFF


def _round(half: int, round_no: int) -> int:
    digest = hashlib.blake2b(bytes((round_no,)) + half.to_bytes(2, "big"), digest_size=2, key=_KEY).digest()
    return int.from_bytes(digest, "big")


def _permute(value: int) -> int:
    left, right = value >> 16, value & _HALF
    for round_no in range(_ROUNDS):
        left, right = right, left ^ _round(right, round_no)
    return (left << 16) | right


def _unpermute(value: int) -> int:
    left, right = value >> 16, value & _HALF
    for round_no in reversed(range(_ROUNDS)):
        left, right = right ^ _round(left, round_no), left
    return (left << 16) | right


def referral_code(member_id: int) -> str:
    """The member's referral code: 7 characters of ALPHABET. ValueError for an id outside [0, 2**32)."""
    if not 0 <= member_id < ID_LIMIT:
        raise ValueError(f"member id {member_id} has no referral code (ids below {ID_LIMIT} have one)")
    value, characters = _permute(member_id), []
    for _ in range(LENGTH):
        value, digit = divmod(value, len(ALPHABET))
        characters.append(ALPHABET[digit])
    return "".join(reversed(characters))


def member_id_of(code: str) -> int | None:
    """The member id a referral code names, or None when the text is no code. Spaces around it and
    lower case are forgiven."""
    text = (code or "").strip().upper()
    if len(text) != LENGTH or any(c not in ALPHABET for c in text):
        return None
    value = 0
    for c in text:
        value = value * len(ALPHABET) + ALPHABET.index(c)
    return _unpermute(value) if value < ID_LIMIT else None
