"""Web routes of the fake GitHub (at the root) and its GraphQL endpoint.

Web: the OAuth web flow (authorize and code exchange), the app-manifest registration forms, the
"install app" page and the download links the API redirects to. GraphQL: just enough for
`addDiscussionComment` (with `replyToId`) and `addReaction`, recorded in the fake's state.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.responses import HTMLResponse, RedirectResponse, Response

from .core import ROUTES, ApiError, Ctx, Handler, json_response, not_found
from .state import next_id, node_id

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

_MUTATION_FIELD = re.compile(r"\b(addDiscussionComment|addReaction)\s*\(")
_LITERAL_ARG = re.compile(r'(\w+)\s*:\s*"((?:[^"\\]|\\.)*)"')
_VARIABLE_ARG = re.compile(r"(\w+)\s*:\s*\$(\w+)")
_ENUM_ARG = re.compile(r"\b(content)\s*:\s*([A-Z_]+)\b")
GRAPHQL_REACTIONS = (
    "THUMBS_UP",
    "THUMBS_DOWN",
    "LAUGH",
    "HOORAY",
    "CONFUSED",
    "HEART",
    "ROCKET",
    "EYES",
)


def _graphql_input(query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The mutation's input object, from `$input`, from variables or from inline literals."""
    if isinstance(variables.get("input"), dict):
        return dict(variables["input"])
    found: dict[str, Any] = {}
    for name, value in _LITERAL_ARG.findall(query):
        found[name] = json.loads(f'"{value}"')
    for name, variable in _VARIABLE_ARG.findall(query):
        if variable in variables:
            found[name] = variables[variable]
    for name, value in _ENUM_ARG.findall(query):
        found[name] = value
    return found


def _graphql_error(message: str, error_type: str | None = None) -> Response:
    error: dict[str, Any] = {"message": message, "locations": [{"line": 1, "column": 1}]}
    if error_type:
        error["type"] = error_type
    return json_response({"errors": [error]})


_NODE_QUERY = re.compile(r"\bnode\s*\(\s*id\s*:")
_PULL_ALIAS = re.compile(r"(\w+)\s*:\s*pullRequest\s*\(\s*number\s*:\s*(\d+)\s*\)")


def _pull_commit_authors(fake: FakeGitHub, query: str, variables: dict[str, Any]) -> Response:
    """`repository(owner:, name:) { alias: pullRequest(number: N) { commits { nodes {
    commit { authors { nodes { name user { login } } } } } } } }`, the fields release-publish
    reads; a pull request that does not exist is null with an error, as GitHub answers."""
    repo = fake.repos.get(f"{variables.get('owner')}/{variables.get('name')}".casefold())
    if repo is None:
        return _graphql_error("Could not resolve to a Repository", "NOT_FOUND")
    found: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for alias, number in _PULL_ALIAS.findall(query):
        pull = repo.pulls.get(int(number))
        if pull is None:
            found[alias] = None
            errors.append({"type": "NOT_FOUND", "path": ["repository", alias], "message": "no pull"})
            continue
        author = repo.issues[pull.number].user
        # An App's bot is no GraphQL `User`: its commits carry only the git name.
        login = None if author.endswith("[bot]") else author
        commits = pull.commit_authors or [[(login, author)]]
        found[alias] = {
            "commits": {
                "nodes": [
                    {
                        "commit": {
                            "authors": {
                                "nodes": [
                                    {"name": name, "user": {"login": login} if login else None}
                                    for login, name in people
                                ]
                            }
                        }
                    }
                    for people in commits
                ]
            }
        }
    body: dict[str, Any] = {"data": {"repository": found}}
    if errors:
        body["errors"] = errors
    return json_response(body)


def _discussion_thread(fake: FakeGitHub, discussion_id: Any) -> dict[str, Any]:
    """`node(id:) { ... on Discussion { comments { nodes { id body author { login }
    replies { nodes { ... } } } } } }`, oldest first (`last:` is not applied)."""
    comments = [c for c in fake.discussion_comments.values() if c.discussion_id == discussion_id]

    def node(comment: Any) -> dict[str, Any]:
        user = fake.users.get(comment.user)
        login = comment.user
        if user is not None and user.type == "Bot":
            login = login.removesuffix("[bot]")  # GraphQL names an App's bot without it
        return {"id": comment.node_id, "body": comment.body, "author": {"login": login}}

    top = [c for c in comments if c.reply_to_id is None]
    return {
        "comments": {
            "nodes": [
                {
                    **node(c),
                    "replies": {"nodes": [node(r) for r in comments if r.reply_to_id == c.node_id]},
                }
                for c in top
            ]
        }
    }


@ROUTES.add("api", "POST", "/graphql", "token")
async def graphql(fake: FakeGitHub, ctx: Ctx) -> Response:
    data = ctx.body_object()
    query = data.get("query")
    if not isinstance(query, str):
        raise ApiError(400, "A query attribute must be specified and must be a string.")
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise ApiError(400, "Variables must be an object.")
    mutation = _MUTATION_FIELD.search(query)
    if mutation is None and _PULL_ALIAS.search(query):
        return _pull_commit_authors(fake, query, variables)
    if mutation is None and _NODE_QUERY.search(query):
        return json_response({"data": {"node": _discussion_thread(fake, variables.get("id"))}})
    if mutation is None:
        return _graphql_error(
            "The fake GitHub only implements addDiscussionComment, addReaction, a "
            "discussion's comments through node(id:) and pull requests' commit authors"
        )
    given = _graphql_input(query, variables)
    actor = fake.actor(ctx).login
    if mutation.group(1) == "addDiscussionComment":
        discussion_id = given.get("discussionId")
        body = given.get("body")
        reply_to = given.get("replyToId")
        if not isinstance(discussion_id, str) or not isinstance(body, str) or not body:
            return _graphql_error("discussionId and body are required", "INVALID_INPUT")
        if reply_to is not None and reply_to not in fake.discussion_comments:
            return _graphql_error(
                f"Could not resolve to a node with the global id of '{reply_to}'", "NOT_FOUND"
            )
        comment = fake.add_discussion_comment(discussion_id, body, actor, reply_to_id=reply_to)
        return json_response(
            {
                "data": {
                    "addDiscussionComment": {
                        "clientMutationId": given.get("clientMutationId"),
                        "comment": {
                            "id": comment.node_id,
                            "body": comment.body,
                            "url": f"{ctx.urls.web}/discussions#{comment.node_id}",
                            "replyTo": {"id": reply_to} if reply_to else None,
                        },
                    }
                }
            }
        )
    subject_id = given.get("subjectId")
    content = given.get("content")
    if not isinstance(subject_id, str) or content not in GRAPHQL_REACTIONS:
        return _graphql_error("subjectId and a ReactionContent are required", "INVALID_INPUT")
    fake.graphql_reactions.append({"subject_id": subject_id, "content": str(content), "by": actor})
    return json_response(
        {
            "data": {
                "addReaction": {
                    "clientMutationId": given.get("clientMutationId"),
                    "reaction": {"id": node_id("REA", next_id()), "content": content},
                    "subject": {"id": subject_id},
                }
            }
        }
    )
