"""Domain errors. Each carries a contract `UserErrorCode` so the API can answer it as a userError."""
from __future__ import annotations

from enum import Enum


class UserErrorCode(str, Enum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_CHECKED_IN = "ALREADY_CHECKED_IN"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    TIER_TOO_LOW = "TIER_TOO_LOW"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    ALREADY_CLAIMED = "ALREADY_CLAIMED"
    NOT_CLAIMABLE = "NOT_CLAIMABLE"
    COUPON_EXPIRED = "COUPON_EXPIRED"
    COUPON_ALREADY_USED = "COUPON_ALREADY_USED"
    MIN_SPEND_NOT_MET = "MIN_SPEND_NOT_MET"
    REFUND_EXCEEDS_ORDER = "REFUND_EXCEEDS_ORDER"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    INVALID_TOKEN = "INVALID_TOKEN"
    PHONE_TAKEN = "PHONE_TAKEN"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    RATE_LIMITED = "RATE_LIMITED"
    SMS_CODE_INVALID = "SMS_CODE_INVALID"            # a wrong, used or expired sign-in code: one answer for each
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"    # WeChat or the SMS provider could not be reached or refused
    INVALID_REFERRAL_CODE = "INVALID_REFERRAL_CODE"  # unknown, or given by a member who already existed
    LIMIT_REACHED = "LIMIT_REACHED"                  # a per-period allowance is used up (make-up check-ins)


class LoyaltyError(Exception):
    """A business-rule refusal: the request changes nothing and the caller is told why. A refusal with
    `keep_changes` keeps what the handler did before refusing (a reused refresh token ends its session)."""

    def __init__(self, code: UserErrorCode, message: str, field: list[str] | None = None, keep_changes: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.keep_changes = keep_changes


class WriteConflict(Exception):
    """Another transaction got there first (a unique key, a deadlock, a busy database): the service layer
    runs the command again."""


def invalid(field: str, message: str) -> LoyaltyError:
    return LoyaltyError(UserErrorCode.INVALID_INPUT, message, ["input", field])


class ProgramError(ValueError):
    """A program file that cannot be run; the message says which setting and why."""
