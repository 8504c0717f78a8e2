"""Query cost, computed before execution and reported on every response (as Shopify does).

A field that returns an object costs 1, a scalar nothing; a connection costs 2 plus `first` times
what each of its edges asks for; each mutation field costs 10 more. A request whose cost exceeds
the maximum, or that asks a connection for more than 100 items (or a negative number), is refused
before anything runs. Every response carries `extensions.cost`:
`{"requestedQueryCost": n, "maximumAvailable": max}`.
"""
from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLError, GraphQLSchema, InlineFragmentNode,
    OperationType, get_named_type, is_composite_type,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from api.pagination import MAX_PAGE

CONNECTION_COST = 2
MUTATION_COST = 10


class CostProblem(Exception):
    pass


def query_cost(schema: GraphQLSchema, document, operation_name: str | None, raw_variables: dict | None) -> int:
    """The requested cost of the operation; CostProblem for a connection asked for too many items."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    variables = get_variable_values(schema, operation.variable_definitions or [], raw_variables or {})
    if isinstance(variables, list):  # invalid variables: execution reports them, nothing runs
        return 0
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    mutation = operation.operation == OperationType.MUTATION
    root = schema.mutation_type if mutation else schema.query_type

    def selections_cost(selection_set, parent, edges_times: int = 1) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += field_cost(selection, parent, edges_times)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                total += selections_cost(selection.selection_set,
                                         schema.get_type(condition.name.value) if condition else parent, edges_times)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
                fragment = fragments[selection.name.value]
                total += selections_cost(fragment.selection_set, schema.get_type(fragment.type_condition.name.value),
                                         edges_times)
        return total

    def field_cost(node: FieldNode, parent, edges_times: int) -> int:
        name = node.name.value
        definition = getattr(parent, "fields", {}).get(name)
        if definition is None or name.startswith("__"):
            return 0  # introspection (off in production) and typename cost nothing
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            return 0
        if "first" in definition.args:
            first = get_argument_values(definition, node, variables).get("first")
            if first is None or not 0 <= first <= MAX_PAGE:
                raise CostProblem(f"{name}: first must be between 0 and {MAX_PAGE}.")
            return CONNECTION_COST + selections_cost(node.selection_set, named, edges_times=first)
        own = 1 + selections_cost(node.selection_set, named)
        return own * edges_times if name in ("edges", "nodes") else own

    cost = selections_cost(operation.selection_set, root)
    if mutation:
        cost += MUTATION_COST * sum(1 for s in operation.selection_set.selections if isinstance(s, FieldNode))
    return cost


class QueryCost(SchemaExtension):
    def __init__(self, maximum: int):
        self.maximum = maximum
        self.cost = 0

    def on_execute(self):
        context = self.execution_context
        problem = None
        try:
            self.cost = query_cost(context.schema._schema, context.graphql_document, context.operation_name,
                                   context.variables)
        except CostProblem as exc:
            problem = GraphQLError(str(exc), extensions={"code": "BAD_USER_INPUT"})
        if problem is None and self.cost > self.maximum:
            problem = GraphQLError(f"This query costs {self.cost}, more than the {self.maximum} allowed: "
                                   "ask for fewer items.", extensions={"code": "QUERY_TOO_COMPLEX"})
        if problem is not None:
            context.result = GraphQLExecutionResult(data=None, errors=[problem])
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": {"requestedQueryCost": self.cost, "maximumAvailable": self.maximum}}
