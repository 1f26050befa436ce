"""The compiler: one query document (and operation) into a plan, and the plan's executor.

A plan is the document's selection sets resolved against the schema once: for each response key
its GraphQL field, how its value is got (an attribute of the parent object, or the field's
resolver called directly when `declarations.py` declares it context-only), its arguments
(converted once when they are literals), and how its value completes (non-null, list, leaf
serializer, or the object's own plan). Executing a plan then does what graphql-core's executor
does for that document, in the same order (sibling fields and list items concurrently, the
same DataLoader ticks, the same error paths, locations, null propagation and error order),
without building an info object, argument dicts or extension chains per field.

Whatever the compiler does not know raises `NotCompilable`, and the document runs on Strawberry.
"""
# An executor handles values of every GraphQL type (Any), and graphql-core's algorithm, followed
# closely here so that both give the same results, branches as the spec's does.
# ruff: noqa: ANN401, C901, PLR0912

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from inspect import isawaitable
from itertools import product
from typing import TYPE_CHECKING, Any, cast

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    Visitor,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    located_error,
    visit,
)
from graphql.execution.executor import CollectedErrors
from graphql.execution.values import (
    get_argument_values,
    get_directive_values,
    get_variable_values,
)
from graphql.pyutils import Path, gather_with_cancel, inspect
from strawberry.permission import PermissionExtension
from strawberry.types.arguments import convert_arguments
from strawberry.types.nodes import Selection, convert_selections

from bff.graphql.compiled.declarations import is_context_only

if TYPE_CHECKING:
    from graphql import DocumentNode, GraphQLSchema, ValueNode
    from graphql.execution.values import VariableValues
    from strawberry.schema.config import StrawberryConfig
    from strawberry.types.field import StrawberryField

DEFINITION = "strawberry-definition"
MAX_DIRECTIVE_VARIABLES = 4  # a plan per combination of their values: at most 16
MAX_COERCION_ERRORS = 50  # graphql-core's default, which Strawberry keeps


class NotCompilable(Exception):  # noqa: N818 (a reason, not a failure)
    """The document needs something the compiler does not do: it runs on Strawberry."""


class CompiledInfo:
    """What a context-only resolver (and IsMember) reads from `info`: the request's context,
    and the field's selections (`selected_fields`, as Strawberry's Info gives them)."""

    __slots__ = (
        "context",
        "field_name",
        "field_nodes",
        "fragments",
        "python_name",
        "variable_values",
    )

    def __init__(  # noqa: PLR0917 (what Strawberry's Info offers these resolvers)
        self,
        context: Any,
        field_name: str,
        python_name: str,
        field_nodes: list[FieldNode],
        fragments: dict[str, FragmentDefinitionNode],
        variable_values: VariableValues,
    ) -> None:
        self.context = context
        self.field_name = field_name
        self.python_name = python_name
        self.field_nodes = field_nodes
        self.fragments = fragments
        self.variable_values = variable_values

    @property
    def selected_fields(self) -> list[Selection]:
        return convert_selections(self, self.field_nodes)  # type: ignore[arg-type]


# How a value completes: a leaf serializer, an object's plan, a list of an inner completion;
# each maybe non-null.
@dataclass(slots=True)
class Completion:
    non_null: bool
    leaf: Any = None  # GraphQLScalarType | GraphQLEnumType
    object_type: GraphQLObjectType | None = None
    fields: list[FieldPlan] | None = None
    item: Completion | None = None
    abstract: Any = None  # GraphQLInterfaceType | GraphQLUnionType
    by_type: dict[str, Completion] | None = None  # an abstract type's object completions


@dataclass(slots=True)
class FieldPlan:
    key: str
    parent_type: GraphQLObjectType
    nodes: list[FieldNode]
    gql_field: GraphQLField | None  # None: __typename
    completion: Completion | None
    attribute: str | None = None  # the value is this attribute of the parent object
    resolver: Callable[..., Any] | None = None
    self_argument: bool = False
    root_name: str | None = None
    info_name: str | None = None
    static_kwargs: dict[str, Any] | None = None  # arguments without variables, converted once
    permissions: PermissionExtension | None = None
    strawberry_field: StrawberryField | None = None
    is_async: bool = False
    # A leaf read from an attribute: how a value serializes (None: not such a field).
    serialize: Callable[[Any], Any] | None = None
    non_null: bool = False


