"""The schema, composed of the areas' contributions (`api/<area>/schema.py`: the Query and Mutation
fields, the Node types and the types reached only through an interface), and the extensions every
request runs through (limits checked before anything runs, cost reported, unexpected errors masked
with the request id)."""
from __future__ import annotations

import functools
import importlib

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from api.check_ins import schema as check_ins
from api.checkout import schema as checkout
from api.core.document_limits import DocumentChecks, RequestChecks, RequestLimits
from api.core.errors import MaskUnexpectedErrors, bad_request, log_unexpected
from api.core.ids import from_global_id
from api.core.mutations import staff_read
from api.core.node import Node
from api.core.plans import CompiledPlans, compile_plan
from api.core.scalars import SCALAR_MAP
from api.coupons import schema as coupons
from api.insights import schema as insights
from api.members import schema as members
from api.notifications import schema as notifications
from api.orders import schema as orders
from api.points import schema as points
from api.referrals import schema as referrals
from api.rewards import schema as rewards
from api.sessions import schema as sessions
from api.staff import schema as staff
from api.tiers import schema as tiers

AREAS = (members, tiers, rewards, coupons, points, check_ins, orders, checkout, notifications, referrals, staff,
         insights)
NODES = {name: node for area in AREAS for name, node in area.NODES.items()}


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its global ID, if the caller may see it.")
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        parsed = from_global_id(id)
        if parsed is None:
            raise bad_request("id is not a valid ID.")
        type_name, pk = parsed
        node_type = NODES.get(type_name)
        if node_type is None:
            return None
        row = await node_type.loader(info.context).load(pk)
        if row is None or not node_type.visible(info.context.caller, row):
            return None
        if type_name == "Member":
            await staff_read(info, "node", f"Member:{row.id}", {"id": id})
        return node_type.build(row, info.context)


Query = merge_types("Query", (members.MembersQuery, tiers.TiersQuery, rewards.RewardsQuery, NodeQuery,
                              staff.StaffQuery, insights.InsightsQuery))
Mutation = merge_types("Mutation", (members.MembersMutation, sessions.SessionsMutation, check_ins.CheckInsMutation,
                                    rewards.RewardsMutation, coupons.CouponsMutation,
                                    notifications.NotificationsMutation, orders.OrdersMutation,
                                    checkout.CheckoutMutation,
                                    staff.StaffMutation))


class LoyaltySchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        """Log unexpected errors under the request's id (free of personal data); the expected ones are
        answers, not incidents."""
        context = getattr(execution_context, "context", None)
        log_unexpected(errors, getattr(context, "request_id", "-"))


@functools.cache
def build_schema(limits: RequestLimits = RequestLimits(), production: bool = False) -> strawberry.Schema:
    """The schema with `limits` checked before execution (`api.core.document_limits`); production also refuses
    introspection. Built once per set of limits."""
    # "Did you mean …?" reveals names of the schema to whoever probes it. Strawberry switches off
    # field suggestions only; graphql-core's one switch for arguments, types and enum values is this.
    importlib.import_module("graphql.pyutils.did_you_mean").MAX_LENGTH = 0
    checks = DocumentChecks(limits, production)
    plans: dict = {}  # registered documents' plans, by text (`register_plans`)
    built = LoyaltySchema(
        query=Query,
        mutation=Mutation,
        types=[t for area in AREAS for t in area.TYPES],
        config=StrawberryConfig(disable_field_suggestions=True,
                                batching_config={"max_operations": limits.max_batch}, scalar_map=SCALAR_MAP),
        extensions=[lambda: RequestChecks(checks), MaskUnexpectedErrors, lambda: CompiledPlans(plans)],
    )
    built.checks = checks
    built.plans = plans
    return built


def register_plans(built: strawberry.Schema, documents: dict) -> None:
    """Compile the plans of registered documents (text → parsed document, `api.core.documents`); one that a
    plan cannot express keeps running through graphql-core."""
    for text, document in documents.items():
        if text not in built.plans:
            plan = compile_plan(built._schema, document)
            if plan is not None:
                built.plans[text] = plan


schema = build_schema()
