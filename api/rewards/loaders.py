from __future__ import annotations

from api.core.loaders import ById, Pages
from persistence.rewards import queries


class RewardById(ById):
    fetch = queries.rewards_by_ids


class CouponTemplateById(ById):
    fetch = queries.coupon_templates_by_ids


class RedemptionById(ById):
    fetch = queries.redemptions_by_ids


class RewardPage(Pages):
    fetch = queries.reward_page
