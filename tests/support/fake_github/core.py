"""The fake GitHub itself: state, seeding helpers, authentication and the request pipeline.

Every request goes through `FakeGitHub._handle`: it is recorded, delayed by `latency` and, for
REST, held up against GitHub's description (`contract.py`): a route or method GitHub does not
have is answered 404 at once. Then the first matching `Fault` answers, if any; otherwise the
request is routed, authenticated, checked against the installation's permissions
(`permissions.py`) and, when its parameters or body break the description, answered 422 or 400;
only a request GitHub would accept reaches a handler from `routes_api.py` / `routes_web.py`.
Each such refusal is also written down in `violations`, and the pytest plugin
(`pytest_plugin.py`) fails the test that caused it unless the test took it
(`take_violations`). API answers carry GitHub's rate-limit headers and a weak ETag; a matching
`If-None-Match` turns a GET into a 304 with an empty body.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import ceil
from typing import Any, TypeVar

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import shapes
from .contract import Checked, rest_contract
from .permissions import manifest_permissions, missing_permission
from .state import (
    API_PREFIX,
    GRAPHQL_PATH,
    ROLE_RANK,
    UPLOADS_PREFIX,
    AppIdentity,
    Artifact,
    Commit,
    DiscussionComment,
    HookDelivery,
    Installation,
    InstallationToken,
    Issue,
    IssueComment,
    Label,
    Milestone,
    PullRequest,
    Release,
    Repo,
    ReviewComment,
    User,
    UserToken,
    WorkflowRun,
    fake_sha,
    next_id,
    node_id,
    now,
)

T = TypeVar("T")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
RATE_LIMIT = 5000
NOT_ACCESSIBLE = "Resource not accessible by integration"
# Every fake alive in this process, for the pytest plugin that reports their violations.
LIVE_FAKES: weakref.WeakSet[FakeGitHub] = weakref.WeakSet()


@dataclass
class ContractViolation:
    """A request GitHub would have refused, and what the fake answered in its place."""

    method: str
    path: str
    kind: str  # unknown-route | wrong-method | bad-path-parameter | bad-query | bad-body |
    # no-permission | fake-lacks-route | graphql-invalid | graphql-not-allowed
    detail: str
    status: int = 0

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status} [{self.kind}] {self.detail}"


@dataclass
class RecordedRequest:
    """One request as the fake received it (kept even when it was rejected or unrouted)."""

    method: str
    path: str  # without the /api/v3 prefix for REST; uploads, GraphQL and web keep theirs
    query: dict[str, str]
    headers: dict[str, str]  # lower-case keys
    json: Any | None
    body: bytes
    token_kind: str  # "jwt" | "installation" | "user" | "basic" | "none"
    status: int = 0  # the status the fake answered with
    route: str | None = None  # the matched route template, None when nothing matched
    operation_id: str | None = None  # GitHub's operation, when the description has one


@dataclass
class Fault:
    """An injected answer: the first matching fault with `times` left replaces routing."""

    method: str | None
    path_regex: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    times: int = 1
    delay: float = 0.0  # seconds to sleep before answering (slow responses)


class ApiError(Exception):
    """Raised by handlers to answer with GitHub's error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        docs_url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self.docs_url = docs_url


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def validation_failed(resource: str, field_name: str, code: str = "invalid") -> ApiError:
    return ApiError(
        422,
        "Validation Failed",
        errors=[{"resource": resource, "code": code, "field": field_name}],
    )


@dataclass
class Auth:
    kind: str  # "jwt" | "installation" | "user" | "basic" | "none"
    valid: bool = False
    failure: str = "Bad credentials"
    app: AppIdentity | None = None
    installation_token: InstallationToken | None = None
    user_token: UserToken | None = None
    principal: str = "anonymous"  # rate-limit bucket