@dataclass(slots=True)
class Plan:
    """One document's operation compiled for one set of @skip/@include variable values."""

    fields: list[FieldPlan]
    root_type: GraphQLObjectType


@dataclass
class CompiledDocument:
    """A query document's operation, its plans built on first use per directive variables."""

    schema: GraphQLSchema
    config: StrawberryConfig
    scalar_registry: Any
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    directive_variables: tuple[str, ...]
    plans: dict[tuple[Any, ...], Plan] = field(default_factory=dict)

    def plan(self, variables: VariableValues) -> Plan | None:
        """The plan for these variables; None when their @skip/@include values have none."""
        key = tuple(variables.coerced.get(name) for name in self.directive_variables)
        return self.plans.get(key)

    def coerce_variables(self, raw: dict[str, Any] | None) -> VariableValues | list[GraphQLError]:
        return get_variable_values(
            self.schema,
            self.operation.variable_definitions or (),
            raw or {},
            max_errors=MAX_COERCION_ERRORS,
        )


def compile_document(
    schema: GraphQLSchema,
    config: StrawberryConfig,
    scalar_registry: Any,
    document: DocumentNode,
    operation_name: str | None,
) -> CompiledDocument:
    """A compiled query operation of this document, or NotCompilable saying why not.

    Builds every plan it can ahead (all of them when no @skip/@include takes a variable), so a
    document with something unknown is refused here, before any request depends on it."""
    operation: OperationDefinitionNode | None = None
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if operation_name is None and operation is not None:
                raise NotCompilable("several operations and no operation name")
            if operation_name is None or (
                definition.name is not None and definition.name.value == operation_name
            ):
                operation = definition
        elif isinstance(definition, FragmentDefinitionNode):
            if definition.variable_definitions:
                raise NotCompilable("a fragment with variables")
            fragments[definition.name.value] = definition
        else:
            raise NotCompilable("a definition that is not an operation or a fragment")
    if operation is None:
        raise NotCompilable("no such operation")
    if operation.operation is not OperationType.QUERY:
        raise NotCompilable(f"a {operation.operation.value}")
    compiled = CompiledDocument(
        schema=schema,
        config=config,
        scalar_registry=scalar_registry,
        operation=operation,
        fragments=fragments,
        directive_variables=_directive_variables(operation, fragments),
    )
    if len(compiled.directive_variables) > MAX_DIRECTIVE_VARIABLES:
        raise NotCompilable("too many variables in @skip/@include")
    # Every combination of the directive variables' values (true, false, null) compiles now.
    # A combination graphql-core refuses (null for `if: Boolean!`) has no plan: such a request
    # runs on Strawberry, which reports it.
    for values in product((True, False, None), repeat=len(compiled.directive_variables)):
        coerced = dict(zip(compiled.directive_variables, values, strict=True))
        key = tuple(coerced.get(name) for name in compiled.directive_variables)
        try:
            compiled.plans[key] = _Compiler(compiled, _Variables(coerced)).root()
        except GraphQLError:
            continue
    return compiled


@dataclass(frozen=True)
class _Variables:
    """A stand-in for graphql-core's VariableValues holding only the directives' variables."""

    coerced: dict[str, Any]


class _DirectiveVariableFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_directive(self, node: Any, *_: object) -> None:
        for argument in node.arguments or ():
            if isinstance(argument.value, VariableNode):
                name = argument.value.name.value
                if name not in self.names:
                    self.names.append(name)


