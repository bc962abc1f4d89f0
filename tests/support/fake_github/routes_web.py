"""Web routes of the fake GitHub (at the root) and its GraphQL endpoint.

Web: the OAuth web flow (authorize and code exchange), the app-manifest registration forms, the
"install app" page and the download links the API redirects to. GraphQL: requests are judged
by `graphql_contract` (GitHub's schema and the operations ghapp uses) and executed there with
the resolvers below: `addDiscussionComment` (with `replyToId`), `addReaction` and a
discussion's comments through `node(id:)`, over the fake's state.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.responses import HTMLResponse, RedirectResponse, Response

from . import graphql_contract
from .core import NOT_ACCESSIBLE, ROUTES, Ctx, Handler, json_response, not_found
from .graphql_contract import ResolverError
from .permissions import missing_permission
from .state import DiscussionComment, next_id, node_id

if TYPE_CHECKING:
    from .core import FakeGitHub

OAUTH_ERROR_URI = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"


def web(method: str, template: str) -> Callable[[Handler], Handler]:
    return ROUTES.add("web", method, template, "none")


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    text = f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
    return HTMLResponse(f"{text}<body>{body}</body></html>", status_code=status)


# ---------------------------------------------------------------------------- OAuth


@web("GET", "/login/oauth/authorize")
async def oauth_authorize(fake: FakeGitHub, ctx: Ctx) -> Response:
    client_id = ctx.query.get("client_id", "")
    if not any(a.client_id == client_id for a in fake.apps.values()):
        return _page("Not Found", "<h1>404</h1><p>Unknown client_id.</p>", status=404)
    redirect_uri = ctx.query.get("redirect_uri")
    if not redirect_uri:
        return _page("Bad request", "<p>redirect_uri is required by the fake.</p>", status=400)
    if fake.browser_user is None:
        return _page("Sign in to GitHub", "<h1>Sign in to GitHub</h1><form></form>")
    fake._user(fake.browser_user)
    code = fake.issue_oauth_code(fake.browser_user)
    params = {"code": code}
    if "state" in ctx.query:
        params["state"] = ctx.query["state"]
    return RedirectResponse(_with_query(redirect_uri, **params), status_code=302)


def _form_or_json(ctx: Ctx) -> dict[str, str]:
    fields = dict(ctx.query)
    if isinstance(ctx.json, dict):
        fields.update({k: str(v) for k, v in ctx.json.items() if v is not None})
    elif ctx.body:
        fields.update(dict(parse_qsl(ctx.body.decode(errors="replace"))))
    return fields


def _oauth_answer(ctx: Ctx, body: dict[str, Any]) -> Response:
    # GitHub answers form-encoded unless JSON is asked for, and errors with status 200.
    if "json" in ctx.request.headers.get("accept", ""):
        return json_response(body)
    return Response(
        urlencode({k: str(v) for k, v in body.items()}),
        media_type="application/x-www-form-urlencoded",
    )


def _oauth_error(ctx: Ctx, error: str, description: str, anchor: str) -> Response:
    return _oauth_answer(
        ctx,
        {
            "error": error,
            "error_description": description,
            "error_uri": f"{OAUTH_ERROR_URI}#{anchor}",
        },
    )


@web("POST", "/login/oauth/access_token")
async def oauth_access_token(fake: FakeGitHub, ctx: Ctx) -> Response:
    fields = _form_or_json(ctx)
    identity = next((a for a in fake.apps.values() if a.client_id == fields.get("client_id")), None)
    if identity is None or identity.client_secret != fields.get("client_secret"):
        return _oauth_error(
            ctx,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
            "incorrect-client-credentials",
        )
    if fields.get("grant_type") == "refresh_token":
        wanted = fields.get("refresh_token")
        old = next((t for t in fake.user_tokens.values() if t.refresh_token == wanted), None)
        if old is None or old.app_id != identity.app_id:
            return _oauth_error(
                ctx,
                "bad_refresh_token",
                "The refresh token passed is incorrect or expired.",
                "bad-refresh-token",
            )
        old.expired = True
        old.refresh_token = ""  # a refresh token is single use
        login = old.login
    else:
        found = fake.oauth_codes.pop(fields.get("code", ""), None)
        if found is None:
            return _oauth_error(
                ctx,
                "bad_verification_code",
                "The code passed is incorrect or expired.",
                "bad-verification-code",
            )
        login = found
    token = fake.mint_user_token(login, identity.app_id)
    return _oauth_answer(
        ctx,
        {
            "access_token": token.token,
            "expires_in": 28800,
            "refresh_token": token.refresh_token,
            "refresh_token_expires_in": 15811200,
            "scope": "",
            "token_type": "bearer",
        },
    )


# ------------------------------------------------------------------------ manifests


async def _register_manifest(fake: FakeGitHub, ctx: Ctx, owner: str) -> Response:
    fields = dict(parse_qsl(ctx.body.decode(errors="replace")))
    try:
        manifest = json.loads(fields.get("manifest", ""))
    except ValueError:
        return _page("Invalid manifest", "<p>The manifest is not valid JSON.</p>", status=422)
    problems: list[str] = []
    if not isinstance(manifest, dict):
        problems.append("manifest must be a JSON object")
        manifest = {}
    for key in ("name", "url", "redirect_url"):
        if not isinstance(manifest.get(key), str) or not manifest[key]:
            problems.append(f"{key} is required")
    hook = manifest.get("hook_attributes")
    if not isinstance(hook, dict) or not isinstance(hook.get("url"), str):
        problems.append("hook_attributes.url is required")
    if problems:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        return _page("Invalid manifest", f"<ul>{items}</ul>", status=422)
    code = fake.issue_oauth_code(owner)
    fake.oauth_codes.pop(code)  # a manifest code is not a sign-in code
    fake.manifests[code] = manifest
    fake.manifest_owners[code] = owner
    params = {"code": code}
    if "state" in ctx.query:
        params["state"] = ctx.query["state"]
    return RedirectResponse(_with_query(manifest["redirect_url"], **params), status_code=302)


@web("POST", "/settings/apps/new")
async def register_user_app(fake: FakeGitHub, ctx: Ctx) -> Response:
    owner = fake._user(fake.browser_user or "octocat")
    return await _register_manifest(fake, ctx, owner.login)


@web("POST", "/organizations/{org}/settings/apps/new")
async def register_org_app(fake: FakeGitHub, ctx: Ctx) -> Response:
    org = fake._user(ctx.params["org"], "Organization")
    return await _register_manifest(fake, ctx, org.login)


@web("GET", "/apps/{slug}/installations/new")
async def install_page(fake: FakeGitHub, ctx: Ctx) -> Response:
    identity = next((a for a in fake.apps.values() if a.slug == ctx.params["slug"]), None)
    if identity is None:
        return _page("Not Found", "<h1>404</h1>", status=404)
    name = html.escape(identity.name)
    return _page(f"Install {name}", f"<h1>Install {name}</h1><form method='post'></form>")


# ------------------------------------------------------------------------- downloads


@web("GET", "/_fake/artifacts/{owner}/{repo}/{artifact_id}.zip")
async def artifact_zip(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    artifact = repo.artifacts.get(ctx.int_param("artifact_id"))
    if artifact is None:
        raise not_found()
    return Response(artifact.data, media_type="application/zip")


@web("GET", "/{owner}/{repo}/releases/download/{tag}/{name}")
async def release_download(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    for rel in repo.releases.values():
        if rel.tag_name == ctx.params["tag"]:
            for asset_id in rel.asset_ids:
                asset = repo.assets.get(asset_id)
                if asset is not None and asset.name == ctx.params["name"]:
                    return Response(asset.data, media_type=asset.content_type)
    raise not_found()


# --------------------------------------------------------------------------- GraphQL


def _login(fake: FakeGitHub, login: str) -> dict[str, Any]:
    """An `Actor` as GraphQL shows it: an App's bot is named without its `[bot]` suffix."""
    user = fake.users.get(login)
    if user is not None and user.type == "Bot":
        return {"__typename": "Bot", "login": login.removesuffix("[bot]")}
    return {"__typename": "User", "login": login}


