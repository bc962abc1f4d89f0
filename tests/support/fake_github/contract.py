"""GitHub's REST contract: which API requests GitHub accepts, and how it refuses the others.

The fake holds every REST request up against `@octokit/openapi`'s description of
api.github.com before a handler sees it. This module owns that check: the route index (which
operation a method and path name), and the validation of the path parameters, query
parameters and JSON body against the operation's schemas. Validation is jsonschema's, through
openapi-schema-validator's OpenAPI 3.0 dialect, with `$ref`s resolved by `referencing` inside
the description; nothing here knows a particular route.

The description's quirks are handled here once:

- GitHub writes `nullable: true` beside `oneOf`/`anyOf` (OpenAPI 3.0.3 only honours it beside
  `type`); GitHub's servers accept `null` there, so the dialect does too.
- Path parameters such as `{path}` (contents) and `{basehead}` (compare) may hold slashes: a
  path that matches no template segment by segment is tried again with the last parameter
  taking the rest of the path.
- The fake serves REST under GitHub Enterprise's `/api/v3` and release uploads under
  `/api/uploads`; callers strip those prefixes. Only operations whose `servers` name the
  uploads host are reachable there.
- Web routes (`/login/oauth/...`, the manifest forms) and GraphQL are not REST: callers do
  not bring them here.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import ValidationError
from jsonschema.validators import extend
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_URI = "urn:octokit:openapi:api.github.com"
REST_DOCS = "https://docs.github.com/rest"
_PARAM = re.compile(r"\{([^/{}]+)\}")
_NAME_PARAMS = frozenset({"owner", "repo", "org", "username", "enterprise", "team_slug"})


def _nullable_composition(keyword: Any) -> Any:
    """Wrap a `oneOf`/`anyOf`/`allOf` keyword so that `nullable: true` beside it admits null."""

    def check(validator: Any, value: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
        if instance is None and schema.get("nullable") is True:
            return
        yield from keyword(validator, value, instance, schema)

    return check


def _dialect(base: Any) -> Any:
    return extend(
        base,
        {
            name: _nullable_composition(base.VALIDATORS[name])
            for name in ("oneOf", "anyOf", "allOf")
        },
    )


# Requests are checked with the write dialect (readOnly properties may not be sent), recorded
# responses with the read dialect (writeOnly properties may not come back).
RequestValidator = _dialect(OAS30WriteValidator)
ResponseValidator = _dialect(OAS30ReadValidator)


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path" | "query" | "header"
    required: bool
    schema_ref: str  # a JSON pointer into the description, for the validator


@dataclass(frozen=True)
class Operation:
    """One operation of the description, with what a request to it must carry."""

    method: str
    template: str
    operation_id: str
    docs_url: str
    uploads_host: bool
    parameters: tuple[Parameter, ...]
    body_required: bool
    body_schema_ref: str | None  # JSON body schema pointer, None when the body is not JSON
    responses: frozenset[str]  # documented status codes ("200", "404", "default", ...)


@dataclass(frozen=True)
class Refusal:
    """GitHub's answer to a request it does not accept, and why (for the test's report)."""

    kind: str  # unknown-route | wrong-method | bad-path-parameter | bad-query | bad-body
    status: int
    message: str
    detail: str
    docs_url: str = REST_DOCS

    def body(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "documentation_url": self.docs_url,
            "status": str(self.status),
        }


@dataclass(frozen=True)
class Checked:
    """The verdict on one request: its operation (when routed) and the refusal, if any."""

    operation: Operation | None
    params: dict[str, str] = field(default_factory=dict)
    refusal: Refusal | None = None


@dataclass(frozen=True)
class _Template:
    operation: Operation
    strict: re.Pattern[str]
    loose: re.Pattern[str] | None  # the last parameter may hold slashes
    literals: int


def _compile(template: str, *, last_greedy: bool) -> re.Pattern[str]:
    names = _PARAM.findall(template)
    pieces = _PARAM.split(template)
    pattern = ""
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            pattern += re.escape(piece)
        else:
            greedy = last_greedy and piece == names[-1]
            pattern += f"(?P<{_group(piece)}>{'.+' if greedy else '[^/]+'})"
    return re.compile(pattern + r"\Z")


def _group(name: str) -> str:
    # Parameter names like `enterprise-team` are not valid regex group names.
    return "p_" + re.sub(r"\W", "_", name)


class RestContract:
    """The operations of one OpenAPI description, and the check of a request against them."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self.registry: Registry[Any] = Registry().with_resource(
            SPEC_URI, Resource(contents=spec, specification=DRAFT4)
        )
        self.operations: dict[str, Operation] = {}
        self._templates: list[_Template] = []
        for template, item in spec["paths"].items():
            shared = item.get("parameters", [])
            for method, raw in item.items():
                if not isinstance(raw, dict) or "operationId" not in raw:
                    continue
                operation = self._operation(template, method, raw, shared)
                self.operations[operation.operation_id] = operation
                self._templates.append(
                    _Template(
                        operation=operation,
                        strict=_compile(template, last_greedy=False),
                        loose=_compile(template, last_greedy=True)
                        if self._last_may_hold_slashes(operation)
                        else None,
                        literals=sum(1 for s in template.split("/") if s and "{" not in s),
                    )
                )
        # Most literal segments first: `/issues/comments` wins over `/issues/{issue_number}`.
        self._templates.sort(key=lambda t: -t.literals)

    # ------------------------------------------------------------------ the index

    def _resolve(self, node: Any) -> tuple[Any, str | None]:
        """(target, pointer) of a local `$ref`, or (node, None) when it is not one."""
        pointer = None
        while isinstance(node, dict) and "$ref" in node:
            pointer = str(node["$ref"]).removeprefix("#/")
            target: Any = self.spec
            for part in pointer.split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node, pointer

    def _operation(
        self, template: str, method: str, raw: Mapping[str, Any], shared: list[Any]
    ) -> Operation:
        here = ("paths", template, method)
        parameters: list[Parameter] = []
        located = [
            *(
                (entry, _pointer("paths", template, "parameters", str(i)))
                for i, entry in enumerate(shared)
            ),
            *(
                (entry, _pointer(*here, "parameters", str(i)))
                for i, entry in enumerate(raw.get("parameters", []))
            ),
        ]
        for entry, inline in located:
            param, pointer = self._resolve(entry)
            if "schema" not in param:
                continue
            base = pointer or inline
            parameters.append(
                Parameter(
                    name=str(param["name"]),
                    location=str(param["in"]),
                    required=bool(param.get("required")),
                    schema_ref=f"{base}/schema",
                )
            )
        body, body_pointer = self._resolve(raw.get("requestBody") or {})
        body_base = body_pointer or _pointer(*here, "requestBody")
        content = body.get("content") or {}
        json_type = next((t for t in content if "json" in t), None)
        docs = raw.get("externalDocs", {}).get("url") or REST_DOCS
        servers = [str(s.get("url", "")) for s in raw.get("servers", [])]
        return Operation(
            method=method.upper(),
            template=template,
            operation_id=str(raw["operationId"]),
            docs_url=str(docs),
            uploads_host=any("uploads." in s for s in servers),
            parameters=tuple(parameters),
            body_required=bool(body.get("required")),
            body_schema_ref=(
                f"{body_base}/{_pointer('content', json_type, 'schema')}" if json_type else None
            ),
            responses=frozenset(str(k) for k in raw.get("responses", {})),
        )

    def _last_may_hold_slashes(self, operation: Operation) -> bool:
        """Whether the template ends in a text parameter that is not an account or repository
        name (GitHub logins and repository names never hold a slash; file paths, refs and
        `base...head` pairs may)."""
        names = _PARAM.findall(operation.template)
        if not operation.template.endswith("}") or names[-1] in _NAME_PARAMS:
            return False
        last = next((p for p in operation.parameters if p.name == names[-1]), None)
        return last is not None and self._schema_type(last) == "string"

    def route(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation `method path` names (HEAD is GET's), with its raw path parameters."""
        method = "GET" if method.upper() == "HEAD" else method.upper()
        for pass_loose in (False, True):
            for t in self._templates:
                if t.operation.method != method:
                    continue
                pattern = t.loose if pass_loose else t.strict
                found = pattern.match(path) if pattern is not None else None
                if found:
                    names = _PARAM.findall(t.operation.template)
                    return t.operation, {n: found.group(_group(n)) for n in names}
        return None

    def methods_at(self, path: str) -> set[str]:
        """Every method the description has for `path` (empty: GitHub has no such route)."""
        found: set[str] = set()
        for t in self._templates:
            if t.strict.match(path) or (t.loose is not None and t.loose.match(path)):
                found.add(t.operation.method)
        return found

    def response_schema_ref(self, operation: Operation, status: int) -> str | None:
        """Pointer to the JSON schema documented for `status`, None when none is."""
        if str(status) not in operation.responses:
            return None
        raw = self.spec["paths"][operation.template][operation.method.lower()]["responses"]
        response, pointer = self._resolve(raw[str(status)])
        base = pointer or _pointer(
            "paths", operation.template, operation.method.lower(), "responses", str(status)
        )
        media = next((t for t in response.get("content") or {} if "json" in t), None)
        return f"{base}/{_pointer('content', media, 'schema')}" if media else None

    # ------------------------------------------------------------------ validation

    @functools.cache
    def validator(self, pointer: str, *, response: bool = False) -> Any:
        cls = ResponseValidator if response else RequestValidator
        return cls(
            {"$ref": f"{SPEC_URI}#/{pointer}"},
            registry=self.registry,
            format_checker=oas30_format_checker,
        )

    def check(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        body: bytes,
        *,
        uploads_host: bool = False,
    ) -> Checked:
        """Whether GitHub would accept this request (the path without `/api/v3`)."""
        routed = self.route(method, path)
        if routed is None:
            methods = self.methods_at(path)
            if methods:
                return Checked(
                    None,
                    refusal=Refusal(
                        "wrong-method",
                        404,
                        "Not Found",
                        f"GitHub has {', '.join(sorted(methods))} for this path, not {method}",
                    ),
                )
            return Checked(
                None,
                refusal=Refusal("unknown-route", 404, "Not Found", "no such route in the REST API"),
            )
        operation, params = routed
        if uploads_host and not operation.uploads_host:
            return Checked(
                operation,
                params,
                Refusal(
                    "unknown-route",
                    404,
                    "Not Found",
                    f"{operation.operation_id} is not served on the uploads host",
                ),
            )
        refusal = self._check_parameters(operation, params, query) or self._check_body(
            operation, body
        )
        return Checked(operation, params, refusal)

    def _check_parameters(
        self, operation: Operation, params: Mapping[str, str], query: Mapping[str, list[str]]
    ) -> Refusal | None:
        for param in operation.parameters:
            if param.location == "path":
                value = _coerce(params.get(param.name, ""), self._schema_type(param))
                problem = self._first_error(param.schema_ref, value)
                if problem is not None:
                    # GitHub's router never reaches the operation: a plain 404.
                    return Refusal(
                        "bad-path-parameter",
                        404,
                        "Not Found",
                        f"path parameter {param.name}={params.get(param.name)!r}:"
                        f" {problem.message}",
                        operation.docs_url,
                    )
            elif param.location == "query":
                values = query.get(param.name)
                if not values:
                    if param.required:
                        return self._invalid(
                            operation, "bad-query", f'"{param.name}" wasn\'t supplied.'
                        )
                    continue
                kind = self._schema_type(param)
                value: Any = [_coerce(v, "string") for v in values] if kind == "array" else None
                if value is None:
                    value = _coerce(values[-1], kind)
                problem = self._first_error(param.schema_ref, value)
                if problem is not None:
                    return self._invalid(
                        operation,
                        "bad-query",
                        f"For '{param.name}', {problem.message}.",
                    )
        return None

    def _check_body(self, operation: Operation, body: bytes) -> Refusal | None:
        if operation.body_schema_ref is None:
            return None  # no JSON body documented: GitHub ignores one, or it is raw bytes
        if not body.strip():
            if not operation.body_required:
                return None
            instance: Any = {}  # GitHub reads an empty body as an empty object
        else:
            try:
                instance = json.loads(body)
            except ValueError:
                return Refusal(
                    "bad-body",
                    400,
                    "Problems parsing JSON",
                    "the body is not JSON",
                    operation.docs_url,
                )
        errors = sorted(
            self.validator(operation.body_schema_ref).iter_errors(instance),
            key=lambda e: (list(e.absolute_path), str(e.message)),
        )
        if not errors:
            return None
        # One message per place: a null where a string belongs fails `nullable` and `type`.
        last_at = {tuple(e.absolute_path): e for e in errors}
        reasons = [_describe(e) for e in errors if last_at[tuple(e.absolute_path)] is e]
        return self._invalid(operation, "bad-body", " ".join(reasons[:5]))

    def at(self, pointer: str) -> Any:
        """The node at a JSON pointer (without `#/`) in the description, `$ref`s followed."""
        node: Any = self.spec
        for part in pointer.split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            node = node[int(key)] if isinstance(node, list) else node[key]
            node, _ = self._resolve(node)
        return node

    def _schema_type(self, param: Parameter) -> str:
        return str(self.at(param.schema_ref).get("type", "string"))

    def _first_error(self, pointer: str, instance: Any) -> ValidationError | None:
        for error in self.validator(pointer).iter_errors(instance):
            return error
        return None

    @staticmethod
    def _invalid(operation: Operation, kind: str, reason: str) -> Refusal:
        return Refusal(kind, 422, f"Invalid request.\n\n{reason}", reason, operation.docs_url)


def _coerce(raw: str, kind: str) -> Any:
    """A path or query string as the type its schema names (left as text when it is not)."""
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    return raw


def _describe(error: ValidationError) -> str:
    """One schema error in the words GitHub's validator uses."""
    where = "/".join(
        f"items/{p}" if isinstance(p, int) else f"properties/{p}" for p in error.absolute_path
    )
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value or [] if name not in error.instance]
        names = ", ".join(f'"{name}"' for name in missing)
        verb = "wasn't" if len(missing) == 1 else "weren't"
        prefix = f"For '{where}', " if where else ""
        return f"{prefix}{names} {verb} supplied."
    return f"For '{where or 'data'}', {error.message}."


@functools.cache
def rest_contract() -> RestContract:
    """The contract of @octokit/openapi's api.github.com description (built once)."""
    from tests.support.octokit import openapi_spec

    return RestContract(openapi_spec())
