"""Recorded GitHub traffic: the shared vcrpy configuration and the cassette conformance checker.

This module owns two things about `tests/cassettes/`:

- `VCR_CONFIG`, what every test's `vcr_config` fixture returns, so that cassettes never hold a
  credential, replay without re-minting tokens and match requests the same way everywhere;
- `check_cassette(path)`, which holds every recorded GitHub response up against GitHub's REST
  description (`@octokit/openapi`): the status must be one the operation documents (or one
  GitHub answers anywhere: 304, 401, 403 for an App's permission or a rate limit, 404, 429,
  5xx), an error body must fit the schema documented for its status, and a success body must
  fit githubkit's response model for that route. A cassette edited by hand, or recorded
  against a fake server that answers in a made-up shape, would otherwise let a test pass
  against data GitHub never sends.
"""

from __future__ import annotations

import datetime
import functools
import importlib
import json
import re
import sys
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pydantic
from githubkit import GitHub, GitHubCore
from githubkit.response import Response
from vcr.request import Request
from vcr.serialize import deserialize
from vcr.serializers import yamlserializer

from tests.support.fake_github.contract import rest_contract

# --------------------------------------------------------------------------------------------
# Recording configuration
# --------------------------------------------------------------------------------------------

# Installation (ghs_), user-to-server (ghu_), OAuth (gho_), refresh (ghr_) and personal (ghp_)
# tokens. Keeping the prefix keeps the cassette readable and the replayed token well-formed.
_TOKEN_RE = re.compile(rb"\b(gh[suorp])_[A-Za-z0-9_]+")
_FAR_FUTURE = "2099-01-01T00:00:00Z"
_AUTH_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


def cassette_dir() -> Path:
    """Where every recorded cassette lives: `tests/cassettes/`."""
    return Path(__file__).resolve().parents[1] / "cassettes"


def scrub_body(body: bytes) -> bytes:
    """Filter GitHub tokens out of a response body and push token expiry far into the future.

    An access-token response (`{"token": ..., "expires_at": ...}`) recorded today would be
    expired at replay time, and githubkit would then try to mint a new one mid-test.
    """
    body = _TOKEN_RE.sub(rb"\1_FILTERED", body)
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, dict) and "token" in data and "expires_at" in data:
        data["expires_at"] = _FAR_FUTURE
        return json.dumps(data).encode()
    return body


def _before_record_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {}).get("string")
    if isinstance(body, str):
        body = body.encode()
    if body:
        scrubbed = scrub_body(body)
        response["body"]["string"] = scrubbed
        headers: dict[str, Any] = response.get("headers", {})
        for name in list(headers):
            if name.lower() == "content-length":
                headers[name] = [str(len(scrubbed))]
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() == "set-cookie":
            del headers[name]
    return response


def _before_record_request(request: Request) -> Request:
    for name in list(request.headers):
        if name.lower() in _AUTH_HEADERS:
            del request.headers[name]
    return request


VCR_CONFIG: dict[str, Any] = {
    "filter_headers": ["authorization", "cookie", "proxy-authorization"],
    # Otherwise gzip bodies are stored as !!binary: unreadable and unscrubbable.
    "decode_compressed_response": True,
    "before_record_request": _before_record_request,
    "before_record_response": _before_record_response,
    # GETs carry no body, so the body matcher only tells writes apart (JSON key order ignored).
    "match_on": ["method", "scheme", "host", "port", "path", "query", "body"],
}

# --------------------------------------------------------------------------------------------
# OpenAPI route matching
# --------------------------------------------------------------------------------------------

# Traffic that is not part of the REST description (the OAuth web flow on github.com, and
# GraphQL, which discussions need: one route whose answers have no REST model).
_NOT_REST_PREFIXES = ("/login/oauth/", "/graphql")


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    operation_id: str


@functools.cache
def match_route(method: str, path: str) -> Route | None:
    """The OpenAPI operation for a request path (GHES's `/api/v3` and, for release asset
    uploads, `/api/uploads` prefixes are ignored). The fake GitHub routes by the same index."""
    path = path.removeprefix("/api/v3").removeprefix("/api/uploads")
    found = rest_contract().route(method, path)
    if found is None:
        return None
    operation = found[0]
    return Route(operation.method, operation.template, operation.operation_id)


# --------------------------------------------------------------------------------------------
# githubkit response models
# --------------------------------------------------------------------------------------------


@functools.cache
def _github() -> GitHub[Any]:
    # `.rest` holds its client weakly: this cached object keeps the namespaces alive.
    return GitHub()


