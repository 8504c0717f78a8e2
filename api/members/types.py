"""A member, as members themselves, staff and integrations see them."""
from __future__ import annotations

from datetime import date, datetime

import strawberry

from api.check_ins.loaders import CheckInStatusByMember, MakeUpCheckInsLeftByMember
from api.check_ins.types import CheckInStatus
from api.core.access import may_see, staff_viewing_members
from api.core.ids import to_global_id
from api.core.node import Node, local
from api.core.pagination import newest_first_page
from api.core.vocabulary import CouponStatus, Gender, Segment
from api.coupons.loaders import CouponPage
from api.coupons.types import Coupon, CouponConnection
from api.members.loaders import MemberById
from api.notifications.loaders import NotificationPage
from api.notifications.types import Notification, NotificationConnection
from api.points.loaders import ExpiringPoints, PointEntryPage
from api.points.types import PointEntry, PointEntryConnection, PointsExpiringSoon
from api.referrals.loaders import ReferralPage
from api.referrals.types import Referral, ReferralConnection
from api.tiers.loaders import current_tier_catalog, tier_catalog
from api.tiers.types import Benefit, Tier
from domain import referral_codes
from persistence.personal_data import phone_place


def mask_phone(phone: str | None) -> str | None:
    """138****8000: what the API ever shows of a phone number."""
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def phone_of(row, context) -> str | None:
    return context.services.personal_data.open(row.phone_sealed, phone_place(row.id)) if row.phone_sealed else None


