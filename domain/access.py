"""Who may do what: staff roles and their permissions, and the scopes an integration key carries.

The one place this is decided; every staff field and mutation and every integration operation asks
here (through `api/access.py`).
"""
from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    SUPPORT_AGENT = "SUPPORT_AGENT"              # 客服
    SUPPORT_SUPERVISOR = "SUPPORT_SUPERVISOR"    # 客服主管
    OPERATIONS_MANAGER = "OPERATIONS_MANAGER"    # 业务经理
    ADMIN = "ADMIN"                              # 系统管理员


class Permission(str, Enum):
    VIEW_MEMBERS = "VIEW_MEMBERS"          # look members up; their account, coupons and ledgers (personal data masked)
    ADJUST_POINTS = "ADJUST_POINTS"        # add or take points by hand, with a reason (an ADJUSTMENT entry)
    VIEW_AUDIT_LOG = "VIEW_AUDIT_LOG"      # read the audit log
    MANAGE_API_KEYS = "MANAGE_API_KEYS"    # create and revoke integration keys
    MERGE_MEMBERS = "MERGE_MEMBERS"        # fold a duplicate member into the one a person keeps
    MANAGE_CATALOG = "MANAGE_CATALOG"      # create and change rewards and the coupon templates they issue
    VIEW_INSIGHTS = "VIEW_INSIGHTS"        # read the program's reports (insights, loyalty report)


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SUPPORT_AGENT: frozenset({Permission.VIEW_MEMBERS}),
    Role.SUPPORT_SUPERVISOR: frozenset({Permission.VIEW_MEMBERS, Permission.ADJUST_POINTS,
                                        Permission.MERGE_MEMBERS}),
    Role.OPERATIONS_MANAGER: frozenset({Permission.VIEW_MEMBERS, Permission.ADJUST_POINTS,
                                        Permission.VIEW_AUDIT_LOG, Permission.MERGE_MEMBERS,
                                        Permission.MANAGE_CATALOG, Permission.VIEW_INSIGHTS}),
    Role.ADMIN: frozenset(Permission),
}


class Scope(str, Enum):
    ORDERS_WRITE = "orders:write"      # recordOrder, refundOrder; reading orders
    COUPONS_WRITE = "coupons:write"    # useCoupon; reading coupons
    POINTS_WRITE = "points:write"      # redeemPointsForOrder
    MEMBERS_READ = "members:read"      # reading members and everything of theirs


ALL_SCOPES = frozenset(Scope)

# Besides members:read, which reads members and all their objects, a scope that writes a kind of object
# reads it too, as Stripe's restricted keys do: the order an orders:write key records, the coupon a
# coupons:write key uses, the checkout hold a points:write or coupons:write key makes. Nothing else: a
# member's balance, coupons, ledgers and notifications need members:read, through node(id:) and through
# a mutation's payload alike.
READ_BY_WRITING = {"Order": frozenset({Scope.ORDERS_WRITE}), "Coupon": frozenset({Scope.COUPONS_WRITE}),
                   "CheckoutHold": frozenset({Scope.POINTS_WRITE, Scope.COUPONS_WRITE})}


def scopes_read(scopes: frozenset[Scope], kind: str) -> bool:
    """Whether an integration with `scopes` may read a member's object of `kind` (a type name: "Member",
    "Order", "Coupon", "PointEntry"…)."""
    return Scope.MEMBERS_READ in scopes or bool(scopes & READ_BY_WRITING.get(kind, frozenset()))


def permissions_of(role: str) -> frozenset[Permission]:
    """A role this code does not know has no permission at all."""
    return ROLE_PERMISSIONS.get(role, frozenset())  # Role is a str enum: its members are their names


def role_may(role: str, permission: Permission) -> bool:
    return permission in permissions_of(role)


def parse_scopes(text: str) -> frozenset[Scope]:
    """Space- or comma-separated scope names; an unknown one is a ValueError naming it."""
    scopes = set()
    for name in text.replace(",", " ").split():
        try:
            scopes.add(Scope(name))
        except ValueError:
            raise ValueError(f"unknown scope {name!r}; scopes are {', '.join(s.value for s in Scope)}") from None
    return frozenset(scopes)
