"""What the referrals area adds to the schema (its list is `Member.referrals`, its code `Member.referralCode`)."""
from __future__ import annotations

from api.core.node import NodeType, owned_by
from api.referrals.loaders import ReferralById
from api.referrals.types import Referral

NODES = {"Referral": NodeType(ReferralById, Referral.from_row, owned_by("Referral", lambda row: row.referrer_id))}
TYPES = [Referral]
