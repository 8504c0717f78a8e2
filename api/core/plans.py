"""Registered operations compiled into plans, as graphql-jit does for graphql-js.

graphql-core executes a document by walking it afresh on every request: it collects the fields of
each selection set, looks up each field's definition, builds its resolve info, checks what each
resolver returned and how to complete it, through several layers of generic calls per field. For the
operations the clients are built from (`api.core.documents`), all of that is known when the app
starts: each is compiled once into a tree of field plans (definition, resolver, arguments, how to
complete its value), and a request runs the tree.

What a plan does is what graphql-core does, in the spec's terms: the fields of a selection set are
resolved together (so that their loaders batch), then completed; a leaf is coerced by its type; null
in a non-null position is an error that nulls the nearest nullable parent; an error in a resolver is
located at its field and path. A strawberry field with no resolver of its own is read as an attribute,
as strawberry's default resolver would. Only what a plan cannot express falls back to graphql-core:
interfaces and unions, directives, and mutations with more than one root field (run one at a time).
tests/api/test_plans.py runs every registered operation both ways and compares the answers.

A request that is one registered operation runs its plan without strawberry's execution
(`server.app.LoyaltyGraphQL.run_plan`, which does the same checks, error masking and cost report); an
operation of a batch runs it inside strawberry's execution (`CompiledPlans.on_execute` sets the result,
which strawberry then treats as graphql-core's). Either way the answer is what graphql-core's would be.
"""
from __future__ import annotations