def _directive_variables(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> tuple[str, ...]:
    finder = _DirectiveVariableFinder()
    visit(operation, finder)
    for fragment in fragments.values():
        visit(fragment, finder)
    return tuple(finder.names)


class _Compiler:
    def __init__(self, document: CompiledDocument, variables: Any) -> None:
        self.document = document
        self.schema = document.schema
        self.variables = variables

    def root(self) -> Plan:
        root_type = self.schema.query_type
        if root_type is None:
            raise NotCompilable("no query type")
        nodes = self._collect(root_type, [self.document.operation.selection_set])
        return Plan(fields=self._fields(root_type, nodes), root_type=root_type)

    def _include(self, node: Any) -> bool:
        if not node.directives:
            return True
        for directive in node.directives:
            if directive.name.value not in {"skip", "include"}:
                raise NotCompilable(f"the directive @{directive.name.value}")
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and include.get("if") is False)

    def _applies(self, condition: Any, object_type: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        type_ = self.schema.get_type(condition.name.value)
        if type_ is object_type:
            return True
        if type_ is not None and is_abstract_type(type_):
            return self.schema.is_sub_type(type_, object_type)
        return False

    def _collect(
        self, object_type: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """Fields by response key, in document order, as graphql-core's collect_fields does."""
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def collect(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self._include(selection):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._applies(selection.type_condition, object_type):
                        collect(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    if getattr(selection, "arguments", None):
                        raise NotCompilable("a fragment spread with arguments")
                    name = selection.name.value
                    if name in visited:
                        continue
                    visited.add(name)
                    fragment = self.document.fragments.get(name)
                    if fragment is None:
                        raise NotCompilable(f"an unknown fragment {name}")
                    if self._applies(fragment.type_condition, object_type):
                        collect(fragment.selection_set)
                else:
                    raise NotCompilable("an unknown kind of selection")

        for selection_set in selection_sets:
            collect(selection_set)
        return fields

    def _fields(
        self, object_type: GraphQLObjectType, grouped: dict[str, list[FieldNode]]
    ) -> list[FieldPlan]:
        return [self._field(object_type, key, nodes) for key, nodes in grouped.items()]

    def _field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        name = nodes[0].name.value
        if name == "__typename":
            return FieldPlan(
                key=key, parent_type=parent, nodes=nodes, gql_field=None, completion=None
            )
        if name.startswith("__"):
            raise NotCompilable(f"introspection ({name})")
        gql_field = parent.fields.get(name)
        if gql_field is None:
            raise NotCompilable(f"an unknown field {parent.name}.{name}")
        sfield: StrawberryField | None = (gql_field.extensions or {}).get(DEFINITION)
        if sfield is None:
            raise NotCompilable(f"{parent.name}.{name} has no Strawberry definition")
        plan = FieldPlan(
            key=key,
            parent_type=parent,
            nodes=nodes,
            gql_field=gql_field,
            completion=self._completion(gql_field.type, nodes),
            strawberry_field=sfield,
            is_async=bool(sfield.is_async),
        )
        extensions = list(sfield.extensions)
        if any(not isinstance(extension, PermissionExtension) for extension in extensions):
            raise NotCompilable(f"{parent.name}.{name} has a field extension")
        if len(extensions) > 1:
            raise NotCompilable(f"{parent.name}.{name} has several field extensions")
        if extensions:
            permissions = cast("PermissionExtension", extensions[0])
            if permissions.fail_silently:
                raise NotCompilable(f"{parent.name}.{name} fails silently")
            plan.permissions = permissions
        resolver = sfield.base_resolver
        if resolver is None:
            if extensions:
                raise NotCompilable(f"{parent.name}.{name}: permissions on an attribute")
            plan.attribute = sfield.python_name
            if gql_field.args or nodes[0].arguments:
                raise NotCompilable(f"{parent.name}.{name}: arguments on an attribute")
            if plan.completion is not None and plan.completion.leaf is not None:
                plan.serialize = _serializer(plan.completion.leaf)
                plan.non_null = plan.completion.non_null
            return plan
        if not is_context_only(parent.name, name):
            raise NotCompilable(f"{parent.name}.{name} is not declared context-only")
        plan.resolver = cast("Callable[..., Any]", resolver.wrapped_func)
        plan.self_argument = resolver.self_parameter is not None
        root = resolver.root_parameter or resolver.parent_parameter
        plan.root_name = root.name if root is not None else None
        plan.info_name = resolver.info_parameter.name if resolver.info_parameter else None
        if not _uses_variables(nodes[0]):
            raw = get_argument_values(gql_field, nodes[0], None)
            plan.static_kwargs = self._convert(sfield, raw)
        return plan

    def _convert(self, sfield: StrawberryField, raw: dict[str, Any]) -> dict[str, Any]:
        if not sfield.arguments:
            return {}
        converted: dict[str, Any] = convert_arguments(
            raw,
            sfield.arguments,
            scalar_registry=self.document.scalar_registry,
            config=self.document.config,
            info=None,
        )
        return converted

    def _completion(self, type_: GraphQLOutputType, nodes: list[FieldNode]) -> Completion:
        non_null = is_non_null_type(type_)
        inner: Any = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if is_list_type(inner):
            return Completion(non_null=non_null, item=self._completion(inner.of_type, nodes))
        if is_leaf_type(inner):
            return Completion(non_null=non_null, leaf=inner)
        if is_object_type(inner):
            sets = [node.selection_set for node in nodes if node.selection_set is not None]
            grouped = self._collect(inner, sets)
            return Completion(
                non_null=non_null, object_type=inner, fields=self._fields(inner, grouped)
            )
        if is_abstract_type(inner):
            if inner.resolve_type is None:
                raise NotCompilable(f"the abstract type {inner} has no resolve_type")
            by_type = {
                object_type.name: self._completion(GraphQLNonNull(object_type), nodes)
                for object_type in self.schema.get_possible_types(inner)
            }
            return Completion(non_null=non_null, abstract=inner, by_type=by_type)
        raise NotCompilable(f"the type {inner}")


_INT_RANGE = range(-(2**31), 2**31)


def _serializer(leaf: Any) -> Callable[[Any], Any]:
    """The leaf type's output coercion, with the values it returns unchanged (a str for String
    and ID, a bool for Boolean, a 32-bit int for Int) passed through without the call."""
    coerce: Callable[[Any], Any] = leaf.coerce_output_value
    name = leaf.name
    if name in {"String", "ID"}:
        return lambda value: value if type(value) is str else coerce(value)
    if name == "Boolean":
        return lambda value: value if type(value) is bool else coerce(value)
    if name == "Int":
        return lambda value: value if type(value) is int and value in _INT_RANGE else coerce(value)
    return coerce


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), dict, list, tuple})


def _is_awaitable(value: Any) -> bool:
    return type(value) not in _PLAIN_TYPES and isawaitable(value)


def _uses_variables(node: FieldNode) -> bool:
    def has_variable(value: ValueNode) -> bool:
        if isinstance(value, VariableNode):
            return True
        values = getattr(value, "values", None)
        if values is not None:
            return any(has_variable(v) for v in values)
        fields = getattr(value, "fields", None)
        if fields is not None:
            return any(has_variable(f.value) for f in fields)
        return False

    return any(has_variable(argument.value) for argument in node.arguments or ())


@dataclass(frozen=True)
class _TypeResolution:
    """What an abstract type's resolve_type reads from graphql-core's info."""

    schema: GraphQLSchema
    field_name: str
    parent_type: GraphQLObjectType


class Execution:
    """One request's run of a plan: graphql-core's algorithm over the precomputed plan."""

    __slots__ = ("compiled", "context", "errors", "variables")

    def __init__(self, compiled: CompiledDocument, context: Any, variables: VariableValues) -> None:
        self.compiled = compiled
        self.context = context
        self.variables = variables
        self.errors = CollectedErrors()

    async def run(self, plan: Plan) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
        try:
            data: Any = self.fields(plan.fields, None, None)
            if _is_awaitable(data):
                data = await data
        except GraphQLError as error:  # a non-null root field failed
            self.errors.add(error, None)
            return None, self.errors.errors
        return data, self.errors.errors

    def fields(
        self, plans: list[FieldPlan], source: Any, path: Path | None
    ) -> dict[str, Any] | Awaitable[dict[str, Any]]:
        results: dict[str, Any] = {}
        awaitable_keys: list[str] = []
        try:
            for plan in plans:
                serialize = plan.serialize
                if serialize is not None:  # a leaf attribute: no path unless it fails
                    value = getattr(source, plan.attribute)  # type: ignore[arg-type]
                    if value is not None:
                        try:
                            results[plan.key] = serialize(value)
                            continue
                        except Exception:  # noqa: BLE001, S110 (the general path reports it)
                            pass
                    elif not plan.non_null:
                        results[plan.key] = None
                        continue
                result = self.field(plan, source, Path(path, plan.key, plan.parent_type.name))
                results[plan.key] = result
                if _is_awaitable(result):
                    awaitable_keys.append(plan.key)
        except Exception:
            for key in awaitable_keys:
                _close(results[key])
            raise
        if not awaitable_keys:
            return results

        async def gather() -> dict[str, Any]:
            if len(awaitable_keys) == 1:
                key = awaitable_keys[0]
                results[key] = await results[key]
            else:
                awaited = await gather_with_cancel(*(results[key] for key in awaitable_keys))
                results.update(zip(awaitable_keys, awaited, strict=True))
            return results

        return gather()

    def field(self, plan: FieldPlan, source: Any, path: Path) -> Any:
        if plan.gql_field is None:
            return plan.parent_type.name
        completion = cast("Completion", plan.completion)
        try:
            if plan.attribute is not None:
                value = getattr(source, plan.attribute)
            else:
                value = self.call(plan, source)
            if _is_awaitable(value):
                return self.complete_awaited(plan, completion, value, path)
            completed = self.complete(plan, completion, value, path)
            if _is_awaitable(completed):
                return self.await_completed(plan, completion, completed, path)
        except Exception as raw_error:  # noqa: BLE001 (every error is the field's, as in graphql-core)
            self.field_error(raw_error, plan, completion, path)
            return None
        return completed

    def call(self, plan: FieldPlan, source: Any) -> Any:
        sfield = cast("StrawberryField", plan.strawberry_field)
        if plan.static_kwargs is not None:
            kwargs = dict(plan.static_kwargs)
        else:
            raw = get_argument_values(
                cast("GraphQLField", plan.gql_field), plan.nodes[0], self.variables
            )
            kwargs = convert_arguments(
                raw,
                sfield.arguments,
                scalar_registry=self.compiled.scalar_registry,
                config=self.compiled.config,
                info=None,
            )
        info: Any = CompiledInfo(
            self.context,
            plan.key,
            sfield.python_name,
            plan.nodes,
            self.compiled.fragments,
            self.variables,
        )
        resolver = cast("Callable[..., Any]", plan.resolver)
        self_argument = plan.self_argument
        root_name = plan.root_name
        info_name = plan.info_name

        def call_resolver(_source: Any, _info: Any, **arguments: Any) -> Any:
            if root_name is not None:
                arguments[root_name] = _source
            if info_name is not None:
                arguments[info_name] = _info
            if self_argument:
                return resolver(_source, **arguments)
            return resolver(**arguments)

        if plan.permissions is not None:
            if plan.is_async:
                return plan.permissions.resolve_async(call_resolver, source, info, **kwargs)
            return plan.permissions.resolve(call_resolver, source, info, **kwargs)
        return call_resolver(source, info, **kwargs)

    async def complete_awaited(
        self, plan: FieldPlan, completion: Completion, value: Awaitable[Any], path: Path
    ) -> Any:
        try:
            completed = self.complete(plan, completion, await value, path)
            if _is_awaitable(completed):
                return await completed
        except Exception as raw_error:  # noqa: BLE001
            self.field_error(raw_error, plan, completion, path)
            return None
        return completed

    async def await_completed(
        self, plan: FieldPlan, completion: Completion, completed: Awaitable[Any], path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:  # noqa: BLE001
            self.field_error(raw_error, plan, completion, path)
            return None

    def field_error(
        self, raw_error: Exception, plan: FieldPlan, completion: Completion, path: Path
    ) -> None:
        """Null in place of the failed value, its error recorded; or, at a non-null position,
        the error raised on to the parent (graphql-core's handle_field_error)."""
        error = located_error(raw_error, plan.nodes, path.as_list())
        if completion.non_null:
            raise error
        self.errors.add(error, path)

    def complete(self, plan: FieldPlan, completion: Completion, value: Any, path: Path) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None:
            if completion.non_null:
                raise TypeError(
                    "Cannot return null for non-nullable field "
                    f"{plan.parent_type.name}.{plan.nodes[0].name.value}."
                )
            return None
        if completion.leaf is not None:
            coerced = completion.leaf.coerce_output_value(value)
            if coerced is None:
                raise TypeError(
                    f"Expected `{inspect(completion.leaf)}.coerce_output_value("
                    f"{inspect(value)})` to return non-nullable value, returned: None"
                )
            return coerced
        if completion.item is not None:
            return self.complete_list(plan, completion.item, value, path)
        if completion.abstract is not None:
            return self.complete_abstract(plan, completion, value, path)
        object_type = cast("GraphQLObjectType", completion.object_type)
        is_type_of: Any = object_type.is_type_of
        if is_type_of is not None and not is_type_of(value, None):
            raise GraphQLError(
                f"Expected value of type '{object_type.name}' but got: {inspect(value)}.",
                plan.nodes,
            )
        return self.fields(cast("list[FieldPlan]", completion.fields), value, path)

    def complete_abstract(
        self, plan: FieldPlan, completion: Completion, value: Any, path: Path
    ) -> Any:
        """The object type the abstract type's resolve_type names, completed by its plan."""
        abstract = completion.abstract
        info = _TypeResolution(self.compiled.schema, plan.nodes[0].name.value, plan.parent_type)
        name = abstract.resolve_type(value, info, abstract)
        if _is_awaitable(name):

            async def resolved() -> Any:
                return self.complete_runtime(plan, completion, value, path, await name)

            return resolved()
        return self.complete_runtime(plan, completion, value, path, name)

    def complete_runtime(
        self, plan: FieldPlan, completion: Completion, value: Any, path: Path, name: Any
    ) -> Any:
        by_type = cast("dict[str, Completion]", completion.by_type)
        runtime = by_type.get(name) if isinstance(name, str) else None
        if runtime is None:
            raise GraphQLError(
                f"Runtime Object type '{inspect(name)}' is not a possible"
                f" type for '{completion.abstract}'.",
                plan.nodes,
            )
        return self.complete(plan, runtime, value, path)

    def complete_list(self, plan: FieldPlan, item: Completion, values: Any, path: Path) -> Any:
        if isinstance(values, str) or not hasattr(values, "__iter__"):
            raise GraphQLError(
                "Expected Iterable, but did not find one for field"
                f" '{plan.parent_type.name}.{plan.nodes[0].name.value}'."
            )
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        for index, value in enumerate(values):
            item_path = path.add_key(index, None)
            try:
                if _is_awaitable(value):
                    result: Any = self.complete_awaited(plan, item, value, item_path)
                else:
                    result = self.complete(plan, item, value, item_path)
                    if _is_awaitable(result):
                        result = self.await_completed(plan, item, result, item_path)
            except Exception as raw_error:  # noqa: BLE001
                self.field_error(raw_error, plan, item, item_path)
                result = None
            if _is_awaitable(result):
                awaitable_indices.append(index)
            completed.append(result)
        if not awaitable_indices:
            return completed

        async def gather() -> list[Any]:
            if len(awaitable_indices) == 1:
                index = awaitable_indices[0]
                completed[index] = await completed[index]
            else:
                awaited = await gather_with_cancel(*(completed[i] for i in awaitable_indices))
                for index, result in zip(awaitable_indices, awaited, strict=True):
                    completed[index] = result
            return completed

        return gather()


def _close(awaitable: Any) -> None:
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()
