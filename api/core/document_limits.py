"""What a GraphQL document may ask for, checked before graphql-core validates it and before anything runs.

Cheapest first: the parser stops past `LOYALTY_MAX_TOKENS` tokens; one pass over the document then
measures its depth, aliases and size, and one more its cost; only a document within every bound
reaches graphql-core's validation, whose overlapping-fields rule compares repeated fields pairwise.

Every measure counts what fragment spreads expand to (a fragment spread three times counts three
times), yet takes time linear in the document: each fragment definition is analysed once per pass
and its summary reused wherever it is spread. Walking spreads again at each use costs 3^levels on a
document that spreads one fragment three times on each level: 541 bytes froze an instance for 3 s.

- a fragment spread twice in one selection set (an inline fragment's selections count as its parent's)
  is refused: the second spread adds nothing but work, and it is how a document makes itself grow
  exponentially;
- depth: selections nested below the root, introspection (`__…`) not counted; `max_depth`;
- aliases: `max_aliases`;
- fields: fields selected, each fragment counted where it is spread; `max_fields`. It bounds what
  validation and execution can be made to do;
- repeated fields: graphql-core compares every two fields of one response path, and every two
  fragments spread side by side; at most `REPEATS_PER_FIELD × max_fields` such pairs;
- cost, as Shopify reports it: an object field costs 1, a scalar nothing; a connection 2 plus `first`
  times what each of its edges asks for; each mutation field 10 more; at most `max_query_cost`.
  A connection asked for more than 100 items, or fewer than 0, is refused.

Parsing, the measures and validation are cached per document text; the cost, which depends on the
variables, is worked out per request. Every response carries `extensions.cost`:
`{"requestedQueryCost": n, "maximumAvailable": max}`.
"""
from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterator

from graphql import (
    DocumentNode, FieldNode, FragmentDefinitionNode, GraphQLError, GraphQLSchema, InlineFragmentNode,
    OperationDefinitionNode, OperationType, SelectionSetNode, VariableNode, get_named_type, is_composite_type, parse,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from api.core.pagination import MAX_PAGE

CONNECTION_COST = 2
MUTATION_COST = 10
REPEATS_PER_FIELD = 1      # pairs of repeated fields allowed per field the document may select
MAX_NESTING = 64           # selection sets, or fragment spreads, inside one another
CACHED_DOCUMENTS = 256
CACHED_COSTS = 64  # per document: the costs of its most used variables (page sizes)
SATURATE = 1 << 62         # counts stop growing here: a refusal needs no exact 3^30
TOO_COMPLEX = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True)
class RequestLimits:
    """What one request may ask for, checked before it runs."""

    max_depth: int = 8
    max_aliases: int = 15
    max_tokens: int = 2000
    max_fields: int = 1000
    max_query_cost: int = 1000
    max_batch: int = 10
    max_body_bytes: int = 64 * 1024
    timeout_seconds: float = 10.0


class Refusal(Exception):
    """A document refused before it runs: the message for the caller and its `extensions.code`."""

    def __init__(self, message: str, code: str = TOO_COMPLEX):
        super().__init__(message)
        self.message, self.code = message, code

    def as_error(self) -> GraphQLError:
        return GraphQLError(self.message, extensions={"code": self.code})


def _sum(*values: int) -> int:
    return min(sum(values), SATURATE)


