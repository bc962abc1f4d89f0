"""GitHub's GraphQL contract for the fake: GitHub's schema, and the operations ghapp sends.

Every GraphQL request is parsed and validated by graphql-core against GitHub's public schema
(`@octokit/graphql-schema`, fetched into `.cache/`), its variables coerced to their declared
types, and its root fields held up against `ALLOWED`: the operation shapes ghapp uses, each
with the input fields it may carry. A request that GitHub would refuse gets GitHub's answer
(HTTP 200 with an `errors` list and no `data`); a valid request outside the allow-list is a
gap in the fake and is refused the same way. Accepted requests are executed by graphql-core
against the same schema (`execute`), so an answer holds exactly the fields the query selected,
typed as GitHub types them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    execute_sync,
    parse,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values


@dataclass(frozen=True)
class Shape:
    """One root field ghapp uses, and the input object fields it may send."""

    operation: str  # "mutation" | "query"
    input_fields: frozenset[str] = frozenset()


ALLOWED: dict[str, Shape] = {
    # mention-reply answers in a discussion (threaded under the comment when it has one).
    "addDiscussionComment": Shape(
        "mutation", frozenset({"discussionId", "replyToId", "body", "clientMutationId"})
    ),
    # mention-reply's 👀 on a discussion or discussion comment.
    "addReaction": Shape("mutation", frozenset({"subjectId", "content", "clientMutationId"})),
    # mention-reply reads a discussion's recent comments (`node(id:) { ... on Discussion }`).
    "node": Shape("query"),
    # release-publish reads the authors (co-authors included) of merged pull requests' commits.
    "repository": Shape("query"),
}


@dataclass(frozen=True)
class Accepted:
    """A request GitHub would run: its parsed document, operation and coerced variables."""

    document: DocumentNode
    operation: OperationDefinitionNode
    variables: dict[str, Any]  # as sent; graphql-core coerces them again when it executes
    root_fields: tuple[str, ...]


@dataclass(frozen=True)
class Refused:
    """GitHub's answer to a GraphQL request it will not run, and why (for the test)."""

    errors: list[dict[str, Any]]
    detail: str
    kind: str  # "graphql-invalid" | "graphql-not-allowed"

    def body(self) -> dict[str, Any]:
        return {"errors": self.errors}


def _error(error: GraphQLError, error_type: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"message": error.message}
    if error_type:
        found["type"] = error_type
    if error.locations:
        found["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        found["path"] = list(error.path)
    return found


@functools.cache
def github_schema() -> GraphQLSchema:
    """GitHub's public GraphQL schema, built once per process (a few seconds)."""
    from tests.support.octokit import graphql_schema_sdl

    # GitHub's SDL defines a few fields twice (e.g. EnterpriseOwnerInfo); GitHub serves it as
    # is, so it is read without the SDL validation that would reject it.
    return build_schema(graphql_schema_sdl(), assume_valid_sdl=True)


def check(query: Any, variables: Any, operation_name: Any = None) -> Accepted | Refused:
    """Whether GitHub would run this request, and whether ghapp is allowed to send it."""
    schema = github_schema()
    if not isinstance(query, str):
        error = GraphQLError("A query attribute must be specified and must be a string.")
        return Refused([_error(error)], "no query string", "graphql-invalid")
    if variables is not None and not isinstance(variables, dict):
        error = GraphQLError("Variables must be an object")
        return Refused([_error(error)], "variables are not an object", "graphql-invalid")
    try:
        document = parse(query)
    except GraphQLError as exc:
        return Refused([_error(exc)], f"does not parse: {exc.message}", "graphql-invalid")
    problems = validate(schema, document)
    if problems:
        return Refused(
            [_error(p) for p in problems],
            "; ".join(p.message for p in problems),
            "graphql-invalid",
        )
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        op
        for op in operations
        if operation_name is None or (op.name and op.name.value == operation_name)
    ]
    if len(chosen) != 1:
        error = GraphQLError("An operation name is required when the document has several.")
        return Refused([_error(error)], error.message, "graphql-invalid")
    operation = chosen[0]
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        return Refused(
            [_error(e) for e in coerced],
            "; ".join(e.message for e in coerced),
            "graphql-invalid",
        )
    refusal = _outside_allow_list(schema, operation, coerced)
    if refusal is not None:
        return refusal
    fields = tuple(
        s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)
    )
    return Accepted(document, operation, dict(variables or {}), fields)


def _outside_allow_list(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> Refused | None:
    kind = operation.operation.value
    root = schema.mutation_type if kind == "mutation" else schema.query_type
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return _not_allowed(f"a fragment at the root of a {kind}")
        name = selection.name.value
        shape = ALLOWED.get(name)
        if shape is None or shape.operation != kind or root is None:
            return _not_allowed(f"{kind} field {name!r}")
        arguments = get_argument_values(root.fields[name], selection, variables)
        given = arguments.get("input")
        if isinstance(given, Mapping):
            extra = sorted(set(given) - shape.input_fields)
            if extra:
                return _not_allowed(f"{name} with input field(s) {', '.join(extra)}")
    return None


def _not_allowed(what: str) -> Refused:
    message = f"The fake GitHub does not implement {what}; ghapp is not expected to send it."
    return Refused(
        [{"message": message, "type": "NOT_IMPLEMENTED"}], message, "graphql-not-allowed"
    )


class ResolverError(GraphQLError):
    """Raised by the fake's resolvers with GitHub's error `type` (NOT_FOUND, ...)."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def execute(accepted: Accepted, root: Mapping[str, Callable[..., Any]]) -> dict[str, Any]:
    """Run an accepted request against GitHub's schema with the fake's resolvers as `root`."""
    result = execute_sync(
        github_schema(),
        accepted.document,
        root_value=root,
        variable_values=accepted.variables,
        operation_name=accepted.operation.name.value if accepted.operation.name else None,
    )
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [
            _error(e, getattr(e.original_error, "error_type", None)) for e in result.errors
        ]
    return body
