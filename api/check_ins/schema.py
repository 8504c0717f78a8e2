"""What the check-ins area adds to the schema."""
from __future__ import annotations

import strawberry

from api.check_ins.loaders import CheckInById
from api.check_ins.mutations import check_in, make_up_check_in
from api.check_ins.types import CheckIn
from api.core.node import NodeType, owned_by


@strawberry.type
class CheckInsMutation:
    check_in = strawberry.mutation(resolver=check_in)
    make_up_check_in = strawberry.mutation(resolver=make_up_check_in)


NODES = {"CheckIn": NodeType(CheckInById, lambda row, context: CheckIn.from_row(row),
                             owned_by("CheckIn", lambda row: row.member_id))}
TYPES = [CheckIn]