class _LazyNames(Mapping[str, Any]):
    """Names githubkit's generated clients import only under TYPE_CHECKING."""

    def __init__(self, package: str) -> None:
        self._models = importlib.import_module(f"{package}.models")
        self._types = importlib.import_module(f"{package}.types")
        self._fixed: dict[str, Any] = {
            "Response": Response,
            "GitHubCore": GitHubCore,
            "_dt": datetime,
            "Union": typing.Union,
            "Literal": typing.Literal,
        }

    def __getitem__(self, name: str) -> Any:
        if name in self._fixed:
            return self._fixed[name]
        for module in (self._models, self._types):
            try:
                return getattr(module, name)
            except AttributeError:
                continue
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._fixed)

    def __len__(self) -> int:
        return len(self._fixed)


def _doc_keys(method: Callable[..., Any]) -> tuple[str, str]:
    """(operationId, "METHOD /template") from a generated method's docstring, or ("", "")."""
    lines = [line.strip() for line in (method.__doc__ or "").splitlines() if line.strip()]
    return (lines[0], lines[1]) if len(lines) >= 2 else ("", "")


def _index(methods: dict[str, Callable[..., Any]], key: str, member: Callable[..., Any]) -> None:
    # Prefer the async twin: its annotation is the same, and it is what the app calls.
    if key and (key not in methods or member.__name__.startswith("async_")):
        methods[key] = member


def _public_methods(client: object) -> Iterator[Callable[..., Any]]:
    for name, member in vars(type(client)).items():
        if not name.startswith("_") and callable(member):
            yield member


@functools.cache
def _methods_by_operation(namespace: str) -> dict[str, Callable[..., Any]]:
    """githubkit methods of one REST namespace, keyed by the operationId in their docstring."""
    client = getattr(_github().rest, namespace, None)
    methods: dict[str, Callable[..., Any]] = {}
    for member in _public_methods(client) if client is not None else ():
        _index(methods, _doc_keys(member)[0], member)
    return methods


@functools.cache
def _methods_by_route() -> dict[str, Callable[..., Any]]:
    """Every githubkit REST method keyed by "METHOD /template" (imports all namespaces).

    The fallback for operationIds renamed upstream after githubkit's schema snapshot
    (`repos/compare-commits` became `repos/compare-commits-with-basehead`, same route).
    """
    rest = _github().rest()  # the versioned namespace behind the switcher
    methods: dict[str, Callable[..., Any]] = {}
    for name, attribute in vars(type(rest)).items():
        if name.startswith("_") or not isinstance(attribute, functools.cached_property):
            continue
        for member in _public_methods(getattr(rest, name)):
            _index(methods, _doc_keys(member)[1], member)
    return methods


@functools.cache
def _names_for(module_name: str) -> _LazyNames:
    package = module_name.rsplit(".rest.", 1)[0]
    return _LazyNames(package)


class NoModel(LookupError):
    """githubkit has no method, or no response model, for an operation."""


@functools.cache
def response_adapter(route: Route) -> pydantic.TypeAdapter[Any]:
    """A TypeAdapter for githubkit's success model of `route` (built once per route)."""
    namespace, _, _ = route.operation_id.partition("/")
    method = _methods_by_operation(namespace.replace("-", "_")).get(route.operation_id)
    if method is None:
        method = _methods_by_route().get(f"{route.method} {route.template}")
    if method is None:
        raise NoModel(f"githubkit 0.16.1 has no REST method for {route.operation_id}")
    module = sys.modules[method.__module__]

    # Only the return annotation is evaluated: parameter annotations name upload and body
    # types that are not worth importing (and some are not importable at all).
    def shell() -> None: ...

    shell.__annotations__ = {"return": method.__annotations__.get("return")}
    hints = typing.get_type_hints(shell, globalns=vars(module), localns=_names_for(module.__name__))
    returned = hints.get("return")
    args = typing.get_args(returned)
    if typing.get_origin(returned) is not Response or not args or args[0] is type(None):
        raise NoModel(f"githubkit's {method.__qualname__} declares no response model")
    return pydantic.TypeAdapter(args[0])


# --------------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------------


def _header(headers: Mapping[str, Any], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list) and value else value)
    return ""


def _body_bytes(response: Mapping[str, Any]) -> bytes:
    body = (response.get("body") or {}).get("string")
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else bytes(body)


def _short(error: pydantic.ValidationError, limit: int = 10) -> str:
    lines = [
        f"  {'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}"
        for e in error.errors()[:limit]
    ]
    if error.error_count() > limit:
        lines.append(f"  ... {error.error_count() - limit} more")
    return "\n".join(lines)