@dataclass
class Ctx:
    """What a handler gets: the request, its parsed parts and who sent it."""

    request: Request
    params: dict[str, str]
    query: dict[str, str]
    body: bytes
    json: Any
    auth: Auth
    urls: shapes.Urls
    repo: Repo | None = None
    # (kind, detail) of refusals a handler made for the contract (GraphQL); see `_handle`.
    violations: list[tuple[str, str]] = field(default_factory=list)

    @property
    def repo_or_404(self) -> Repo:
        if self.repo is None:
            raise not_found()
        return self.repo

    def body_object(self) -> dict[str, Any]:
        """The JSON body as an object; GitHub answers 400 for anything else."""
        if self.json is None and not self.body:
            return {}
        if not isinstance(self.json, dict):
            raise ApiError(400, "Problems parsing JSON")
        return self.json

    def int_param(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise not_found() from None


Handler = Callable[["FakeGitHub", Ctx], Awaitable[Response]]


@dataclass(frozen=True)
class RouteSpec:
    area: str  # "api" | "uploads" | "web"
    method: str
    template: str
    pattern: re.Pattern[str]
    auth: str  # "jwt" | "token" | "installation" | "user" | "none"
    handler: Handler


class RouteTable:
    """Routes are registered by decorators in the route modules."""

    def __init__(self) -> None:
        self.routes: list[RouteSpec] = []

    def add(self, area: str, method: str, template: str, auth: str) -> Callable[[Handler], Handler]:
        regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", template)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        pattern = re.compile(f"^{regex}$")

        def register(handler: Handler) -> Handler:
            self.routes.append(RouteSpec(area, method, template, pattern, auth, handler))
            return handler

        return register

    def match(self, area: str, method: str, path: str) -> tuple[RouteSpec, dict[str, str]] | None:
        for spec in self.routes:
            if spec.area == area and spec.method == method:
                found = spec.pattern.match(path)
                if found:
                    return spec, found.groupdict()
        return None


ROUTES = RouteTable()


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


def no_content() -> Response:
    return Response(status_code=204)


def paginate(ctx: Ctx, items: list[T]) -> tuple[list[T], dict[str, str]]:
    """A page of `items` plus GitHub's `Link` header (page/per_page, at most 100 a page)."""

    def as_int(name: str, default: int) -> int:
        try:
            return int(ctx.query.get(name, default))
        except ValueError:
            return default

    per_page = min(max(as_int("per_page", 30), 1), 100)
    page = max(as_int("page", 1), 1)
    last = max(1, ceil(len(items) / per_page))
    url = ctx.request.url

    def link(page_number: int, rel: str) -> str:
        target = url.include_query_params(page=page_number, per_page=per_page)
        return f'<{target}>; rel="{rel}"'

    links: list[str] = []
    if page > 1:
        links += [link(min(page - 1, last), "prev"), link(1, "first")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    headers = {"Link": ", ".join(links)} if links else {}
    return items[(page - 1) * per_page : page * per_page], headers


def _token_kind(authorization: str) -> str:
    scheme, _, credential = authorization.strip().partition(" ")
    scheme = scheme.lower()
    if not credential:
        return "none"
    if scheme == "basic":
        return "basic"
    if scheme == "bearer" and credential.count(".") == 2:
        return "jwt"
    if credential.startswith(("ghu_", "gho_")):
        return "user"
    if scheme in ("bearer", "token"):
        return "installation"
    return "none"


def _etag(body: bytes) -> str:
    return f'W/"{hashlib.sha256(body).hexdigest()}"'


def _etag_matches(if_none_match: str, etag: str) -> bool:
    def bare(tag: str) -> str:
        return tag.strip().removeprefix("W/").strip('"')

    return any(bare(t) == bare(etag) or t.strip() == "*" for t in if_none_match.split(","))


class FakeGitHub:
    """A stateful in-memory GitHub (REST under /api/v3, web pages at the root) for tests."""

    def __init__(
        self,
        *,
        app_id: int = 1,
        app_slug: str = "ghapp-test",
        public_key_pem: bytes,
        webhook_secret: str = "whsec",
        latency: float = 0.0,
        client_id: str = "Iv1.fakeclientid",
        client_secret: str = "fakeclientsecret",
        permissions: Mapping[str, str] | None = None,
    ) -> None:
        # Loaded first: without GitHub's description the fake cannot judge a request, and a
        # test must be skipped (offline) or failed (CI) before it starts, not mid-request.
        self.contract = rest_contract()
        self.latency = latency
        self.requests: list[RecordedRequest] = []
        self.violations: list[ContractViolation] = []
        self.faults: list[Fault] = []
        self.tokens_issued: dict[int, int] = {}
        self.browser_user: str | None = None
        self.users: dict[str, User] = {}
        self.apps: dict[int, AppIdentity] = {}
        self.installations: dict[int, Installation] = {}
        self.repos: dict[str, Repo] = {}
        self.installation_tokens: dict[str, InstallationToken] = {}
        self.user_tokens: dict[str, UserToken] = {}
        self.oauth_codes: dict[str, str] = {}  # code -> login
        self.manifests: dict[str, dict[str, Any]] = {}  # code -> manifest (until converted)
        self.manifest_owners: dict[str, str] = {}  # code -> owner login
        self.hook_deliveries: dict[int, HookDelivery] = {}
        self.redelivery_requests: list[int] = []
        self.discussion_comments: dict[str, DiscussionComment] = {}
        self.graphql_reactions: list[dict[str, str]] = []
        self._rate_used: dict[str, int] = {}
        self._rate_reset = int(time.time()) + 3600
        owner = self._user("ghapp-owner", "Organization")
        self.app_identity = AppIdentity(
            app_id=app_id,
            slug=app_slug,
            name=app_slug,
            public_key_pem=public_key_pem,
            client_id=client_id,
            client_secret=client_secret,
            webhook_secret=webhook_secret,
            owner=owner.login,
            # By default the App asks for what the skills' manifest declares (manifest/app.yml).
            permissions=dict(permissions) if permissions is not None else manifest_permissions(),
        )
        self.apps[app_id] = self.app_identity
        self._user(self.app_identity.bot_login, "Bot")
        from . import routes_api, routes_git, routes_web  # noqa: F401  (registers the routes)

        self.app = Starlette(
            routes=[Route("/{path:path}", self._handle, methods=ALL_METHODS)],
        )
        LIVE_FAKES.add(self)

    # ----------------------------------------------------------------- seeding helpers

    def _user(self, login: str, user_type: str = "User") -> User:
        """The user with that login, created on first mention (GitHub knows everyone)."""
        user = self.users.get(login)
        if user is None:
            if user_type == "User" and login.endswith("[bot]"):
                user_type = "Bot"
            user = User(login=login, id=next_id(), type=user_type)
            self.users[login] = user
        return user

    def add_user(self, login: str, *, org_roles: dict[str, str] | None = None) -> str:
        """Register a user (with org roles "admin" | "member"); returns an OAuth code for them."""
        user = self._user(login)
        for org, role in (org_roles or {}).items():
            if role not in ("admin", "member"):
                raise ValueError(f"org role must be admin or member, not {role!r}")
            self._user(org, "Organization")
            user.org_roles[org] = role
        return self.issue_oauth_code(login)

    def issue_oauth_code(self, login: str) -> str:
        code = secrets.token_hex(10)
        self.oauth_codes[code] = login
        return code

    def add_installation(
        self,
        installation_id: int,
        account: str,
        *,
        account_type: str = "Organization",
        repositories: list[str] | None = None,
        permissions: Mapping[str, str] | None = None,
    ) -> None:
        """An installation of the app on `account`; `repositories` are full names to create.

        `permissions` are what the owner granted (narrower than the App asks for, to test a
        403); by default the installation has whatever the App asks for.
        """
        self._user(account, account_type)
        self.installations[installation_id] = Installation(
            id=installation_id,
            account=account,
            account_type=account_type,
            repositories=[],
            app_id=self.app_identity.app_id,
            permissions=dict(permissions) if permissions is not None else None,
        )
        for full_name in repositories or []:
            self.add_repo(full_name, installation_id=installation_id)

    def add_repo(
        self,
        full_name: str,
        *,
        installation_id: int,
        default_branch: str = "main",
        private: bool = False,
    ) -> Repo:
        owner, _, name = full_name.partition("/")
        if not name:
            raise ValueError(f"repository full name must be owner/name, not {full_name!r}")
        installation = self.installations[installation_id]
        self._user(owner, installation.account_type if owner == installation.account else "User")
        repo = Repo(
            id=next_id(),
            owner=owner,
            name=name,
            installation_id=installation_id,
            default_branch=default_branch,
            private=private,
        )
        self.repos[full_name.casefold()] = repo
        if full_name not in installation.repositories:
            installation.repositories.append(full_name)
        self.add_commit(full_name, "Initial commit", author_login=owner)
        return repo

    def repo(self, full_name: str) -> Repo:
        return self.repos[full_name.casefold()]

    def set_file(self, full_name: str, path: str, content: str, ref: str | None = None) -> None:
        repo = self.repo(full_name)
        repo.files.setdefault(ref or repo.default_branch, {})[path.strip("/")] = content

    def set_permission(self, full_name: str, user: str, role_name: str) -> None:
        """Give `user` a repository role: admin|maintain|write|triage|read|none."""
        if role_name not in ROLE_RANK:
            raise ValueError(f"unknown role {role_name!r}")
        self._user(user)
        self.repo(full_name).permissions[user] = role_name

    def role_of(self, repo: Repo, login: str) -> str:
        """A user's role on a repository: explicit role, org owner, owner, else public/none."""
        if login in repo.permissions:
            return repo.permissions[login]
        user = self.users.get(login)
        if login == repo.owner or (user is not None and user.org_roles.get(repo.owner) == "admin"):
            return "admin"
        return "none" if repo.private else "read"

    def add_label(
        self, full_name: str, name: str, color: str = "ededed", description: str | None = None
    ) -> Label:
        repo = self.repo(full_name)
        lb = Label(id=next_id(), name=name, color=color, description=description)
        repo.labels[lb.id] = lb
        return lb

    def _labels_by_name(self, repo: Repo, names: list[str]) -> list[int]:
        """Label ids for names, creating missing labels like GitHub does for issue labels."""
        ids: list[int] = []
        for name in names:
            lb = repo.find_label(name) or self.add_label(repo.full_name, name)
            if lb.id not in ids:
                ids.append(lb.id)
        return ids

    def add_milestone(
        self,
        full_name: str,
        title: str,
        *,
        state: str = "open",
        description: str | None = None,
        due_on: datetime | None = None,
    ) -> Milestone:
        repo = self.repo(full_name)
        number = max(repo.milestones, default=0) + 1
        ms = Milestone(
            number=number,
            id=next_id(),
            title=title,
            creator=repo.owner,
            description=description,
            state=state,
            due_on=due_on,
            closed_at=now() if state == "closed" else None,
        )
        repo.milestones[number] = ms
        return ms

    def add_issue(
        self,
        full_name: str,
        title: str,
        *,
        body: str | None = None,
        user: str = "octocat",
        labels: list[str] | None = None,
        milestone: int | None = None,
        state: str = "open",
        assignees: list[str] | None = None,
    ) -> Issue:
        repo = self.repo(full_name)
        self._user(user)
        for login in assignees or []:
            self._user(login)
        item = Issue(
            number=repo.next_number(),
            id=next_id(),
            title=title,
            body=body,
            user=user,
            state=state,
            state_reason="completed" if state == "closed" else None,
            label_ids=self._labels_by_name(repo, labels or []),
            milestone=milestone,
            assignees=list(assignees or []),
            closed_at=now() if state == "closed" else None,
        )
        repo.issues[item.number] = item
        return item

    def add_comment(self, full_name: str, number: int, body: str, user: str = "octocat") -> int:
        repo = self.repo(full_name)
        self._user(user)
        comment = IssueComment(id=next_id(), issue_number=number, body=body, user=user)
        repo.comments[comment.id] = comment
        return comment.id

    def add_pull(
        self,
        full_name: str,
        title: str,
        *,
        head: str = "feature",
        base: str | None = None,
        body: str | None = None,
        user: str = "octocat",
        state: str = "open",
        merged: bool = False,
        draft: bool = False,
        labels: list[str] | None = None,
        files: list[dict[str, Any]] | None = None,
        commit_authors: list[list[tuple[str | None, str]]] | None = None,
    ) -> PullRequest:
        """A pull request; `files` entries are `{"filename", "status", "additions", ...}`;
        `commit_authors` lists each commit's authors as `(login or None, name)`."""
        repo = self.repo(full_name)
        item = self.add_issue(full_name, title, body=body, user=user, labels=labels, state=state)
        item.is_pull = True
        base_ref = base or repo.default_branch
        pull = PullRequest(
            number=item.number,
            id=next_id(),
            head_ref=head,
            head_sha=fake_sha(f"{full_name}#{item.number}:{head}"),
            base_ref=base_ref,
            base_sha=repo.refs.get(base_ref, repo.commits[-1].sha),
            draft=draft,
            merged=merged,
            merged_at=now() if merged else None,
            merged_by=repo.owner if merged else None,
            files=list(files or []),
            commit_authors=list(commit_authors or []),
        )
        repo.pulls[item.number] = pull
        return pull

    def add_review_comment(
        self, full_name: str, pull_number: int, body: str, *, user: str = "octocat", path: str = "a"
    ) -> int:
        repo = self.repo(full_name)
        self._user(user)
        pull = repo.pulls[pull_number]
        comment = ReviewComment(
            id=next_id(),
            pull_number=pull_number,
            body=body,
            user=user,
            path=path,
            commit_id=pull.head_sha,
            review_id=next_id(),
        )
        repo.review_comments[comment.id] = comment
        return comment.id

    def add_commit(
        self,
        full_name: str,
        message: str,
        *,
        author_login: str | None = "octocat",
        author_name: str | None = None,
        branch: str | None = None,
        sha: str | None = None,
    ) -> str:
        """Append a commit to the repository's linear history; moves `branch` (default branch)."""
        repo = self.repo(full_name)
        if author_login:
            self._user(author_login)
        parents = [repo.commits[-1].sha] if repo.commits else []
        commit = Commit(
            # Deterministic within a test: recorded requests may carry a commit sha.
            sha=sha or fake_sha(f"{full_name}:{len(repo.commits)}:{message}"),
            message=message,
            author_name=author_name or author_login or "Someone",
            author_email=f"{author_login or 'someone'}@users.noreply.example",
            author_login=author_login,
            parents=parents,
        )
        repo.commits.append(commit)
        repo.refs[branch or repo.default_branch] = commit.sha
        return commit.sha

    def add_tag(self, full_name: str, tag: str, sha: str | None = None) -> None:
        repo = self.repo(full_name)
        repo.refs[tag] = sha or repo.commits[-1].sha

    def add_release(
        self,
        full_name: str,
        tag_name: str,
        *,
        name: str | None = None,
        body: str | None = None,
        draft: bool = False,
        prerelease: bool = False,
        author: str | None = None,
    ) -> Release:
        repo = self.repo(full_name)
        rel = Release(
            id=next_id(),
            tag_name=tag_name,
            target_commitish=repo.default_branch,
            name=name,
            body=body,
            author=author or self.app_identity.bot_login,
            draft=draft,
            prerelease=prerelease,
            published_at=None if draft else now(),
        )
        repo.releases[rel.id] = rel
        return rel

    def add_workflow_run(self, full_name: str, artifacts: dict[str, bytes]) -> int:
        """A finished workflow run whose artifacts are `{name: zip bytes}`; returns the run id."""
        repo = self.repo(full_name)
        run = WorkflowRun(id=next_id())
        for name, data in artifacts.items():
            art = Artifact(id=next_id(), name=name, data=data, run_id=run.id)
            repo.artifacts[art.id] = art
            run.artifact_ids.append(art.id)
        repo.workflow_runs[run.id] = run
        return run.id

    def add_hook_delivery(
        self,
        guid: str,
        event: str,
        action: str | None,
        status_code: int,
        delivered_at: datetime,
        redelivery: bool = False,
        *,
        installation_id: int | None = None,
        repository_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> int:
        delivery = HookDelivery(
            id=next_id(),
            guid=guid,
            event=event,
            action=action,
            status_code=status_code,
            delivered_at=delivered_at,
            redelivery=redelivery,
            installation_id=installation_id,
            repository_id=repository_id,
            payload=dict(payload or {}),
        )
        self.hook_deliveries[delivery.id] = delivery
        return delivery.id

    def add_discussion_comment(
        self,
        discussion_id: str,
        body: str,
        user: str = "octocat",
        *,
        reply_to_id: str | None = None,
    ) -> DiscussionComment:
        """A discussion comment (GraphQL node); replies name their top-level comment."""
        self._user(user)
        comment = DiscussionComment(
            node_id=node_id("DC", next_id()),
            discussion_id=discussion_id,
            body=body,
            user=user,
            reply_to_id=reply_to_id,
        )
        self.discussion_comments[comment.node_id] = comment
        return comment

    # ------------------------------------------------------------------------ tokens

    def installation_permissions(self, installation_id: int) -> dict[str, str]:
        """What an installation's tokens may do: what the owner granted, else what the App
        asks for."""
        inst = self.installations[installation_id]
        if inst.permissions is not None:
            return dict(inst.permissions)
        return dict(self.apps[inst.app_id].permissions)

    def mint_installation_token(
        self,
        installation_id: int,
        repositories: list[str] | None = None,
        permissions: Mapping[str, str] | None = None,
    ) -> InstallationToken:
        token = InstallationToken(
            token="ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36],
            installation_id=installation_id,
            expires_at=now() + timedelta(hours=1),
            repositories=repositories,
            permissions=dict(permissions) if permissions is not None else None,
        )
        self.installation_tokens[token.token] = token
        self.tokens_issued[installation_id] = self.tokens_issued.get(installation_id, 0) + 1
        return token

    def mint_user_token(self, login: str, app_id: int) -> UserToken:
        token = UserToken(
            token="ghu_" + secrets.token_hex(18),
            login=login,
            app_id=app_id,
            expires_at=now() + timedelta(hours=8),
            refresh_token="ghr_" + secrets.token_hex(38),
        )
        self.user_tokens[token.token] = token
        return token

    def expire_token(self, token: str) -> None:
        """Make one installation or user token answer 401 from now on."""
        if token in self.installation_tokens:
            self.installation_tokens[token].expired = True
        if token in self.user_tokens:
            self.user_tokens[token].expired = True

    def expire_all_tokens(self) -> None:
        for inst_token in self.installation_tokens.values():
            inst_token.expired = True
        for user_token in self.user_tokens.values():
            user_token.expired = True

    # ----------------------------------------------------------------------- queries

    def requests_to(self, method: str, path_regex: str) -> list[RecordedRequest]:
        pattern = re.compile(path_regex)
        return [r for r in self.requests if r.method == method.upper() and pattern.search(r.path)]

    def unrouted_requests(self) -> list[RecordedRequest]:
        """Requests no route matched (answered 404): a test asserts this is empty."""
        return [r for r in self.requests if r.route is None and r.status == 404]

    def take_violations(self) -> list[ContractViolation]:
        """The refusals so far, handed to the test (which then asserts on them) and forgotten:
        the way a test declares that it expected GitHub to say no."""
        taken = self.violations[:]
        del self.violations[: len(taken)]
        return taken

    # ------------------------------------------------------------------------- auth

    def _authenticate(self, authorization: str) -> Auth:
        kind = _token_kind(authorization)
        auth = Auth(kind=kind)
        credential = authorization.strip().partition(" ")[2]
        if kind == "jwt":
            self._verify_jwt(credential, auth)
        elif kind == "installation":
            inst_token = self.installation_tokens.get(credential)
            if inst_token and not inst_token.expired and inst_token.expires_at > now():
                auth.valid = True
                auth.installation_token = inst_token
                auth.app = self.apps.get(self.installations[inst_token.installation_id].app_id)
                auth.principal = f"installation:{inst_token.installation_id}"
        elif kind == "user":
            user_token = self.user_tokens.get(credential)
            if user_token and not user_token.expired and user_token.expires_at > now():
                auth.valid = True
                auth.user_token = user_token
                auth.app = self.apps.get(user_token.app_id)
                auth.principal = f"user:{user_token.login}"
        elif kind == "basic":
            auth.valid = True  # client id/secret checks happen where GitHub uses them
        return auth

    def _verify_jwt(self, token: str, auth: Auth) -> None:
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            issuer = str(claims.get("iss", ""))
            identity = next(
                (a for a in self.apps.values() if issuer in (str(a.app_id), a.client_id)), None
            )
            if identity is None:
                auth.failure = "Integration not found"
                return
            claims = jwt.decode(
                token,
                identity.public_key_pem,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            auth.failure = (
                "'Expiration time' claim ('exp') must be a numeric value representing the"
                " future time at which the assertion expires"
            )
            return
        except jwt.PyJWTError:
            auth.failure = "A JSON web token could not be decoded"
            return
        if int(claims["exp"]) - int(claims["iat"]) > 600:
            auth.failure = "'Expiration time' claim ('exp') is too far in the future"
            return
        auth.valid = True
        auth.app = identity
        auth.principal = f"app:{identity.app_id}"

    def actor(self, ctx: Ctx) -> User:
        """Who a mutation is attributed to: the app's bot, or the signed-in user."""
        if ctx.auth.user_token is not None:
            return self._user(ctx.auth.user_token.login)
        identity = ctx.auth.app or self.app_identity
        return self._user(identity.bot_login, "Bot")

    def _check_repo_access(self, ctx: Ctx, repo: Repo) -> None:
        inst_token = ctx.auth.installation_token
        writes = ctx.request.method not in ("GET", "HEAD")
        if inst_token is not None:
            allowed = repo.installation_id == inst_token.installation_id and (
                inst_token.repositories is None or repo.name in inst_token.repositories
            )
            if not allowed:
                if writes and not repo.private:
                    raise ApiError(403, NOT_ACCESSIBLE)
                raise not_found()
        elif (
            ctx.auth.user_token is not None
            and self.role_of(repo, ctx.auth.user_token.login) == "none"
        ):
            raise not_found()

    # --------------------------------------------------------------------- pipeline

    def _rate_headers(self, principal: str, resource: str, count: bool) -> dict[str, str]:
        if time.time() >= self._rate_reset:
            self._rate_used.clear()
            self._rate_reset = int(time.time()) + 3600
        key = f"{resource}:{principal}"
        if count:
            self._rate_used[key] = self._rate_used.get(key, 0) + 1
        used = self._rate_used.get(key, 0)
        return {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(max(RATE_LIMIT - used, 0)),
            "x-ratelimit-reset": str(self._rate_reset),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": resource,
        }

    @staticmethod
    def _split_path(path: str) -> tuple[str, str, str]:
        """(area, route path, recorded path) for a raw request path."""
        if path == GRAPHQL_PATH:
            return "api", "/graphql", "/graphql"
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            rel = path[len(API_PREFIX) :] or "/"
            return "api", rel, rel
        if path.startswith(UPLOADS_PREFIX + "/"):
            return "uploads", path[len(UPLOADS_PREFIX) :], path
        return "web", path, path

    async def _handle(self, request: Request) -> Response:
        area, route_path, recorded_path = self._split_path(request.url.path)
        body = await request.body()
        parsed: Any = None
        if body and "json" in request.headers.get("content-type", "json"):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        authorization = request.headers.get("authorization", "")
        record = RecordedRequest(
            method=request.method,
            path=recorded_path,
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            json=parsed,
            body=body,
            token_kind=_token_kind(authorization),
        )
        self.requests.append(record)
        if self.latency:
            await asyncio.sleep(self.latency)
        auth = self._authenticate(authorization)
        is_api = area in ("api", "uploads")
        resource = "graphql" if route_path == "/graphql" else "core"
        urls = shapes.Urls.for_host(str(request.base_url))
        ctx = Ctx(request, {}, dict(request.query_params), body, parsed, auth, urls)

        checked: Checked | None = None
        if is_api and route_path != "/graphql":
            query = {k: request.query_params.getlist(k) for k in request.query_params}
            checked = self.contract.check(
                request.method, route_path, query, body, uploads_host=area == "uploads"
            )
            if checked.operation is not None:
                record.operation_id = checked.operation.operation_id
            if checked.refusal is not None:
                ctx.violations.append((checked.refusal.kind, checked.refusal.detail))
        try:
            if checked is not None and checked.refusal and checked.refusal.status == 404:
                # GitHub's router never finds it: no fault, no auth, no handler.
                raise ApiError(404, "Not Found", docs_url=checked.refusal.docs_url)
            fault = self._take_fault(request.method, recorded_path)
            if fault is not None:
                response = await self._fault_response(fault, auth, resource, is_api)
                return self._answered(record, ctx, response)
            response = await self._route(area, route_path, ctx, checked, record)
        except ApiError as exc:
            if area == "web":
                response = Response(exc.message, status_code=exc.status, media_type="text/plain")
            else:
                # GitHub links an operation's own page from its errors, bad credentials aside.
                docs = exc.docs_url
                if docs is None and exc.status != 401 and checked and checked.operation:
                    docs = checked.operation.docs_url
                response = JSONResponse(
                    shapes.error(exc.status, exc.message, errors=exc.errors, docs=docs),
                    status_code=exc.status,
                    headers=exc.headers,
                )
        if is_api:
            response = self._finish_api_response(request, response, auth, resource)
        return self._answered(record, ctx, response)

    async def _route(
        self, area: str, route_path: str, ctx: Ctx, checked: Checked | None, record: RecordedRequest
    ) -> Response:
        """Route, authenticate, authorise and hand over to the handler (raises ApiError)."""
        method = ctx.request.method
        matched = ROUTES.match(area, method, route_path)
        if matched is None and method == "HEAD":
            matched = ROUTES.match(area, "GET", route_path)
        if matched is None:
            if checked is not None and checked.operation is not None:
                ctx.violations.append(
                    ("fake-lacks-route", f"{checked.operation.operation_id} is not implemented")
                )
            raise not_found()
        spec, ctx.params = matched
        record.route = spec.template
        self._authorize(spec, ctx)
        params = ctx.params
        if "owner" in params and "repo" in params:
            repo = self.repos.get(f"{params['owner']}/{params['repo']}".casefold())
            if repo is None:
                raise not_found()
            self._check_repo_access(ctx, repo)
            ctx.repo = repo
        if checked is not None and checked.operation is not None:
            self._check_permission(ctx, checked.operation.operation_id, checked.operation.docs_url)
            refusal = checked.refusal
            if refusal is not None:
                raise ApiError(refusal.status, refusal.message, docs_url=refusal.docs_url)
        return await spec.handler(self, ctx)

    def _answered(self, record: RecordedRequest, ctx: Ctx, response: Response) -> Response:
        record.status = response.status_code
        for kind, detail in ctx.violations:
            self.violations.append(
                ContractViolation(record.method, record.path, kind, detail, record.status)
            )
        return response

    async def _fault_response(
        self, fault: Fault, auth: Auth, resource: str, is_api: bool
    ) -> Response:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.body is not None:
            response: Response = JSONResponse(fault.body, status_code=fault.status)
        else:
            response = Response(status_code=fault.status)
        if is_api:
            response.headers.update(self._rate_headers(auth.principal, resource, True))
        response.headers.update(fault.headers)
        return response

    def granted_permissions(self, ctx: Ctx) -> dict[str, str] | None:
        """What the request's token may do, None when no installation's permissions apply
        (an App JWT, or a user token outside any installation of the App)."""
        auth = ctx.auth
        if auth.installation_token is not None:
            token = auth.installation_token
            if token.permissions is not None:
                return dict(token.permissions)
            return self.installation_permissions(token.installation_id)
        if auth.user_token is not None:
            # A user-to-server token may do what the user may and the installation allows.
            account = ctx.repo.owner if ctx.repo is not None else ctx.params.get("org")
            inst = next(
                (
                    i
                    for i in self.installations.values()
                    if i.account == account and i.app_id == auth.user_token.app_id
                ),
                None,
            )
            return self.installation_permissions(inst.id) if inst is not None else None
        return None

    def _check_permission(self, ctx: Ctx, operation_id: str, docs_url: str) -> None:
        granted = self.granted_permissions(ctx)
        if granted is None:
            return
        lacking = missing_permission(operation_id, granted)
        if lacking is not None:
            ctx.violations.append(("no-permission", f"{operation_id} needs {lacking}"))
            raise ApiError(403, NOT_ACCESSIBLE, docs_url=docs_url)

    def _finish_api_response(
        self, request: Request, response: Response, auth: Auth, resource: str
    ) -> Response:
        conditional = request.method == "GET" and response.status_code == 200
        body = bytes(response.body) if conditional else b""
        etag = _etag(body) if conditional and body else None
        if etag and _etag_matches(request.headers.get("if-none-match", ""), etag):
            # 304s do not count against the rate limit on GitHub.
            not_modified = Response(status_code=304, headers={"ETag": etag})
            not_modified.headers.update(self._rate_headers(auth.principal, resource, False))
            return not_modified
        if etag:
            response.headers["ETag"] = etag
        response.headers.update(self._rate_headers(auth.principal, resource, True))
        response.headers.setdefault("x-github-request-id", uuid.uuid4().hex[:20].upper())
        return response

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times <= 0:
                continue
            if fault.method is not None and fault.method.upper() != method:
                continue
            if re.search(fault.path_regex, path):
                fault.times -= 1
                return fault
        return None

    def _authorize(self, spec: RouteSpec, ctx: Ctx) -> None:
        auth = ctx.auth
        if spec.auth == "none":
            return
        if not auth.valid:
            raise ApiError(401, auth.failure)
        if spec.auth == "jwt":
            if auth.kind != "jwt":
                raise ApiError(401, "A JSON web token could not be decoded")
            return
        if auth.kind == "jwt":
            raise ApiError(403, NOT_ACCESSIBLE)
        if spec.auth == "installation" and auth.kind != "installation":
            raise ApiError(403, "You must authenticate via a GitHub App.")
        if spec.auth == "user" and auth.kind != "user":
            raise ApiError(403, NOT_ACCESSIBLE)
        if spec.auth == "token" and auth.kind not in ("installation", "user"):
            raise ApiError(401, "Requires authentication")
