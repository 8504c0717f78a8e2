"""What the checkout area adds to the schema."""
from __future__ import annotations

import strawberry

from api.checkout.loaders import HoldById
from api.checkout.mutations import hold_for_checkout, release_hold
from api.checkout.types import CheckoutHold
from api.core.node import NodeType, owned_by


@strawberry.type
class CheckoutMutation:
    hold_for_checkout = strawberry.mutation(resolver=hold_for_checkout)
    release_hold = strawberry.mutation(resolver=release_hold)


NODES = {"CheckoutHold": NodeType(HoldById, CheckoutHold.from_row, owned_by("CheckoutHold", lambda row: row.member_id))}
TYPES = [CheckoutHold]