import asyncio
import inspect
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from graphql import (
    ExecutionResult, FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLError, GraphQLList, GraphQLNonNull,
    GraphQLObjectType, GraphQLSchema, InlineFragmentNode, OperationDefinitionNode, OperationType, is_leaf_type,
    located_error,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Path, Undefined
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import _OperationContextAwareGraphQLResolveInfo as ResolveInfo


class Unsupported(Exception):
    """A document a plan does not express: it runs through graphql-core."""


class _Null(Exception):
    """A null in a non-null position: the nearest nullable parent becomes null (its error is recorded)."""


_AWAITABLE: dict[type, bool] = {}


def _is_awaitable(value: Any) -> bool:
    """inspect.isawaitable, decided once per type (it is asked of every value every field returns)."""
    kind = type(value)
    found = _AWAITABLE.get(kind)
    if found is None:
        found = _AWAITABLE[kind] = inspect.isawaitable(value) and kind is not types.GeneratorType
    return found


@dataclass(eq=False)
class FieldPlan:
    key: str
    name: str
    nodes: list[FieldNode]
    definition: Any  # GraphQLField
    parent: GraphQLObjectType
    attribute: str | None  # a strawberry field without a resolver: read this attribute
    arguments: bool        # whether the field takes arguments
    complete: Callable     # (value, path, run) -> completed value, or an awaitable of it
    typename: str | None = None  # __typename's answer


@dataclass
class Run:
    """One execution: what resolvers are given, and the errors met."""

    schema: GraphQLSchema
    fragments: dict
    root: Any
    operation: OperationDefinitionNode
    variables: Any  # graphql-core's VariableValues
    context: Any
    extensions: dict | None
    errors: list[GraphQLError] = field(default_factory=list)


class Plan:
    def __init__(self, schema: GraphQLSchema, document, operation: OperationDefinitionNode):
        self.schema = schema
        self.operation = operation
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        root = schema.get_root_type(operation.operation)
        if root is None:
            raise Unsupported("no root type")
        self.fields = _compile_selections(schema, root, [operation.selection_set], self.fragments)
        self.paths = _paths(operation.selection_set, self.fragments, ())
        if operation.operation == OperationType.MUTATION and len(self.fields) > 1:
            raise Unsupported("mutations run their root fields one at a time")
        if operation.operation == OperationType.SUBSCRIPTION:
            raise Unsupported("subscriptions")

    def only(self, root_fields) -> bool:
        """Whether a query asks for nothing but `root_fields`."""
        return self.operation.operation == OperationType.QUERY and all(
            plan.name in root_fields or plan.name == "__typename" for plan in self.fields)

    def selects(self, *path: str) -> bool:
        """Whether the operation asks for the field at `path` (field names from the root)."""
        return path in self.paths

    def runs(self, operation_name: str | None, method: str) -> bool:
        """Whether a request naming `operation_name` runs this plan (GET runs queries only: strawberry
        refuses the rest, with its message)."""
        return (operation_name is None or operation_name == self.operation.name.value) and (
            method != "GET" or self.operation.operation == OperationType.QUERY)

    async def execute(self, root: Any, context: Any, raw_variables: dict | None,
                      extensions: dict | None) -> ExecutionResult:
        variables = get_variable_values(self.schema, self.operation.variable_definitions or (), raw_variables or {})
        if isinstance(variables, list):
            return ExecutionResult(data=None, errors=variables)
        run = Run(self.schema, self.fragments, root, self.operation, variables, context, extensions)
        try:
            data = await _object(self.fields, root, None, run)
        except _Null:
            data = None
        return ExecutionResult(data=data, errors=run.errors or None)


def _paths(selection_set, fragments, prefix: tuple) -> set[tuple[str, ...]]:
    """Every field's path of names (through fragments) in a selection set."""
    found: set[tuple[str, ...]] = set()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            path = (*prefix, selection.name.value)
            found.add(path)
            if selection.selection_set is not None:
                found |= _paths(selection.selection_set, fragments, path)
        else:
            inner = fragments[selection.name.value] if isinstance(selection, FragmentSpreadNode) else selection
            found |= _paths(inner.selection_set, fragments, prefix)
    return found


def _collect(schema, parent: GraphQLObjectType, selection_sets, fragments, into: dict[str, list[FieldNode]]) -> None:
    for selection_set in selection_sets:
        for selection in selection_set.selections:
            if selection.directives:
                raise Unsupported("directives")
            if isinstance(selection, FieldNode):
                into.setdefault(selection.alias.value if selection.alias else selection.name.value, []).append(selection)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                condition, selections = fragment.type_condition, fragment.selection_set
            elif isinstance(selection, InlineFragmentNode):
                condition, selections = selection.type_condition, selection.selection_set
            else:
                raise Unsupported(type(selection).__name__)
            if condition is not None and condition.name.value != parent.name:
                raise Unsupported("a fragment on another type")
            _collect(schema, parent, [selections], fragments, into)


def _compile_selections(schema, parent: GraphQLObjectType, selection_sets, fragments) -> list[FieldPlan]:
    grouped: dict[str, list[FieldNode]] = {}
    _collect(schema, parent, selection_sets, fragments, grouped)
    plans = []
    for key, nodes in grouped.items():
        name = nodes[0].name.value
        if name == "__typename":
            plans.append(FieldPlan(key, name, nodes, None, parent, None, False, _constant, typename=parent.name))
            continue
        if name.startswith("__"):
            raise Unsupported("introspection")
        definition = parent.fields[name]
        strawberry_field = (definition.extensions or {}).get("strawberry-definition")
        attribute = None
        if strawberry_field is not None and strawberry_field.base_resolver is None and not strawberry_field.extensions \
                and not definition.args:
            attribute = strawberry_field.python_name
        complete = _completer(schema, definition.type, [n.selection_set for n in nodes if n.selection_set],
                              fragments, f"{parent.name}.{name}")
        plans.append(FieldPlan(key, name, nodes, definition, parent, attribute, bool(definition.args), complete))
    return plans


def _completer(schema, type_, selection_sets, fragments, where: str) -> Callable:
    """How to complete a value of `type_`: (value, path, run) -> completed, or an awaitable of it."""
    if isinstance(type_, GraphQLNonNull):
        inner = _completer(schema, type_.of_type, selection_sets, fragments, where)
        message = f"Cannot return null for non-nullable field {where}."

        def non_null(value, path, run):
            if value is None:
                run.errors.append(GraphQLError(message, path=path.as_list()))
                raise _Null
            completed = inner(value, path, run)
            if _is_awaitable(completed):
                return _checked(completed, message, path, run)
            if completed is None:
                run.errors.append(GraphQLError(message, path=path.as_list()))
                raise _Null
            return completed

        return non_null
    if isinstance(type_, GraphQLList):
        item = _completer(schema, type_.of_type, selection_sets, fragments, where)
        non_null_items = isinstance(type_.of_type, GraphQLNonNull)
        return lambda value, path, run: None if value is None else _list(item, non_null_items, value, path, run)
    if is_leaf_type(type_):
        coerce = type_.coerce_output_value

        def leaf(value, path, run):
            if value is None:
                return None
            coerced = coerce(value)
            if coerced is Undefined or coerced is None:
                raise TypeError(f"Expected `{type_}.coerce_output_value({value!r})` to return non-nullable value, "
                                f"returned: {coerced!r}")
            return coerced

        return leaf
    if isinstance(type_, GraphQLObjectType):
        fields = _compile_selections(schema, type_, selection_sets, fragments)
        return lambda value, path, run: None if value is None else _object(fields, value, path, run)
    raise Unsupported(f"{type_} (an interface or a union)")


def _constant(value, path, run):
    return value


async def _checked(awaitable, message: str, path: Path, run: Run):
    """A non-null field's value completed later (an object's fields): null there is the field's error."""
    completed = await awaitable
    if completed is None:
        run.errors.append(GraphQLError(message, path=path.as_list()))
        raise _Null
    return completed


def _resolve(plan: FieldPlan, source: Any, path: Path, run: Run) -> Any:
    if plan.typename is not None:
        return plan.typename
    if plan.attribute is not None:
        return getattr(source, plan.attribute)
    info = ResolveInfo(plan.name, plan.nodes, plan.definition.type, plan.parent, path, run.schema, run.fragments,
                       run.root, run.operation, run.variables.coerced, run.context, _is_awaitable, None, None,
                       run.extensions)
    arguments = get_argument_values(plan.definition, plan.nodes[0], run.variables) if plan.arguments else {}
    return plan.definition.resolve(source, info, **arguments)


def _non_null(plan: FieldPlan) -> bool:
    return plan.definition is not None and isinstance(plan.definition.type, GraphQLNonNull)


_FAILED = object()


async def _object(fields: list[FieldPlan], source: Any, path: Path | None, run: Run) -> dict:
    """The fields of one object: all resolved first (so that their loaders batch), awaited together, then
    completed, the sub-objects of all of them together again."""
    paths = [Path(path, plan.key, plan.parent.name) for plan in fields]
    resolved = await _each(fields, paths, run, _FAILED, lambda i, plan: _resolve(plan, source, paths[i], run))
    completed = await _each(fields, paths, run, None, lambda i, plan: None if resolved[i] is _FAILED
                            else plan.complete(resolved[i], paths[i], run))
    return {plan.key: value for plan, value in zip(fields, completed)}


async def _each(fields: list[FieldPlan], paths: list[Path], run: Run, failed: Any, step: Callable) -> list:
    """`step(i, plan)` for every field, then what they left to wait for, together. An error is its field's
    (recorded, the value becomes `failed`); a null carried up from inside (_Null) makes the field null; a
    non-null field that ends null makes the whole object null (_Null)."""
    values: list[Any] = []
    null = False
    for i, plan in enumerate(fields):
        try:
            values.append(step(i, plan))
        except Exception as error:  # noqa: BLE001 - a resolver's or a completion's error is its field's
            if not isinstance(error, _Null):
                run.errors.append(located_error(error, plan.nodes, paths[i].as_list()))
            values.append(failed)
            null = null or _non_null(plan)
    waiting = [i for i, value in enumerate(values) if _is_awaitable(value)]
    if null:
        _abandon(values, waiting)
        raise _Null
    if waiting and await _settle(waiting, values, fields, paths, run, failed):
        raise _Null
    return values


async def _settle(indexes: list[int], values: list, fields: list[FieldPlan], paths: list[Path], run: Run,
                  failed: Any) -> bool:
    """`values[i]` awaited for each of `indexes`, together. An error is its field's (recorded, the value
    becomes `failed`); a null carried up from inside (_Null, its error recorded already) makes the field
    null. True when a non-null field became null: then so does the object."""
    null = False
    for i, outcome in zip(indexes, await _all(values[i] for i in indexes)):
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, _Null):
                run.errors.append(located_error(outcome, fields[i].nodes, paths[i].as_list()))
            values[i] = failed
            null = null or _non_null(fields[i])
        else:
            values[i] = outcome
    return null


