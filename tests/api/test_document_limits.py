"""Documents built to make the pre-execution checks work exponentially are refused, and each check
visits each fragment definition once however often it is spread. Counts, not timings: the benchmark
(`bench/hostile.py`) times them."""
import pytest
from graphql import OperationDefinitionNode, parse

from api.core.document_limits import DocumentChecks, DocumentShape, QueryCost, Refusal
from api.schema import schema
from server.settings import RequestLimits
from tests.conftest import counting_statements

LIMITS = RequestLimits()
FAN_OUT = [(spreads, levels) for spreads in (2, 3, 4) for levels in (5, 10, 20, 30)]


def fan_out(spreads: int, levels: int, leaf: str = "tiers { id }") -> str:
    """Each level's fragment spreads the next one `spreads` times: spreads^levels copies of `leaf`."""
    definitions = [f"fragment F{n} on Query {{ {' '.join([f'...F{n + 1}'] * spreads)} }}" for n in range(levels)]
    definitions.append(f"fragment F{levels} on Query {{ {leaf} }}")
    return "query FanOut { ...F0 }\n" + "\n".join(definitions)


def fan_out_by_names(spreads: int, levels: int) -> str:
    """No fragment spread twice anywhere: `spreads` fragments on each level each spread all of the next
    level's, so the copies grow as spreads^levels all the same."""
    names = lambda n: [f"F{n}x{k}" for k in range(spreads)]  # noqa: E731
    definitions = [f"fragment {name} on Query {{ {' '.join(f'...{nxt}' for nxt in names(n + 1))} }}"
                   for n in range(levels) for name in names(n)]
    definitions += [f"fragment {name} on Query {{ tiers {{ id }} }}" for name in names(levels)]
    return "query FanOut { " + " ".join(f"...{name}" for name in names(0)) + " }\n" + "\n".join(definitions)


def fan_out_in_fields(spreads: int, levels: int) -> str:
    """The same through a member's fields: fragments on Member spread inside `me`."""
    definitions = [f"fragment M{n} on Member {{ {' '.join([f'...M{n + 1}'] * spreads)} }}" for n in range(levels)]
    definitions.append(f"fragment M{levels} on Member {{ id tier {{ code }} coupons(first: 5) {{ totalCount }} }}")
    return "query FanOut { me { ...M0 } }\n" + "\n".join(definitions)


@pytest.mark.parametrize("spreads, levels", FAN_OUT)
@pytest.mark.parametrize("build", [fan_out, fan_out_in_fields, fan_out_by_names])
def test_fan_out_documents_are_refused_visiting_each_fragment_once(spreads, levels, build):
    document = parse(build(spreads, levels))
    shape = DocumentShape(document)
    assert shape.visits == {name: 1 for name in shape.fragments}
    assert shape.fields >= min(spreads ** levels, 2 ** 62)  # what the spreads expand to
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    pricing = QueryCost(schema._schema, shape, {})
    cost = pricing.of(operation)
    assert pricing.visits == {name: 1 for name in shape.fragments}
    assert cost >= min(spreads ** levels, 2 ** 62)
    with pytest.raises(Refusal):
        shape.check(LIMITS)


