"""The client operations (`operations/`: the contract's member-app.graphql and integration.graphql as
the clients send them, the member account and staff operations beside them): every one validates
against the checked-in schema.graphql and against the schema the server actually runs;
schema.graphql is what `loyalty export-schema` prints; both program files load."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from graphql import GraphQLSchema, OperationDefinitionNode, build_schema, parse, validate

from api.schema import schema as live_schema
from domain.program import load_program

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "operations"
SCHEMA_FILE = ROOT / "schema.graphql"
LOYALTY = ROOT / ".venv" / "bin" / "loyalty"
CONTRACT_FILES = sorted(OPERATIONS.glob("*.graphql"))

# The operations the clients send: the contract's (member-app.graphql, integration.graphql), and ours.
EXPECTED_OPERATIONS = {
    "member-app.graphql": {"LoginWithWeChat", "MemberHome", "MyCoupons", "PointHistory", "Tiers", "RewardCatalog",
                           "Node", "CheckIn", "RedeemReward", "ClaimMonthlyCoupons", "UpdateProfile"},
    "integration.graphql": {"RecordOrder", "RefundOrder", "UseCoupon", "RedeemPointsForOrder"},
    "checkout.graphql": {"HoldForCheckout", "ReleaseHold"},
    "member-account.graphql": {"RefreshAccessToken", "Logout", "BindPhoneNumber", "DeregisterMember",
                               "LoginWithWeChatApp", "RequestSmsCode", "LoginWithPhone",
                               "MyNotifications", "MarkNotificationsRead"},
    "staff.graphql": {"StaffLogin", "StaffAccount", "FindMember", "MemberAccount", "AdjustPoints", "AuditLog",
                      "MergeMembers", "MemberSegment",
                      "ApiKeys", "CreateApiKey", "RevokeApiKey",
                      "CreateReward", "UpdateReward", "CreateCouponTemplate", "UpdateCouponTemplate"},
    "member-growth.graphql": {"MakeUpCheckIn", "LoginWithReferral", "MyReferrals"},
    "staff-insights.graphql": {"ProgramInsights"},
}


def operations(path: Path) -> list[tuple[str, str]]:
    """(name, source) of each operation of a contract file, one document per operation."""
    document = parse(path.read_text())
    return [(node.name.value, path.read_text()[node.loc.start:node.loc.end])
            for node in document.definitions if isinstance(node, OperationDefinitionNode)]


CONTRACT_OPERATIONS = [(path.name, name, source) for path in CONTRACT_FILES for name, source in operations(path)]


@pytest.fixture(scope="module")
def checked_in_schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text())


def test_contract_files_hold_the_expected_operations():
    found: dict[str, set[str]] = {}
    for file_name, name, _ in CONTRACT_OPERATIONS:
        found.setdefault(file_name, set()).add(name)
    assert found == EXPECTED_OPERATIONS


@pytest.mark.parametrize("file_name, name, source", CONTRACT_OPERATIONS, ids=[f"{f}:{n}" for f, n, _ in CONTRACT_OPERATIONS])
def test_operation_validates_against_checked_in_schema(checked_in_schema, file_name, name, source):
    errors = validate(checked_in_schema, parse(source))
    assert [e.message for e in errors] == []


@pytest.mark.parametrize("file_name, name, source", CONTRACT_OPERATIONS, ids=[f"{f}:{n}" for f, n, _ in CONTRACT_OPERATIONS])
def test_operation_validates_against_live_schema(file_name, name, source):
    errors = validate(live_schema._schema, parse(source))
    assert [e.message for e in errors] == []


@pytest.mark.parametrize("path", CONTRACT_FILES, ids=[p.name for p in CONTRACT_FILES])
def test_whole_contract_files_validate(checked_in_schema, path):
    """As the contract's own checker does: each file as one document."""
    document = parse(path.read_text())
    assert [e.message for e in validate(checked_in_schema, document)] == []
    assert [e.message for e in validate(live_schema._schema, document)] == []


def test_all_operations_together_are_one_valid_document(checked_in_schema):
    """The tests send them as one document with an operation name: no two share a name."""
    document = parse("\n".join(path.read_text() for path in CONTRACT_FILES))
    assert [e.message for e in validate(checked_in_schema, document)] == []


def test_validation_catches_a_broken_operation(checked_in_schema):
    """The check above can fail: a renamed field is reported against both schemas."""
    broken = "query MemberHome { me { id pointsBalanceRenamed } }"
    assert validate(checked_in_schema, parse(broken))
    assert validate(live_schema._schema, parse(broken))


def test_checked_in_schema_equals_export_schema():
    env = {**os.environ, "LOYALTY_ENV": "test"}
    result = subprocess.run([str(LOYALTY), "export-schema"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == SCHEMA_FILE.read_text().strip(), (
        "schema.graphql is stale: regenerate it with `loyalty export-schema > schema.graphql`")


def test_checked_in_schema_equals_live_schema_text():
    assert live_schema.as_str().strip() == SCHEMA_FILE.read_text().strip()


@pytest.mark.parametrize("name, tiers", [("standard", ["regular", "silver", "gold", "diamond"]),
                                         ("fresh-grocery", ["green", "red", "gold"])])
def test_program_files_load(name, tiers):
    program = load_program(ROOT / "programs" / f"{name}.toml")
    assert program.name == name
    assert [t.code for t in program.tiers] == tiers