# Statuses GitHub may answer on any operation whether or not its description lists them:
# a conditional GET's 304, bad credentials (401), a record that does not exist or that the
# token may not see (404: the description leaves it out of many operations, e.g. reacting to
# a deleted comment), an App's missing permission or a rate limit (403/429), and the server
# errors of an outage.
_ANY_OPERATION = frozenset({401, 404, 429, 500, 502, 503, 504})
_NOT_ACCESSIBLE = "Resource not accessible by integration"


def _undocumented_but_possible(
    method: str, status: int, headers: Mapping[str, Any], data: Any
) -> bool:
    if status in _ANY_OPERATION or (status == 304 and method in ("GET", "HEAD")):
        return True
    if status != 403:
        return False
    message = data.get("message") if isinstance(data, dict) else None
    limited = _header(headers, "x-ratelimit-remaining") == "0" or _header(headers, "retry-after")
    return message == _NOT_ACCESSIBLE or bool(limited)


def _schema_problems(pointer: str, data: Any, limit: int = 10) -> str | None:
    validator = rest_contract().validator(pointer, response=True)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    lines = [
        f"  {'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
        for e in errors[:limit]
    ]
    return "\n".join(lines)


def check_interaction(request: Request, response: Mapping[str, Any]) -> str | None:
    """What is wrong with one recorded exchange, or None when it conforms."""
    url = urlsplit(request.uri)
    path = url.path
    status = int(response["status"]["code"])
    headers = response.get("headers") or {}
    body = _body_bytes(response)
    where = f"{request.method} {path} -> {status}"

    if status in (204, 304) and body:
        return f"{where}: a {status} must have no body, got {len(body)} bytes"
    if path.removeprefix("/api/v3").startswith(_NOT_REST_PREFIXES):
        return None
    data: Any = None
    is_json = "json" in _header(headers, "content-type") and bool(body)
    if is_json:
        try:
            data = json.loads(body)
        except ValueError as exc:
            return f"{where}: JSON content-type but the body does not parse: {exc}"

    route = match_route(request.method, path)
    if route is None:
        if not is_json and status < 400:
            return None  # a web page or download link (the fake's artifact redirect target)
        return f"{where}: no route in {'@octokit/openapi'} matches this path"
    where = f"{where} ({route.operation_id}, {route.method} {route.template})"
    contract = rest_contract()
    operation = contract.operations[route.operation_id]
    documented = str(status) in operation.responses
    if not documented and not _undocumented_but_possible(request.method, status, headers, data):
        listed = ", ".join(sorted(operation.responses))
        return f"{where}: GitHub does not document {status} for this operation (only {listed})"
    if status in (204, 304) or not is_json:
        return None  # raw/diff media types and redirects are not modelled
    if status >= 400:
        pointer = contract.response_schema_ref(operation, status) if documented else None
        problems = _schema_problems(pointer or "components/schemas/basic-error", data)
        if problems is not None:
            return f"{where}: error body does not fit GitHub's documented schema:\n{problems}"
        return None
    try:
        adapter = response_adapter(route)
    except NoModel as exc:
        return f"{where}: {exc}"
    try:
        adapter.validate_python(data)
    except pydantic.ValidationError as exc:
        return f"{where}: body does not fit githubkit's model:\n{_short(exc)}"
    return None


def load_cassette(path: Path) -> list[tuple[Request, dict[str, Any]]]:
    """The (request, response) pairs of a vcrpy YAML cassette, via vcrpy's own deserializer."""
    # vcrpy returns (requests, responses) or, with recorded metadata, a third item.
    loaded = deserialize(path.read_text(encoding="utf-8"), yamlserializer)
    return list(zip(loaded[0], loaded[1], strict=True))


def check_cassette(path: Path) -> list[str]:
    """Every conformance problem in one cassette file, each naming file, interaction and route."""
    try:
        interactions = load_cassette(path)
    except Exception as exc:  # a corrupt cassette is a finding, not a crash
        return [f"{path}: cannot be read as a vcrpy cassette: {exc!r}"]
    problems: list[str] = []
    for index, (request, response) in enumerate(interactions):
        problem = check_interaction(request, response)
        if problem is not None:
            problems.append(f"{path} interaction #{index}: {problem}")
    return problems


def all_cassettes(root: Path | None = None) -> list[Path]:
    """Every YAML cassette under `root` (default `tests/cassettes/`), recursively, sorted."""
    base = root or cassette_dir()
    return sorted(p for p in base.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


__all__ = [
    "VCR_CONFIG",
    "NoModel",
    "Route",
    "all_cassettes",
    "cassette_dir",
    "check_cassette",
    "check_interaction",
    "load_cassette",
    "match_route",
    "response_adapter",
    "scrub_body",
]