@pytest.mark.parametrize("spreads, levels", [(3, 12), (3, 20), (2, 30), (3, 30)])
async def test_fan_out_documents_are_refused_over_http_before_any_sql(api, database, spreads, levels):
    token, _ = await api.login("fan", now="2026-03-02T10:00:00+08:00")
    for build in (fan_out, fan_out_in_fields, fan_out_by_names):
        with counting_statements(database) as statements:
            result = await api.execute(build(spreads, levels), token=token)
        assert result.get("data") is None and result["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert statements.count <= 2  # the caller's session at most: nothing of the query ran


def checked(query: str, **limits):
    return DocumentChecks(RequestLimits(**limits), production=False).checked(query)


def test_a_fragment_that_spreads_itself_is_refused_without_recursing_forever():
    direct = checked("query { ...A } fragment A on Query { ...A }")
    indirect = checked("query { ...A } fragment A on Query { ...B } fragment B on Query { tiers { id } ...A }")
    unused = checked("query { tiers { id } } fragment A on Query { ...B } fragment B on Query { me { id ...C } } "
                     "fragment C on Member { tier { code } } fragment D on Member { ...C ...D }")
    assert all("within itself" in found.problem.message for found in (direct, indirect, unused))


def test_selections_nested_beyond_reason_are_refused_not_recursed():
    deep = "{ " + "__schema { types { " * 40 + "name" + " } }" * 40 + " }"  # introspection: depth not counted
    assert "nests" in checked(deep, max_tokens=5000).problem.message
    parser_breaker = "{" * 600 + "}" * 600
    assert checked(parser_breaker, max_tokens=5000).problem is not None


@pytest.mark.parametrize("query, refused", [
    ("{ " + " ".join(["me { id }"] * 32) + " }", False),    # 496 pairs on me, 496 on me.id: within 1000
    ("{ " + " ".join(["me { id }"] * 33) + " }", True),     # 528 + 528
    ("{ me { " + " ".join(["id"] * 45) + " } }", False),   # 990
    ("{ me { " + " ".join(["id"] * 46) + " } }", True),     # 1035
])
def test_repeated_fields_are_counted_as_the_pairs_validation_would_compare(query, refused):
    problem = checked(query).problem
    assert (problem is not None and "repeats" in problem.message) is refused


def test_fields_are_counted_where_fragments_are_spread():
    fragment = "fragment T on Tier { id code name level growthThreshold }"
    document = "{ " + " ".join(f"t{n}: tiers {{ ...T }}" for n in range(10)) + " } " + fragment
    assert checked(document, max_fields=60).problem is None          # 10 × (1 + 5) fields
    assert "selects 60" in checked(document, max_fields=59).problem.message


def test_every_operations_file_is_well_within_every_measure():
    """Each file of operations/ (the client contract's two, and the rest), sent whole as one document,
    stays well within every limit: a client bundling a file's operations is never refused."""
    from tests.conftest import OPERATIONS
    for path in sorted(OPERATIONS.glob("*.graphql")):
        shape = DocumentShape(parse(path.read_text(encoding="utf-8")))
        shape.check(LIMITS)
        assert shape.fields < LIMITS.max_fields / 2 and shape.repeated_pairs() < 50, path.name


async def test_a_batch_is_priced_as_a_whole_before_any_of_it_runs(api, database):
    token, _ = await api.login("batch-price", now="2026-03-02T10:00:00+08:00")
    headers = {"Authorization": f"Bearer {token}", "X-Loyalty-Now": "2026-03-02T10:00:00+08:00"}
    costly = {"query": "{ me { coupons(first: 100) { edges { node { id } } } } }"}  # 203 each
    check_in = {"query": 'mutation { checkIn(input: {idempotencyKey: "priced"}) { userErrors { code } } }'}  # 11
    answers = (await api.http.post("/graphql", json=[check_in, costly, costly, costly, costly],
                                   headers=headers)).json()  # 11 + 4 × 203 = 823
    assert all("errors" not in answer for answer in answers)
    with counting_statements(database) as statements:
        refused = (await api.http.post("/graphql", json=[costly] * 5, headers=headers)).json()  # 1015
    assert [answer["errors"][0]["extensions"]["code"] for answer in refused] == ["QUERY_TOO_COMPLEX"] * 5
    assert all(answer["extensions"]["cost"]["requestedQueryCost"] == 1015 for answer in refused)
    assert statements.count <= 2
    both = {"query": "{ me { coupons(first: 100) { edges { node { id } } } "
                     "pointHistory(first: 100) { edges { node { id } } } } }"}  # 405
    second_check_in = {"query": check_in["query"].replace("priced", "second")}
    again = (await api.http.post("/graphql", json=[second_check_in, costly, costly, costly, both],
                                 headers=headers)).json()  # 11 + 3 × 203 + 405 = 1025: the check-in does not run
    assert all(answer["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX" for answer in again)
    home = await api.execute("{ me { checkInStatus { checkedInToday } pointsBalance } }", **{"token": token},
                             now="2026-03-02T10:00:00+08:00")
    assert home["data"]["me"] == {"checkInStatus": {"checkedInToday": True}, "pointsBalance": 101}  # once