@strawberry.type(description="A loyalty member.")
class Member(Node):
    member_no: str
    nickname: str | None
    phone_masked: str | None
    birthday: date | None
    gender: Gender | None
    household_size: int | None
    growth_value: int
    tier_expires_at: datetime | None
    points_balance: int = strawberry.field(description="The points the member can spend: those checkout holds "
                                                       "reserve (pointsHeld) are not among them.")
    points_held: int = strawberry.field(description="Points reserved by checkout holds awaiting payment.")
    created_at: datetime
    pk: strawberry.Private[int]
    tier_code: strawberry.Private[str]
    segment_code: strawberry.Private[str | None] = None

    @strawberry.field(description="The lifecycle segment (RFM) the daily segment job last put the member in; null "
                                  "before its first run. Staff only: null for members and integrations.")
    def segment(self, info: strawberry.Info) -> Segment | None:
        if self.segment_code is None or not staff_viewing_members(info.context.caller):
            return None
        return Segment(self.segment_code)

    def _with_tiers(self, info: strawberry.Info, answer):
        """`answer(tier, the tier above or None, catalog)`: at once when the request holds the current
        catalog (its version came with the session), else once the catalog is read (an awaitable, which
        the executor waits for)."""
        def given(catalog):
            tier = next(row for row in catalog.ladder if row.code == self.tier_code)
            return answer(tier, next((row for row in catalog.ladder if row.level > tier.level), None), catalog)

        catalog = current_tier_catalog(info.context)
        if catalog is not None:
            return given(catalog)

        async def later():
            return given(await tier_catalog(info.context))
        return later()

    @strawberry.field
    def tier(self, info: strawberry.Info) -> Tier:
        return self._with_tiers(info, lambda tier, above, catalog: Tier.from_row(tier))

    @strawberry.field(description="The tier above; null at the top.")
    def next_tier(self, info: strawberry.Info) -> Tier | None:
        return self._with_tiers(info, lambda tier, above, catalog: Tier.from_row(above) if above is not None else None)

    @strawberry.field(description="nextTier.growthThreshold − growthValue; null at the top tier.")
    def growth_to_next_tier(self, info: strawberry.Info) -> int | None:
        return self._with_tiers(info, lambda tier, above, catalog: max(0, above.growth_threshold - self.growth_value)
                                if above is not None else None)

    @strawberry.field(description="Benefits of the member's tier, including those of lower tiers.")
    def benefits(self, info: strawberry.Info) -> list[Benefit]:
        return self._with_tiers(info, lambda tier, above, catalog: [
            Benefit.from_row(row) for row in catalog.benefits_up_to(tier.level)])

    @strawberry.field
    async def points_expiring_soon(self, info: strawberry.Info) -> PointsExpiringSoon | None:
        found = await ExpiringPoints(info.context).load(self.pk)
        if found is None:
            return None
        points, expires_at = found
        return PointsExpiringSoon(points=points, expires_at=local(expires_at, info.context.zone))

    @strawberry.field
    async def check_in_status(self, info: strawberry.Info) -> CheckInStatus:
        status = await CheckInStatusByMember(info.context).load(self.pk)
        return CheckInStatus(checked_in_today=status.checked_in_today, streak_days=status.streak_days,
                             today_reward=status.today_reward)

    @strawberry.field(description="Make-up check-ins (makeUpCheckIn) the member may still make this local month; "
                                  "0 where the program has none.")
    async def make_up_check_ins_left(self, info: strawberry.Info) -> int:
        return await MakeUpCheckInsLeftByMember(info.context).load(self.pk)

    @strawberry.field(description="The member's coupons, newest first.")
    async def coupons(self, info: strawberry.Info, first: int, after: str | None = None,
                      status: CouponStatus | None = None) -> CouponConnection:
        status_value = status.value if status else None
        edges, page_info = await newest_first_page(CouponPage(info.context), (self.pk, status_value), first,
                                                   after, lambda row: Coupon.from_row(row, info.context))
        return CouponConnection(edges=edges, page_info=page_info, member_pk=self.pk, status=status_value)

    @strawberry.field(description="The points ledger, newest first.")
    async def point_history(self, info: strawberry.Info, first: int, after: str | None = None) -> PointEntryConnection:
        edges, page_info = await newest_first_page(PointEntryPage(info.context), (self.pk,), first, after,
                                                   lambda row: PointEntry.from_row(row, info.context))
        return PointEntryConnection(edges=edges, page_info=page_info)

    @strawberry.field(description="Reminders, gifts and tier changes, newest first.")
    async def notifications(self, info: strawberry.Info, first: int, after: str | None = None) -> NotificationConnection:
        edges, page_info = await newest_first_page(NotificationPage(info.context), (self.pk,), first, after,
                                                   lambda row: Notification.from_row(row, info.context))
        return NotificationConnection(edges=edges, page_info=page_info, member_pk=self.pk)

    @strawberry.field(description="The code to invite others with (邀请码, 7 characters); null where the program "
                                  "has no referrals.")
    def referral_code(self, info: strawberry.Info) -> str | None:
        return referral_codes.referral_code(self.pk) if info.context.program.referral is not None else None

    @strawberry.field(description="Members who signed up with this member's referral code, newest first.")
    async def referrals(self, info: strawberry.Info, first: int, after: str | None = None) -> ReferralConnection:
        edges, page_info = await newest_first_page(ReferralPage(info.context), (self.pk,), first, after,
                                                   lambda row: Referral.from_row(row, info.context))
        return ReferralConnection(edges=edges, page_info=page_info, member_pk=self.pk)

    @classmethod
    def from_row(cls, row, context) -> "Member":
        zone = context.zone
        return cls(id=to_global_id("Member", row.id), member_no=row.member_no, nickname=row.nickname,
                   phone_masked=mask_phone(phone_of(row, context)), birthday=row.birthday,
                   gender=Gender(row.gender) if row.gender else None, household_size=row.household_size,
                   growth_value=row.growth_value, tier_expires_at=local(row.tier_expires_at, zone),
                   points_balance=row.points_balance - row.points_held, points_held=row.points_held,
                   created_at=local(row.created_at, zone),
                   pk=row.id, tier_code=row.tier_code, segment_code=row.segment)


async def member_of(info: strawberry.Info, member_id: int) -> Member | None:
    """The member a mutation changed, if the caller may see them (an integration needs members:read)."""
    if not may_see(info.context.caller, "Member", member_id):
        return None
    return Member.from_row(await MemberById(info.context).load(member_id), info.context)


async def signed_in_member(info: strawberry.Info, member_id: int) -> Member:
    """The member who just signed in: the answer carries their own access token."""
    return Member.from_row(await MemberById(info.context).load(member_id), info.context)