def _window(items: list[Any], first: int | None, last: int | None) -> list[Any]:
    if first is not None:
        items = items[:first]
    if last is not None:
        items = items[-last:] if last else []
    return items


def _connection(items: Callable[[], list[Any]]) -> Callable[..., dict[str, Any]]:
    """A connection field (`first`/`last` applied to `items()`); lazy, as GraphQL nodes link
    back and forth (a reply names its parent, the parent lists its replies)."""

    def resolve(_info: Any, first: int | None = None, last: int | None = None, **_: Any) -> Any:
        everything = items()
        return {"nodes": _window(everything, first, last), "totalCount": len(everything)}

    return resolve


def _comment_node(fake: FakeGitHub, urls: Any, comment: DiscussionComment) -> dict[str, Any]:
    def replies() -> list[Any]:
        return [
            _comment_node(fake, urls, c)
            for c in fake.discussion_comments.values()
            if c.reply_to_id == comment.node_id
        ]

    def reply_to(_info: Any) -> dict[str, Any] | None:
        parent = fake.discussion_comments.get(comment.reply_to_id or "")
        return _comment_node(fake, urls, parent) if parent is not None else None

    return {
        "__typename": "DiscussionComment",
        "id": comment.node_id,
        "body": comment.body,
        "url": f"{urls.web}/discussions#{comment.node_id}",
        "author": _login(fake, comment.user),
        "replyTo": reply_to,
        "replies": _connection(replies),
    }


