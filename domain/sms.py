"""What phone sign-in needs of an SMS provider: a port. `server.sms` holds the providers' clients and the development stand-in."""
from __future__ import annotations

from typing import Protocol


class SmsUnavailable(Exception):
    """The provider could not be reached, or refused to send (its reason in the message, never the code)."""


class SmsSender(Protocol):
    def new_code(self) -> str:
        """A fresh 6-digit code."""

    async def send(self, phone: str, code: str) -> None:
        """Send `code` to the mainland number `phone` (11 digits); SmsUnavailable when it cannot."""