async def _all(awaitables) -> list:
    """Each awaitable's value or exception: one awaited directly, several together (as tasks, so that their
    loaders batch)."""
    awaitables = list(awaitables)
    if len(awaitables) == 1:
        try:
            return [await awaitables[0]]
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - handed back, as gather(return_exceptions=True) does
            return [error]
    outcomes = await asyncio.gather(*awaitables, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, asyncio.CancelledError):
            raise outcome
    return outcomes


def _abandon(values: list, indexes: list[int]) -> None:
    """Coroutines that will not be awaited, closed so that none is left never awaited."""
    for i in indexes:
        if inspect.iscoroutine(values[i]):
            values[i].close()


def _list(item: Callable, non_null_items: bool, value, path: Path, run: Run):
    """A list's items completed; an item in error is null, or makes the list null if items are non-null."""
    completed = []
    for index, element in enumerate(value):
        item_path = Path(path, index, None)
        try:
            completed.append(item(element, item_path, run))
        except Exception as error:  # noqa: BLE001 - _Null included: the item's own error is recorded already
            if not isinstance(error, _Null):
                run.errors.append(located_error(error, None, item_path.as_list()))
            if non_null_items:
                _abandon(completed, list(range(len(completed))))
                raise _Null from None
            completed.append(None)
    waiting = [i for i, done in enumerate(completed) if _is_awaitable(done)]
    return _list_items(completed, waiting, non_null_items) if waiting else completed


async def _list_items(completed: list, waiting: list[int], non_null_items: bool) -> list:
    null = False
    for i, outcome in zip(waiting, await _all(completed[i] for i in waiting)):
        if isinstance(outcome, BaseException):  # only _Null: an object records its own errors
            completed[i] = None
            null = null or non_null_items
        else:
            completed[i] = outcome
    if null:
        raise _Null
    return completed


def compile_plan(schema: GraphQLSchema, document) -> Plan | None:
    """The plan of a (parsed) document holding one operation; None for what only graphql-core runs."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return None
    try:
        return Plan(schema, document, operations[0])
    except Unsupported:
        return None


class CompiledPlans(SchemaExtension):
    """Runs a registered operation by its plan (`plans`: document text → Plan), any other through
    graphql-core."""

    def __init__(self, plans: dict[str, Plan]):
        self.plans = plans

    async def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        plan = self.plans.get(context.query) if context.query else None
        if plan is not None and not context.result and plan.runs(context.operation_name, "POST"):
            context.result = await plan.execute(context.root_value, context.context, context.variables,
                                                context.operation_extensions)
        yield
