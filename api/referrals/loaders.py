from __future__ import annotations

from api.core.loaders import ById, Loader, Pages
from persistence.referrals import queries


class ReferralById(ById):
    fetch = queries.referrals_by_ids


class ReferralPage(Pages):
    fetch = queries.referral_page


class ReferralCount(Loader):
    """How many referrals each referrer has."""

    async def batch_load_fn(self, member_ids):
        counts = await queries.referral_counts(self.reader, list(member_ids))
        return [counts.get(m, 0) for m in member_ids]