@dataclass(frozen=True)
class Shape:
    """What a selection set expands to: its depth, aliases and fields."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0


class DocumentShape:
    """The measures of one document that do not depend on variables, each fragment analysed once."""

    def __init__(self, document: DocumentNode):
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        self.visits: Counter[str] = Counter()   # fragment definitions analysed, by name: each once
        self._shapes: dict[str, Shape] = {}
        self._open: set[str] = set()            # fragments under analysis: spreading one again is a cycle
        self._spread: set[str] = set()
        self.spread_twice: str | None = None    # a fragment spread twice in one selection set
        self.operation_shapes = [(o, self._selections(o.selection_set, 0)) for o in self.operations]
        self.unused = [d for name, d in self.fragments.items() if name not in self._spread]
        for definition in self.unused:          # graphql-core validates them too
            self._fragment(definition.name.value, 0)
        self.fields = _sum(*(shape.fields for _, shape in self.operation_shapes),
                           *(self._shapes[d.name.value].fields for d in self.unused))
        self.aliases = _sum(*(shape.aliases for _, shape in self.operation_shapes))

    def _fragment(self, name: str, nesting: int) -> Shape:
        shape = self._shapes.get(name)
        if shape is not None:
            return shape
        definition = self.fragments.get(name)
        if definition is None:
            return Shape()  # an unknown fragment: validation names it
        if name in self._open:
            raise Refusal(f"Cannot spread fragment '{name}' within itself.", "GRAPHQL_VALIDATION_FAILED")
        self._open.add(name)
        self.visits[name] += 1
        shape = self._selections(definition.selection_set, nesting + 1)
        self._open.discard(name)
        self._shapes[name] = shape
        return shape

    def _selections(self, selection_set: SelectionSetNode | None, nesting: int,
                    spread_here: set[str] | None = None) -> Shape:
        """`spread_here`: the fragments already spread in this selection set (an inline fragment's
        selections belong to its parent's)."""
        if nesting > MAX_NESTING:
            raise Refusal(f"This document nests selections or fragments more than {MAX_NESTING} deep.")
        spread_here = set() if spread_here is None else spread_here
        depth = aliases = fields = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                inner = self._selections(selection.selection_set, nesting + 1) if selection.selection_set else Shape()
                if selection.selection_set and not selection.name.value.startswith("__"):
                    depth = max(depth, 1 + inner.depth)
                aliases = _sum(aliases, inner.aliases, selection.alias is not None)
                fields = _sum(fields, inner.fields, 1)
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self._selections(selection.selection_set, nesting + 1, spread_here)
            else:
                name = selection.name.value
                if name in spread_here:
                    self.spread_twice = self.spread_twice or name
                spread_here.add(name)
                self._spread.add(name)
                inner = self._fragment(name, nesting)
            depth = max(depth, inner.depth)
            aliases, fields = _sum(aliases, inner.aliases), _sum(fields, inner.fields)
        return Shape(depth, aliases, fields)

    def check(self, limits: RequestLimits) -> None:
        """Refusal when the document spreads a fragment twice in one place, or is deeper, has more aliases or
        more (or more repeated) fields than `limits` allow."""
        if self.spread_twice is not None:
            raise Refusal(f"Fragment '{self.spread_twice}' is spread twice in one selection set: once is enough.")
        for operation, shape in self.operation_shapes:
            if shape.depth > limits.max_depth:
                name = operation.name.value if operation.name else "anonymous"
                raise Refusal(f"'{name}' exceeds maximum operation depth of {limits.max_depth}")
        if self.aliases > limits.max_aliases:
            raise Refusal(f"{self.aliases} aliases found. Allowed: {limits.max_aliases}")
        if self.fields > limits.max_fields:
            raise Refusal(f"This document selects {self.fields} fields, counting each fragment where it is "
                          f"spread; at most {limits.max_fields} are allowed.")
        pairs, allowed = self.repeated_pairs(), REPEATS_PER_FIELD * limits.max_fields
        if pairs > allowed:
            raise Refusal(f"This document repeats fields or fragments too often ({pairs} pairs to compare, at "
                          f"most {allowed}): select each field once.")

    def repeated_pairs(self) -> int:
        """The pairs of fields on one response path, and of fragments spread side by side, that
        graphql-core's overlapping-fields rule compares. Call after `fields` is known to be bounded:
        it walks the expansion."""
        on_path: Counter[tuple[str, ...]] = Counter()
        pairs = 0

        def walk(selection_set: SelectionSetNode, path: tuple[str, ...]) -> None:
            nonlocal pairs
            spreads = set()
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    key = path + ((selection.alias or selection.name).value,)
                    on_path[key] += 1
                    if selection.selection_set:
                        walk(selection.selection_set, key)
                elif isinstance(selection, InlineFragmentNode):
                    walk(selection.selection_set, path)
                elif selection.name.value in self.fragments:
                    spreads.add(selection.name.value)
                    walk(self.fragments[selection.name.value].selection_set, path)
            pairs += len(spreads) * (len(spreads) - 1) // 2

        for root in [*self.operations, *self.unused]:  # graphql-core compares within each, not across
            walk(root.selection_set, ())
            pairs += sum(n * (n - 1) // 2 for n in on_path.values())
            on_path.clear()
        return pairs


class CostProblem(Exception):
    pass


class QueryCost:
    """The cost of one operation under its variables; each fragment's cost worked out once."""

    def __init__(self, schema: GraphQLSchema, shape: DocumentShape, variables: dict):
        self.schema, self.shape, self.variables = schema, shape, variables
        self.visits: Counter[str] = Counter()
        self._fragments: dict[str, tuple[int, int]] = {}

    def of(self, operation: OperationDefinitionNode) -> int:
        mutation = operation.operation == OperationType.MUTATION
        root = self.schema.mutation_type if mutation else self.schema.query_type
        plain, per_edge = self._selections(operation.selection_set, root)
        cost = _sum(plain, per_edge)
        if mutation:
            cost = _sum(cost, MUTATION_COST * sum(isinstance(s, FieldNode) for s in operation.selection_set.selections))
        return cost

    def _selections(self, selection_set: SelectionSetNode | None, parent) -> tuple[int, int]:
        """(what the selections cost once, what they cost per edge of an enclosing connection): only
        `edges` and `nodes` are paid for once per item asked for."""
        plain = per_edge = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                own = self._field(selection, parent)
                if selection.name.value in ("edges", "nodes"):
                    per_edge = _sum(per_edge, own)
                else:
                    plain = _sum(plain, own)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._selections(selection.selection_set,
                                         self.schema.get_type(condition.name.value) if condition else parent)
            else:
                inner = self._fragment(selection.name.value)
            plain, per_edge = _sum(plain, inner[0]), _sum(per_edge, inner[1])
        return plain, per_edge

    def _fragment(self, name: str) -> tuple[int, int]:
        if name not in self._fragments:
            definition = self.shape.fragments.get(name)
            self.visits[name] += 1
            self._fragments[name] = (0, 0) if definition is None else self._selections(
                definition.selection_set, self.schema.get_type(definition.type_condition.name.value))
        return self._fragments[name]

    def _field(self, node: FieldNode, parent) -> int:
        name = node.name.value
        definition = getattr(parent, "fields", {}).get(name)
        if definition is None or name.startswith("__"):
            return 0  # unknown (validation names it), introspection (off in production) and __typename
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            return 0
        if "first" in definition.args:
            try:
                first = get_argument_values(definition, node, self.variables).get("first")
            except GraphQLError:
                return CONNECTION_COST  # arguments that validation will refuse
            if first is None or not 0 <= first <= MAX_PAGE:
                raise CostProblem(f"{name}: first must be between 0 and {MAX_PAGE}.")
            plain, per_edge = self._selections(node.selection_set, named)
            return _sum(CONNECTION_COST, plain, min(first * per_edge, SATURATE))
        plain, per_edge = self._selections(node.selection_set, named)
        return _sum(1, plain, per_edge)


def _first_variables(node, names: set[str]) -> None:
    for selection in getattr(getattr(node, "selection_set", None), "selections", None) or ():
        for argument in getattr(selection, "arguments", None) or ():
            if argument.name.value == "first" and isinstance(argument.value, VariableNode):
                names.add(argument.value.name.value)
        _first_variables(selection, names)


@dataclass
class CheckedDocument:
    """A parsed document, its measures, and once asked for, graphql-core's verdict on it."""

    document: DocumentNode | None
    problem: GraphQLError | None          # a parse error, or a Refusal of the measures
    shape: DocumentShape | None
    validation_errors: list[GraphQLError] | None = None
    costs: dict = field(default_factory=dict)  # (operation name, values of its cost variables) -> cost
    _cost_variables: dict = field(default_factory=dict)

    def cost_variables(self, operation: OperationDefinitionNode) -> tuple[str, ...]:
        """The variables an operation's cost depends on: those given as a `first` argument, in it or in
        the fragments it spreads (any fragment of the document, to be simple and safe)."""
        found = self._cost_variables.get(id(operation))
        if found is None:
            names: set[str] = set()
            for definition in [operation, *self.shape.fragments.values()]:
                _first_variables(definition, names)
            found = self._cost_variables[id(operation)] = tuple(sorted(names))
        return found

    def single_operation_name(self) -> str | None:
        """The name of the document's one operation: what runs when no operationName is sent."""
        if self.shape is None or len(self.shape.operations) != 1 or self.shape.operations[0].name is None:
            return None
        return self.shape.operations[0].name.value


class DocumentChecks:
    """The checks of one schema, with their cache of documents by text (shared by every request)."""

    def __init__(self, limits: RequestLimits, production: bool):
        self.limits = limits
        self.extra_rules = (NoSchemaIntrospectionCustomRule,) if production else ()
        self._cache: OrderedDict[str, CheckedDocument] = OrderedDict()

    def checked(self, query: str) -> CheckedDocument:
        found = self._cache.get(query)
        if found is not None:
            self._cache.move_to_end(query)
            return found
        try:
            document = parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError as error:
            error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_PARSE_FAILED"}
            found = CheckedDocument(None, error, None)
        except RecursionError:
            found = CheckedDocument(None, Refusal("This document is nested too deeply.").as_error(), None)
        else:
            try:
                shape = DocumentShape(document)
                shape.check(self.limits)
                found = CheckedDocument(document, None, shape)
            except Refusal as refusal:
                found = CheckedDocument(document, refusal.as_error(), None)
        self._cache[query] = found
        if len(self._cache) > CACHED_DOCUMENTS:
            self._cache.popitem(last=False)
        return found

    def validate(self, checked: CheckedDocument, schema: GraphQLSchema, rules) -> list[GraphQLError]:
        if checked.validation_errors is None:
            checked.validation_errors = validate_document(schema, checked.document, (*rules, *self.extra_rules))
            for error in checked.validation_errors:
                error.extensions = {"code": "GRAPHQL_VALIDATION_FAILED", **(error.extensions or {})}
        return checked.validation_errors

    def cost(self, schema: GraphQLSchema, checked: CheckedDocument, operation_name: str | None,
             raw_variables: dict | None) -> int:
        """The operation's cost; CostProblem for a connection asked for too many items. 0 for what cannot
        be priced (no such operation, invalid variables): validation or execution then says why.
        Remembered per document by the values of the variables it depends on (those given as `first`)."""
        if checked.shape is None:
            return 0
        operation = get_operation_ast(checked.document, operation_name)
        if operation is None:
            return 0
        inputs = raw_variables or {}
        # Keyed by the variables given too: a request missing one cannot be priced (0), and must not be
        # answered the price of the same document sent whole.
        key = (operation_name, tuple(sorted(inputs)) if isinstance(inputs, dict) else (),
               tuple(inputs.get(name) for name in checked.cost_variables(operation)))
        try:
            found = checked.costs.get(key)
        except TypeError:  # a value that cannot be a key (a list): worked out each time
            key, found = None, None
        if found is not None:
            if isinstance(found, CostProblem):
                raise found
            return found
        variables = get_variable_values(schema, operation.variable_definitions or [], inputs)
        if isinstance(variables, list):
            return 0
        try:
            found = QueryCost(schema, checked.shape, variables).of(operation)
        except CostProblem as problem:
            found = problem
        if key is not None and len(checked.costs) < CACHED_COSTS:
            checked.costs[key] = found
        if isinstance(found, CostProblem):
            raise found
        return found

    def price(self, schema: GraphQLSchema, query: Any, operation_name: Any, variables: Any) -> int:
        """What one operation of a batch costs, before any of the batch runs (0 when it cannot be priced:
        it is refused on its own when it runs)."""
        if not isinstance(query, str) or not isinstance(variables, (dict, type(None))):
            return 0
        try:
            return self.cost(schema, self.checked(query), operation_name if isinstance(operation_name, str) else None,
                             variables)
        except (CostProblem, GraphQLError):
            return 0

    def problems(self, schema: GraphQLSchema, checked: CheckedDocument, operation_name: str | None,
                 variables: dict | None, rules) -> tuple[list[GraphQLError], int]:
        """What stops a parsed document from running (its measures, its cost, graphql-core's validation
        under `rules`), and its cost."""
        if checked.problem is not None:
            return [checked.problem], 0
        try:
            cost = self.cost(schema, checked, operation_name, variables)
        except CostProblem as problem:
            return [GraphQLError(str(problem), extensions={"code": "BAD_USER_INPUT"})], 0
        if cost > self.limits.max_query_cost:
            return [self.too_costly(cost)], cost
        return self.validate(checked, schema, rules), cost

    def cost_report(self, cost: int) -> dict:
        return {"requestedQueryCost": cost, "maximumAvailable": self.limits.max_query_cost}

    def too_costly(self, cost: int, batch: bool = False) -> GraphQLError:
        what = "This batch of operations costs" if batch else "This query costs"
        return Refusal(f"{what} {cost}, more than the {self.limits.max_query_cost} allowed: "
                       "ask for fewer items.").as_error()


class RequestChecks(SchemaExtension):
    """Parse (cached, token-limited), measure, price and validate (cached) before anything runs. The view
    refuses a document that does not parse or measure before it gets here (`DocumentChecks.checked`)."""

    def __init__(self, checks: DocumentChecks):
        self.checks = checks
        self.cost = 0
        self.checked: CheckedDocument | None = None

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.checks.limits.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            self.checked = self.checks.checked(context.query)
            context.graphql_document = self.checked.document  # None: strawberry parses and reports why
        yield

    def on_validate(self) -> Iterator[None]:
        if self.checked is not None:
            context = self.execution_context
            context.pre_execution_errors, self.cost = self.checks.problems(
                context.schema._schema, self.checked, context.operation_name, context.variables,
                context.validation_rules)
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.checks.cost_report(self.cost)}