def _discussion_node(fake: FakeGitHub, urls: Any, discussion_id: str) -> dict[str, Any]:
    """A discussion's top-level comments, oldest first, each with its replies."""

    def top() -> list[Any]:
        return [
            _comment_node(fake, urls, c)
            for c in fake.discussion_comments.values()
            if c.discussion_id == discussion_id and c.reply_to_id is None
        ]

    return {"__typename": "Discussion", "id": discussion_id, "comments": _connection(top)}


def _pull_request_node(fake: FakeGitHub, repo: Any, number: int) -> dict[str, Any] | None:
    """A pull request's commits with their authors (co-authors included), the fields
    release-publish reads; an App's bot is no GraphQL `User`: its commits carry only a name."""
    pull = repo.pulls.get(number)
    if pull is None:
        raise ResolverError(
            f"Could not resolve to a PullRequest with the number of {number}.", "NOT_FOUND"
        )
    author = repo.issues[pull.number].user
    login = None if author.endswith("[bot]") else author
    commits = pull.commit_authors or [[(login, author)]]

    def commit_node(people: list[tuple[str | None, str]]) -> dict[str, Any]:
        nodes = [{"name": name, "user": {"login": who} if who else None} for who, name in people]
        return {"commit": {"authors": _connection(lambda: nodes)}}

    return {
        "__typename": "PullRequest",
        "commits": _connection(lambda: [commit_node(c) for c in commits]),
    }


def _graphql_root(fake: FakeGitHub, ctx: Ctx) -> dict[str, Callable[..., Any]]:
    """Resolvers for the root fields in `graphql_contract.ALLOWED`, over the fake's state."""
    actor = fake.actor(ctx).login

    def node_for(node: str) -> dict[str, Any]:
        comment = fake.discussion_comments.get(node)
        if comment is not None:
            return _comment_node(fake, ctx.urls, comment)
        return _discussion_node(fake, ctx.urls, node)

    def add_discussion_comment(_info: Any, input: dict[str, Any]) -> dict[str, Any]:
        reply_to = input.get("replyToId")
        if reply_to is not None and reply_to not in fake.discussion_comments:
            raise ResolverError(
                f"Could not resolve to a node with the global id of '{reply_to}'", "NOT_FOUND"
            )
        if not str(input["body"]).strip():
            raise ResolverError("Body can't be blank", "UNPROCESSABLE")
        comment = fake.add_discussion_comment(
            input["discussionId"], input["body"], actor, reply_to_id=reply_to
        )
        return {
            "clientMutationId": input.get("clientMutationId"),
            "comment": _comment_node(fake, ctx.urls, comment),
        }

    def add_reaction(_info: Any, input: dict[str, Any]) -> dict[str, Any]:
        subject, content = str(input["subjectId"]), str(input["content"])
        fake.graphql_reactions.append({"subject_id": subject, "content": content, "by": actor})
        return {
            "clientMutationId": input.get("clientMutationId"),
            "reaction": {"id": node_id("REA", next_id()), "content": content},
            "subject": node_for(subject),
        }

    def repository(_info: Any, owner: str, name: str, **_: Any) -> dict[str, Any]:
        repo = fake.repos.get(f"{owner}/{name}".casefold())
        if repo is None:
            raise ResolverError(
                f"Could not resolve to a Repository with the name '{owner}/{name}'.", "NOT_FOUND"
            )
        return {
            "__typename": "Repository",
            "pullRequest": lambda _info, number: _pull_request_node(fake, repo, int(number)),
        }

    return {
        "addDiscussionComment": add_discussion_comment,
        "addReaction": add_reaction,
        "node": lambda _info, id: node_for(str(id)),
        "repository": repository,
    }


@ROUTES.add("api", "POST", "/graphql", "token")
async def graphql(fake: FakeGitHub, ctx: Ctx) -> Response:
    data = ctx.body_object()
    verdict = graphql_contract.check(
        data.get("query"), data.get("variables"), data.get("operationName")
    )
    if isinstance(verdict, graphql_contract.Refused):
        ctx.violations.append((verdict.kind, verdict.detail))
        return json_response(verdict.body())
    granted = fake.granted_permissions(ctx)
    for field in verdict.root_fields:
        lacking = missing_permission(f"graphql/{field}", granted) if granted is not None else None
        if lacking is not None:
            ctx.violations.append(("no-permission", f"GraphQL {field} needs {lacking}"))
            error = {"type": "FORBIDDEN", "path": [field], "message": NOT_ACCESSIBLE}
            return json_response({"data": {field: None}, "errors": [error]})
    return json_response(graphql_contract.execute(verdict, _graphql_root(fake, ctx)))
