"""REST routes of the fake GitHub (under /api/v3, plus release uploads under /api/uploads).

Each handler validates its input the way GitHub does (404 for unknown records, 422 with
GitHub's `errors` list for bad fields) and answers with the shapes from `shapes.py`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.responses import RedirectResponse, Response

from . import shapes
from .core import (
    ROUTES,
    ApiError,
    Ctx,
    Handler,
    json_response,
    no_content,
    not_found,
    paginate,
    validation_failed,
)
from .permissions import grants
from .state import (
    REACTION_CONTENTS,
    ROLE_RANK,
    CheckRun,
    CommitComment,
    Issue,
    IssueComment,
    Label,
    Reaction,
    Release,
    ReleaseAsset,
    Repo,
    ReviewComment,
    next_id,
    now,
)

if TYPE_CHECKING:
    from .core import FakeGitHub

R = "/repos/{owner}/{repo}"


def api(method: str, template: str, auth: str = "token") -> Callable[[Handler], Handler]:
    return ROUTES.add("api", method, template, auth)


def _parse_time(value: Any, field_name: str, resource: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise validation_failed(resource, field_name) from None


def _string_field(data: dict[str, Any], name: str, resource: str, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise validation_failed(resource, name, "missing_field")
        return None
    if not isinstance(value, str):
        raise validation_failed(resource, name)
    return value


# ------------------------------------------------------------------------------- app


@api("GET", "/app", auth="jwt")
async def get_app(fake: FakeGitHub, ctx: Ctx) -> Response:
    identity = ctx.auth.app or fake.app_identity
    count = sum(1 for i in fake.installations.values() if i.app_id == identity.app_id)
    return json_response(
        shapes.app(ctx.urls, identity, fake.users[identity.owner], installations_count=count)
    )


def _installation_json(fake: FakeGitHub, ctx: Ctx, installation_id: int) -> dict[str, Any]:
    inst = fake.installations[installation_id]
    identity = fake.apps[inst.app_id]
    return shapes.installation(ctx.urls, inst, identity, fake.users[inst.account])


@api("GET", "/app/installations", auth="jwt")
async def list_app_installations(fake: FakeGitHub, ctx: Ctx) -> Response:
    app_id = (ctx.auth.app or fake.app_identity).app_id
    ids = sorted(i.id for i in fake.installations.values() if i.app_id == app_id)
    page, headers = paginate(ctx, ids)
    return json_response([_installation_json(fake, ctx, i) for i in page], headers=headers)


@api("GET", "/app/installations/{installation_id}", auth="jwt")
async def get_app_installation(fake: FakeGitHub, ctx: Ctx) -> Response:
    installation_id = ctx.int_param("installation_id")
    if installation_id not in fake.installations:
        raise not_found()
    return json_response(_installation_json(fake, ctx, installation_id))


@api("POST", "/app/installations/{installation_id}/access_tokens", auth="jwt")
async def create_access_token(fake: FakeGitHub, ctx: Ctx) -> Response:
    installation_id = ctx.int_param("installation_id")
    inst = fake.installations.get(installation_id)
    if inst is None or (ctx.auth.app and inst.app_id != ctx.auth.app.app_id):
        raise not_found()
    data = ctx.body_object()
    wanted: list[str] | None = None
    if data.get("repositories") is not None:
        names = data["repositories"]
        known = {r.partition("/")[2] for r in inst.repositories}
        if not isinstance(names, list) or any(n not in known for n in names):
            raise ApiError(
                422,
                "There is at least one repository that does not exist or is not"
                " accessible to the parent installation.",
            )
        wanted = [str(n) for n in names]
    if data.get("repository_ids") is not None:
        by_id = {fake.repo(r).id: fake.repo(r).name for r in inst.repositories}
        ids = data["repository_ids"]
        if not isinstance(ids, list) or any(i not in by_id for i in ids):
            raise ApiError(
                422,
                "There is at least one repository that does not exist or is not"
                " accessible to the parent installation.",
            )
        wanted = (wanted or []) + [by_id[i] for i in ids]
    granted = fake.installation_permissions(installation_id)
    requested = data.get("permissions")
    if requested and any(not grants(granted, k, str(v)) for k, v in requested.items()):
        raise ApiError(422, "The permissions requested are not granted to this installation.")
    token = fake.mint_installation_token(installation_id, wanted, requested or None)
    body: dict[str, Any] = {
        "token": token.token,
        "expires_at": shapes.iso(token.expires_at),
        "permissions": dict(requested or granted),
        "repository_selection": "selected",
    }
    if wanted is not None:
        owner = fake.users[inst.account]
        body["repositories"] = [
            shapes.repository(ctx.urls, fake.repo(f"{inst.account}/{n}"), owner, full=False)
            for n in wanted
            if f"{inst.account}/{n}".casefold() in fake.repos
        ]
    return json_response(body, status=201)


@api("GET", R + "/installation", auth="jwt")
async def get_repo_installation(fake: FakeGitHub, ctx: Ctx) -> Response:
    return json_response(_installation_json(fake, ctx, ctx.repo_or_404.installation_id))


@api("GET", "/app/hook/deliveries", auth="jwt")
async def list_hook_deliveries(fake: FakeGitHub, ctx: Ctx) -> Response:
    # Newest first; the cursor is the id of the first delivery of the next page.
    ordered = sorted(fake.hook_deliveries.values(), key=lambda d: d.id, reverse=True)
    try:
        per_page = min(max(int(ctx.query.get("per_page", 30)), 1), 100)
    except ValueError:
        per_page = 30
    cursor = ctx.query.get("cursor")
    start = 0
    if cursor:
        start = next((i for i, d in enumerate(ordered) if str(d.id) == cursor), len(ordered))
    page = ordered[start : start + per_page]
    headers: dict[str, str] = {}
    if start + per_page < len(ordered):
        next_cursor = ordered[start + per_page].id
        url = f"{ctx.urls.api}/app/hook/deliveries?per_page={per_page}&cursor={next_cursor}"
        headers["Link"] = f'<{url}>; rel="next"'
    return json_response([shapes.hook_delivery_item(d) for d in page], headers=headers)


@api("GET", "/app/hook/deliveries/{delivery_id}", auth="jwt")
async def get_hook_delivery(fake: FakeGitHub, ctx: Ctx) -> Response:
    delivery = fake.hook_deliveries.get(ctx.int_param("delivery_id"))
    if delivery is None:
        raise not_found()
    return json_response(shapes.hook_delivery(ctx.urls, delivery))


@api("POST", "/app/hook/deliveries/{delivery_id}/attempts", auth="jwt")
async def redeliver_hook(fake: FakeGitHub, ctx: Ctx) -> Response:
    delivery = fake.hook_deliveries.get(ctx.int_param("delivery_id"))
    if delivery is None:
        raise not_found()
    fake.redelivery_requests.append(delivery.id)
    # GitHub keeps the same delivery guid on a redelivery.
    fake.add_hook_delivery(
        delivery.guid,
        delivery.event,
        delivery.action,
        200,
        now(),
        redelivery=True,
        installation_id=delivery.installation_id,
        repository_id=delivery.repository_id,
        payload=delivery.payload,
    )
    return json_response({}, status=202)


@api("POST", "/app-manifests/{code}/conversions", auth="none")
async def convert_manifest(fake: FakeGitHub, ctx: Ctx) -> Response:
    from .server import make_app_from_manifest

    code = ctx.params["code"]
    manifest = fake.manifests.pop(code, None)
    if manifest is None:
        raise not_found()
    identity, pem = make_app_from_manifest(fake, manifest, fake.manifest_owners.pop(code))
    owner = fake.users[identity.owner]
    body = {
        **shapes.app(ctx.urls, identity, owner, installations_count=0),
        "client_secret": identity.client_secret,
        "webhook_secret": identity.webhook_secret,
        "pem": pem,
    }
    return json_response(body, status=201)


# ------------------------------------------------------------------------ repository


@api("GET", R)
async def get_repository(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    return json_response(shapes.repository(ctx.urls, repo, fake.users[repo.owner]))


@api("GET", R + "/contents/{path+}")
async def get_content(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    ref = ctx.query.get("ref") or repo.default_branch
    if ref in repo.files:
        files = repo.files[ref]
    elif repo.resolve_commit(ref) is not None:
        files = repo.files.get(repo.default_branch, {})
    else:
        raise ApiError(404, f"No commit found for the ref {ref}")
    path = ctx.params["path"].strip("/")
    if path in files:
        return json_response(shapes.content_file(ctx.urls, repo, path, files[path], ref))
    prefix = path + "/"
    children: dict[str, tuple[bool, int]] = {}
    for file_path, content in files.items():
        if file_path.startswith(prefix):
            head, sep, _rest = file_path[len(prefix) :].partition("/")
            children[prefix + head] = (bool(sep), len(content.encode()))
    if not children:
        raise not_found()
    return json_response(
        [
            shapes.directory_entry(ctx.urls, repo, p, ref, is_dir=d, size=s)
            for p, (d, s) in sorted(children.items())
        ]
    )


@api("GET", R + "/collaborators/{username}/permission")
async def get_collaborator_permission(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    login = ctx.params["username"]
    user = fake.users.get(login)
    if user is None:
        raise ApiError(404, f"{login} is not a user")
    return json_response(shapes.collaborator_permission(ctx.urls, user, fake.role_of(repo, login)))


# ---------------------------------------------------------------------------- issues


def _issue(repo: Repo, ctx: Ctx) -> Issue:
    item = repo.issues.get(ctx.int_param("number"))
    if item is None:
        raise not_found()
    return item


def _issue_json(fake: FakeGitHub, ctx: Ctx, item: Issue) -> dict[str, Any]:
    return shapes.issue(ctx.urls, ctx.repo_or_404, fake.users, item)


@api("GET", R + "/issues")
async def list_issues(fake: FakeGitHub, ctx: Ctx) -> Response:
    """Issues and pull requests (GitHub lists both), filtered by state and by labels (all of
    the comma-separated names, case-insensitively), newest first."""
    repo = ctx.repo_or_404
    state = ctx.query.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise validation_failed("Issue", "state")
    wanted = [n.strip().casefold() for n in ctx.query.get("labels", "").split(",") if n.strip()]
    items = []
    for item in sorted(repo.issues.values(), key=lambda i: i.number, reverse=True):
        names = {repo.labels[i].name.casefold() for i in item.label_ids if i in repo.labels}
        if (state == "all" or item.state == state) and all(n in names for n in wanted):
            items.append(item)
    page, headers = paginate(ctx, items)
    return json_response([_issue_json(fake, ctx, item) for item in page], headers=headers)


@api("GET", R + "/issues/{number}")
async def get_issue(fake: FakeGitHub, ctx: Ctx) -> Response:
    return json_response(_issue_json(fake, ctx, _issue(ctx.repo_or_404, ctx)))


def _label_names(value: Any) -> list[str]:
    names: list[str] = []
    items = value if isinstance(value, list) else None
    if items is None:
        raise validation_failed("Label", "labels")
    for entry in items:
        name = entry.get("name") if isinstance(entry, dict) else entry
        if not isinstance(name, str) or not name:
            raise validation_failed("Label", "name")
        names.append(name)
    return names


@api("PATCH", R + "/issues/{number}")
async def update_issue(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    item = _issue(repo, ctx)
    data = ctx.body_object()
    if "title" in data:
        title = _string_field(data, "title", "Issue", required=True)
        item.title = title or item.title
    if "body" in data:
        item.body = _string_field(data, "body", "Issue", required=False)
    if "state" in data:
        state = data["state"]
        if state not in ("open", "closed"):
            raise validation_failed("Issue", "state")
        if state != item.state:
            item.state = state
            item.closed_at = now() if state == "closed" else None
            item.state_reason = data.get("state_reason") or (
                "completed" if state == "closed" else "reopened"
            )
    if "labels" in data:
        item.label_ids = fake._labels_by_name(repo, _label_names(data["labels"]))
    if "milestone" in data:
        number = data["milestone"]
        if number is not None and number not in repo.milestones:
            raise validation_failed("Issue", "milestone")
        item.milestone = number
    if "assignees" in data:
        assignees = data["assignees"] or []
        for login in assignees:
            fake._user(str(login))
        item.assignees = [str(a) for a in assignees]
    item.updated_at = now()
    return json_response(_issue_json(fake, ctx, item))


def _comment(repo: Repo, ctx: Ctx) -> IssueComment:
    comment = repo.comments.get(ctx.int_param("comment_id"))
    if comment is None:
        raise not_found()
    return comment


@api("GET", R + "/issues/{number}/comments")
async def list_issue_comments(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    item = _issue(repo, ctx)
    since = _parse_time(ctx.query.get("since"), "since", "IssueComment")
    comments = [
        c
        for c in sorted(repo.comments.values(), key=lambda c: c.id)
        if c.issue_number == item.number and (since is None or c.updated_at >= since)
    ]
    page, headers = paginate(ctx, comments)
    return json_response(
        [shapes.issue_comment(ctx.urls, repo, fake.users, c) for c in page], headers=headers
    )


@api("POST", R + "/issues/{number}/comments")
async def create_issue_comment(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    item = _issue(repo, ctx)
    body = _string_field(ctx.body_object(), "body", "IssueComment", required=True)
    if item.locked and ctx.auth.user_token is not None:
        raise ApiError(403, "Unable to create comment because issue is locked.")
    comment = IssueComment(
        id=next_id(), issue_number=item.number, body=body or "", user=fake.actor(ctx).login
    )
    repo.comments[comment.id] = comment
    item.updated_at = now()
    location = f"{ctx.urls.api}/repos/{repo.full_name}/issues/comments/{comment.id}"
    return json_response(
        shapes.issue_comment(ctx.urls, repo, fake.users, comment),
        status=201,
        headers={"Location": location},
    )


@api("GET", R + "/issues/comments/{comment_id}")
async def get_issue_comment(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    return json_response(shapes.issue_comment(ctx.urls, repo, fake.users, _comment(repo, ctx)))


@api("PATCH", R + "/issues/comments/{comment_id}")
async def update_issue_comment(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    comment = _comment(repo, ctx)
    comment.body = _string_field(ctx.body_object(), "body", "IssueComment", required=True) or ""
    comment.updated_at = now()
    return json_response(shapes.issue_comment(ctx.urls, repo, fake.users, comment))


@api("DELETE", R + "/issues/comments/{comment_id}")
async def delete_issue_comment(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    del repo.comments[_comment(repo, ctx).id]
    return no_content()


def _issue_labels_json(ctx: Ctx, repo: Repo, item: Issue) -> list[dict[str, Any]]:
    return [shapes.label(ctx.urls, repo, repo.labels[i]) for i in item.label_ids]


def _labels_from_body(ctx: Ctx) -> list[str]:
    data = ctx.json
    if isinstance(data, dict):
        data = data.get("labels", [])
    return _label_names(data)


@api("GET", R + "/issues/{number}/labels")
async def list_issue_labels(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    item = _issue(repo, ctx)
    page, headers = paginate(ctx, _issue_labels_json(ctx, repo, item))
    return json_response(page, headers=headers)


@api("POST", R + "/issues/{number}/labels")
async def add_issue_labels(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    item = _issue(repo, ctx)
    for label_id in fake._labels_by_name(repo, _labels_from_body(ctx)):
        if label_id not in item.label_ids:
            item.label_ids.append(label_id)
    item.updated_at = now()
    return json_response(_issue_labels_json(ctx, repo, item))


@api("PUT", R + "/issues/{number}/labels")
async def set_issue_labels(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    item = _issue(repo, ctx)
    item.label_ids = fake._labels_by_name(repo, _labels_from_body(ctx))
    item.updated_at = now()
    return json_response(_issue_labels_json(ctx, repo, item))


@api("DELETE", R + "/issues/{number}/labels")
async def clear_issue_labels(fake: FakeGitHub, ctx: Ctx) -> Response:
    item = _issue(ctx.repo_or_404, ctx)
    item.label_ids = []
    item.updated_at = now()
    return no_content()


@api("DELETE", R + "/issues/{number}/labels/{name}")
async def remove_issue_label(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    item = _issue(repo, ctx)
    lb = repo.find_label(ctx.params["name"])
    if lb is None or lb.id not in item.label_ids:
        raise ApiError(404, "Label does not exist")
    item.label_ids.remove(lb.id)
    item.updated_at = now()
    return json_response(_issue_labels_json(ctx, repo, item))


def _react(fake: FakeGitHub, ctx: Ctx, reactions: list[Reaction]) -> Response:
    content = ctx.body_object().get("content")
    if content not in REACTION_CONTENTS:
        raise validation_failed("Reaction", "content")
    login = fake.actor(ctx).login
    existing = next((r for r in reactions if r.user == login and r.content == content), None)
    if existing is not None:
        return json_response(shapes.reaction(ctx.urls, fake.users, existing), status=200)
    created = Reaction(id=next_id(), content=str(content), user=login)
    reactions.append(created)
    return json_response(shapes.reaction(ctx.urls, fake.users, created), status=201)


@api("POST", R + "/issues/{number}/reactions")
async def react_to_issue(fake: FakeGitHub, ctx: Ctx) -> Response:
    return _react(fake, ctx, _issue(ctx.repo_or_404, ctx).reactions)


@api("POST", R + "/issues/comments/{comment_id}/reactions")
async def react_to_issue_comment(fake: FakeGitHub, ctx: Ctx) -> Response:
    return _react(fake, ctx, _comment(ctx.repo_or_404, ctx).reactions)


@api("POST", R + "/pulls/comments/{comment_id}/reactions")
async def react_to_review_comment(fake: FakeGitHub, ctx: Ctx) -> Response:
    comment = ctx.repo_or_404.review_comments.get(ctx.int_param("comment_id"))
    if comment is None:
        raise not_found()
    return _react(fake, ctx, comment.reactions)


# ----------------------------------------------------------------------------- pulls

_PULL_SORT_KEYS = {
    "created": lambda i: i.created_at,
    "updated": lambda i: i.updated_at,
    "popularity": lambda i: len(i.reactions),
    "long-running": lambda i: i.created_at,
}


@api("GET", R + "/pulls")
async def list_pulls(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    state = ctx.query.get("state", "open")
    sort = ctx.query.get("sort", "created")
    if state not in ("open", "closed", "all") or sort not in _PULL_SORT_KEYS:
        raise validation_failed("PullRequest", "state" if sort in _PULL_SORT_KEYS else "sort")
    default_direction = "desc" if sort == "created" else "asc"
    direction = ctx.query.get("direction", default_direction)
    base = ctx.query.get("base")
    head = ctx.query.get("head")
    pulls = [
        p
        for p in repo.pulls.values()
        if (state == "all" or repo.issues[p.number].state == state)
        and (base is None or p.base_ref == base)
        and (head is None or f"{repo.owner}:{p.head_ref}" == head)
    ]
    key = _PULL_SORT_KEYS[sort]
    # Ties (same second) keep creation order via the number.
    pulls.sort(key=lambda p: (key(repo.issues[p.number]), p.number), reverse=direction == "desc")
    page, headers = paginate(ctx, pulls)
    return json_response(
        [shapes.pull_request(ctx.urls, repo, fake.users, p, full=False) for p in page],
        headers=headers,
    )


@api("GET", R + "/pulls/{number}")
async def get_pull(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    pull = repo.pulls.get(ctx.int_param("number"))
    if pull is None:
        raise not_found()
    return json_response(shapes.pull_request(ctx.urls, repo, fake.users, pull, full=True))


@api("GET", R + "/pulls/{number}/files")
async def list_pull_files(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    pull = repo.pulls.get(ctx.int_param("number"))
    if pull is None:
        raise not_found()
    page, headers = paginate(ctx, pull.files)
    return json_response(
        [shapes.diff_entry(ctx.urls, repo, pull, f) for f in page], headers=headers
    )


@api("GET", R + "/pulls/{number}/comments")
async def list_review_comments(fake: FakeGitHub, ctx: Ctx) -> Response:
    """A pull request's review comments, oldest first, optionally updated since a time."""
    repo = ctx.repo_or_404
    number = ctx.int_param("number")
    if number not in repo.pulls:
        raise not_found()
    since = _parse_time(ctx.query.get("since"), "since", "PullRequestReviewComment")
    comments = [
        c
        for c in sorted(repo.review_comments.values(), key=lambda c: c.id)
        if c.pull_number == number and (since is None or c.updated_at >= since)
    ]
    page, headers = paginate(ctx, comments)
    return json_response(
        [shapes.review_comment(ctx.urls, repo, fake.users, c) for c in page], headers=headers
    )


@api("POST", R + "/pulls/{number}/comments/{comment_id}/replies")
async def reply_to_review_comment(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    number = ctx.int_param("number")
    parent = repo.review_comments.get(ctx.int_param("comment_id"))
    if number not in repo.pulls or parent is None or parent.pull_number != number:
        raise not_found()
    body = _string_field(ctx.body_object(), "body", "PullRequestReviewComment", required=True)
    reply = ReviewComment(
        id=next_id(),
        pull_number=number,
        body=body or "",
        user=fake.actor(ctx).login,
        path=parent.path,
        commit_id=parent.commit_id,
        diff_hunk=parent.diff_hunk,
        line=parent.line,
        in_reply_to_id=parent.in_reply_to_id or parent.id,
        review_id=next_id(),
    )
    repo.review_comments[reply.id] = reply
    return json_response(shapes.review_comment(ctx.urls, repo, fake.users, reply), status=201)


# ---------------------------------------------------------------------------- labels


def _label(repo: Repo, ctx: Ctx) -> Label:
    lb = repo.find_label(ctx.params["name"])
    if lb is None:
        raise not_found()
    return lb


def _check_color(value: Any) -> str:
    color = str(value).removeprefix("#")
    if len(color) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in color):
        raise validation_failed("Label", "color")
    return color.lower()


@api("GET", R + "/labels")
async def list_labels(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    page, headers = paginate(ctx, list(repo.labels.values()))
    return json_response([shapes.label(ctx.urls, repo, lb) for lb in page], headers=headers)


@api("GET", R + "/labels/{name}")
async def get_label(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    return json_response(shapes.label(ctx.urls, repo, _label(repo, ctx)))


@api("POST", R + "/labels")
async def create_label(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    data = ctx.body_object()
    name = _string_field(data, "name", "Label", required=True) or ""
    if repo.find_label(name) is not None:
        raise validation_failed("Label", "name", "already_exists")
    color = _check_color(data.get("color") or "ededed")
    description = _string_field(data, "description", "Label", required=False)
    lb = fake.add_label(repo.full_name, name, color, description)
    location = f"{ctx.urls.api}/repos/{repo.full_name}/labels/{name}"
    return json_response(
        shapes.label(ctx.urls, repo, lb), status=201, headers={"Location": location}
    )


@api("PATCH", R + "/labels/{name}")
async def update_label(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    lb = _label(repo, ctx)
    data = ctx.body_object()
    new_name = _string_field(data, "new_name", "Label", required=False)
    if new_name is not None:
        clash = repo.find_label(new_name)
        if clash is not None and clash.id != lb.id:
            raise validation_failed("Label", "name", "already_exists")
        lb.name = new_name  # issues hold label ids, so they keep the renamed label
    if data.get("color") is not None:
        lb.color = _check_color(data["color"])
    if "description" in data:
        lb.description = _string_field(data, "description", "Label", required=False)
    return json_response(shapes.label(ctx.urls, repo, lb))


@api("DELETE", R + "/labels/{name}")
async def delete_label(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    lb = _label(repo, ctx)
    del repo.labels[lb.id]
    for item in repo.issues.values():
        if lb.id in item.label_ids:
            item.label_ids.remove(lb.id)
    return no_content()


# ------------------------------------------------------------------------ milestones


@api("GET", R + "/milestones")
async def list_milestones(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    state = ctx.query.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise validation_failed("Milestone", "state")
    chosen = [m for m in repo.milestones.values() if state == "all" or m.state == state]
    sort = ctx.query.get("sort", "due_on")
    direction = ctx.query.get("direction", "asc")
    if sort == "completeness":
        chosen.sort(key=lambda m: m.number)
    else:
        # GitHub lists milestones without a due date after the dated ones.
        chosen.sort(key=lambda m: (m.due_on is None, m.due_on or m.created_at, m.number))
    if direction == "desc":
        chosen.reverse()
    page, headers = paginate(ctx, chosen)
    return json_response(
        [shapes.milestone(ctx.urls, repo, fake.users, m) for m in page], headers=headers
    )


@api("GET", R + "/milestones/{number}")
async def get_milestone(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    ms = repo.milestones.get(ctx.int_param("number"))
    if ms is None:
        raise not_found()
    return json_response(shapes.milestone(ctx.urls, repo, fake.users, ms))


@api("PATCH", R + "/milestones/{number}")
async def update_milestone(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    ms = repo.milestones.get(ctx.int_param("number"))
    if ms is None:
        raise not_found()
    data = ctx.body_object()
    if "title" in data:
        ms.title = _string_field(data, "title", "Milestone", required=True) or ms.title
    if "description" in data:
        ms.description = _string_field(data, "description", "Milestone", required=False)
    if "due_on" in data:
        ms.due_on = _parse_time(data["due_on"], "due_on", "Milestone")
    if "state" in data:
        if data["state"] not in ("open", "closed"):
            raise validation_failed("Milestone", "state")
        if data["state"] != ms.state:
            ms.state = data["state"]
            ms.closed_at = now() if ms.state == "closed" else None
    ms.updated_at = now()
    return json_response(shapes.milestone(ctx.urls, repo, fake.users, ms))


# -------------------------------------------------------------------------- releases


def _can_see_drafts(fake: FakeGitHub, ctx: Ctx, repo: Repo) -> bool:
    if ctx.auth.installation_token is not None:
        return True
    user_token = ctx.auth.user_token
    return user_token is not None and ROLE_RANK[fake.role_of(repo, user_token.login)] >= 3


def _release(repo: Repo, ctx: Ctx) -> Release:
    rel = repo.releases.get(ctx.int_param("release_id"))
    if rel is None:
        raise not_found()
    return rel


def _release_json(fake: FakeGitHub, ctx: Ctx, rel: Release) -> dict[str, Any]:
    return shapes.release(ctx.urls, ctx.repo_or_404, fake.users, rel)


@api("GET", R + "/releases")
async def list_releases(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    drafts = _can_see_drafts(fake, ctx, repo)
    chosen = [r for r in repo.releases.values() if drafts or not r.draft]
    chosen.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    page, headers = paginate(ctx, chosen)
    return json_response([_release_json(fake, ctx, r) for r in page], headers=headers)


@api("GET", R + "/releases/latest")
async def get_latest_release(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    published = [r for r in repo.releases.values() if not r.draft and not r.prerelease]
    if not published:
        raise not_found()
    latest = max(published, key=lambda r: (r.published_at or r.created_at, r.id))
    return json_response(_release_json(fake, ctx, latest))


@api("GET", R + "/releases/tags/{tag}")
async def get_release_by_tag(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    tag = ctx.params["tag"]
    found = next((r for r in repo.releases.values() if r.tag_name == tag and not r.draft), None)
    if found is None:
        raise not_found()
    return json_response(_release_json(fake, ctx, found))


@api("GET", R + "/releases/{release_id}")
async def get_release(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    rel = _release(repo, ctx)
    if rel.draft and not _can_see_drafts(fake, ctx, repo):
        raise not_found()
    return json_response(_release_json(fake, ctx, rel))


def _check_tag_free(repo: Repo, tag: str, keep: int | None) -> None:
    for other in repo.releases.values():
        if other.tag_name == tag and not other.draft and other.id != keep:
            raise validation_failed("Release", "tag_name", "already_exists")


@api("POST", R + "/releases")
async def create_release(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    data = ctx.body_object()
    tag = _string_field(data, "tag_name", "Release", required=True) or ""
    draft = bool(data.get("draft", False))
    if not draft:
        _check_tag_free(repo, tag, None)
    rel = Release(
        id=next_id(),
        tag_name=tag,
        target_commitish=str(data.get("target_commitish") or repo.default_branch),
        name=_string_field(data, "name", "Release", required=False),
        body=_string_field(data, "body", "Release", required=False),
        author=fake.actor(ctx).login,
        draft=draft,
        prerelease=bool(data.get("prerelease", False)),
        published_at=None if draft else now(),
    )
    repo.releases[rel.id] = rel
    if not draft and tag not in repo.refs:
        repo.refs[tag] = repo.refs.get(rel.target_commitish, repo.commits[-1].sha)
    location = f"{ctx.urls.api}/repos/{repo.full_name}/releases/{rel.id}"
    return json_response(_release_json(fake, ctx, rel), status=201, headers={"Location": location})


@api("PATCH", R + "/releases/{release_id}")
async def update_release(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    rel = _release(repo, ctx)
    data = ctx.body_object()
    tag = _string_field(data, "tag_name", "Release", required=False) or rel.tag_name
    draft = bool(data.get("draft", rel.draft))
    if not draft:
        _check_tag_free(repo, tag, rel.id)
    rel.tag_name = tag
    for name in ("name", "body"):
        if name in data:
            setattr(rel, name, _string_field(data, name, "Release", required=False))
    if "target_commitish" in data:
        rel.target_commitish = str(data["target_commitish"])
    if "prerelease" in data:
        rel.prerelease = bool(data["prerelease"])
    if rel.draft and not draft:
        rel.published_at = now()
        repo.refs.setdefault(tag, repo.refs.get(rel.target_commitish, repo.commits[-1].sha))
    rel.draft = draft
    return json_response(_release_json(fake, ctx, rel))


@api("DELETE", R + "/releases/{release_id}")
async def delete_release(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    rel = _release(repo, ctx)
    for asset_id in rel.asset_ids:
        repo.assets.pop(asset_id, None)
    del repo.releases[rel.id]
    return no_content()


@api("GET", R + "/releases/{release_id}/assets")
async def list_release_assets(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    rel = _release(repo, ctx)
    assets = [repo.assets[a] for a in rel.asset_ids if a in repo.assets]
    page, headers = paginate(ctx, assets)
    return json_response(
        [shapes.release_asset(ctx.urls, repo, fake.users, a, rel.tag_name) for a in page],
        headers=headers,
    )


@api("DELETE", R + "/releases/assets/{asset_id}")
async def delete_release_asset(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    asset = repo.assets.pop(ctx.int_param("asset_id"), None)
    if asset is None:
        raise not_found()
    rel = repo.releases.get(asset.release_id)
    if rel is not None and asset.id in rel.asset_ids:
        rel.asset_ids.remove(asset.id)
    return no_content()


async def upload_release_asset(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    rel = _release(repo, ctx)
    name = ctx.query.get("name")
    if not name:
        raise ApiError(400, "Bad Content-Length: 0")
    if not ctx.body:
        raise validation_failed("ReleaseAsset", "size")
    if any(repo.assets[a].name == name for a in rel.asset_ids if a in repo.assets):
        raise validation_failed("ReleaseAsset", "name", "already_exists")
    asset = ReleaseAsset(
        id=next_id(),
        release_id=rel.id,
        name=name,
        label=ctx.query.get("label"),
        content_type=ctx.request.headers.get("content-type", "application/octet-stream"),
        data=ctx.body,
        uploader=fake.actor(ctx).login,
    )
    repo.assets[asset.id] = asset
    rel.asset_ids.append(asset.id)
    return json_response(
        shapes.release_asset(ctx.urls, repo, fake.users, asset, rel.tag_name), status=201
    )


# GHES serves uploads at /api/uploads; githubkit posts them to the API base: accept both.
ROUTES.add("uploads", "POST", R + "/releases/{release_id}/assets", "token")(upload_release_asset)
ROUTES.add("api", "POST", R + "/releases/{release_id}/assets", "token")(upload_release_asset)


# ------------------------------------------------------------------- commits, checks


@api("GET", R + "/compare/{basehead+}")  # branch names may hold slashes
async def compare_commits(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    base, sep, head = ctx.params["basehead"].partition("...")
    if not sep:
        raise not_found()
    base_index = repo.resolve_commit(base)
    head_index = repo.resolve_commit(head)
    if base_index is None or head_index is None:
        raise not_found()
    ahead = max(head_index - base_index, 0)
    behind = max(base_index - head_index, 0)
    status = "identical" if base_index == head_index else "ahead" if ahead else "behind"
    merge_base = repo.commits[min(base_index, head_index)]
    commits = repo.commits[base_index + 1 : head_index + 1]
    api_base = f"{ctx.urls.api}/repos/{repo.full_name}"
    web_base = f"{ctx.urls.web}/{repo.full_name}"
    basehead = ctx.params["basehead"]
    return json_response(
        {
            "url": f"{api_base}/compare/{basehead}",
            "html_url": f"{web_base}/compare/{basehead}",
            "permalink_url": f"{web_base}/compare/{basehead}",
            "diff_url": f"{web_base}/compare/{basehead}.diff",
            "patch_url": f"{web_base}/compare/{basehead}.patch",
            "base_commit": shapes.commit(ctx.urls, repo, fake.users, repo.commits[base_index]),
            "merge_base_commit": shapes.commit(ctx.urls, repo, fake.users, merge_base),
            "status": status,
            "ahead_by": ahead,
            "behind_by": behind,
            "total_commits": len(commits),
            "commits": [shapes.commit(ctx.urls, repo, fake.users, c) for c in commits],
            "files": [],
        }
    )


_CHECK_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
_CHECK_CONCLUSIONS = (
    "success",
    "failure",
    "neutral",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
)


def _apply_check_fields(check: CheckRun, data: dict[str, Any]) -> None:
    if "status" in data:
        if data["status"] not in _CHECK_STATUSES:
            raise validation_failed("CheckRun", "status")
        check.status = data["status"]
    if data.get("conclusion") is not None:
        if data["conclusion"] not in _CHECK_CONCLUSIONS:
            raise validation_failed("CheckRun", "conclusion")
        check.conclusion = data["conclusion"]
        check.status = "completed"  # GitHub completes a run once it has a conclusion
    if check.status == "completed" and check.conclusion is None:
        raise ApiError(422, "Invalid request.\n\nconclusion wasn't supplied.")
    for name in ("details_url", "external_id"):
        if name in data:
            setattr(check, name, data[name])
    if "output" in data:
        output = data["output"]
        if not isinstance(output, dict) or "title" not in output or "summary" not in output:
            raise validation_failed("CheckRun", "output")
        check.output = dict(output)
    if data.get("started_at"):
        check.started_at = _parse_time(data["started_at"], "started_at", "CheckRun")
    if data.get("completed_at"):
        check.completed_at = _parse_time(data["completed_at"], "completed_at", "CheckRun")
    if check.status == "completed" and check.completed_at is None:
        check.completed_at = now()


def _check_json(fake: FakeGitHub, ctx: Ctx, check: CheckRun) -> dict[str, Any]:
    identity = fake.apps.get(check.app_id, fake.app_identity)
    app_json = shapes.app(ctx.urls, identity, fake.users[identity.owner], installations_count=1)
    return shapes.check_run(ctx.urls, ctx.repo_or_404, check, app_json)


@api("POST", R + "/check-runs", auth="installation")
async def create_check_run(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    data = ctx.body_object()
    name = _string_field(data, "name", "CheckRun", required=True) or ""
    head_sha = _string_field(data, "head_sha", "CheckRun", required=True) or ""
    check = CheckRun(
        id=next_id(),
        name=name,
        head_sha=head_sha,
        app_id=(ctx.auth.app or fake.app_identity).app_id,
        started_at=now(),
    )
    _apply_check_fields(check, data)
    repo.check_runs[check.id] = check
    return json_response(_check_json(fake, ctx, check), status=201)


@api("PATCH", R + "/check-runs/{check_run_id}", auth="installation")
async def update_check_run(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    check = repo.check_runs.get(ctx.int_param("check_run_id"))
    if check is None:
        raise not_found()
    data = ctx.body_object()
    if "name" in data:
        check.name = _string_field(data, "name", "CheckRun", required=True) or check.name
    _apply_check_fields(check, data)
    return json_response(_check_json(fake, ctx, check))


@api("GET", R + "/commits/{ref}/check-runs")
async def list_check_runs_for_ref(fake: FakeGitHub, ctx: Ctx) -> Response:
    """The check runs on a commit (by sha; `filter=latest`, GitHub's default, keeps the
    newest run of each name)."""
    repo = ctx.repo_or_404
    ref = ctx.params["ref"]
    checks = sorted((c for c in repo.check_runs.values() if c.head_sha == ref), key=lambda c: c.id)
    if ctx.query.get("filter", "latest") == "latest":
        newest = {(c.app_id, c.name): c for c in checks}
        checks = sorted(newest.values(), key=lambda c: c.id)
    page, headers = paginate(ctx, checks)
    return json_response(
        {"total_count": len(checks), "check_runs": [_check_json(fake, ctx, c) for c in page]},
        headers=headers,
    )


@api("POST", R + "/commits/{sha}/comments")
async def create_commit_comment(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    index = repo.resolve_commit(ctx.params["sha"])
    if index is None:
        raise validation_failed("CommitComment", "commit_id")
    data = ctx.body_object()
    body = _string_field(data, "body", "CommitComment", required=True) or ""
    comment = CommitComment(
        id=next_id(),
        commit_id=repo.commits[index].sha,
        body=body,
        user=fake.actor(ctx).login,
        path=_string_field(data, "path", "CommitComment", required=False),
        position=data.get("position"),
        line=data.get("line"),
    )
    repo.commit_comments[comment.id] = comment
    return json_response(shapes.commit_comment(ctx.urls, repo, fake.users, comment), status=201)


# --------------------------------------------------------------------------- actions


@api("POST", R + "/dispatches")
async def dispatch(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    data = ctx.body_object()
    event_type = _string_field(data, "event_type", "Dispatch", required=True)
    payload = data.get("client_payload", {})
    if not isinstance(payload, dict):
        raise validation_failed("Dispatch", "client_payload")
    repo.dispatches.append({"event_type": event_type, "client_payload": payload})
    return no_content()


@api("GET", R + "/actions/runs/{run_id}/artifacts")
async def list_run_artifacts(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    run = repo.workflow_runs.get(ctx.int_param("run_id"))
    if run is None:
        raise not_found()
    name = ctx.query.get("name")
    artifacts = [
        repo.artifacts[a]
        for a in run.artifact_ids
        if a in repo.artifacts and (name is None or repo.artifacts[a].name == name)
    ]
    page, headers = paginate(ctx, artifacts)
    return json_response(
        {
            "total_count": len(artifacts),
            "artifacts": [shapes.artifact(ctx.urls, repo, a) for a in page],
        },
        headers=headers,
    )


@api("GET", R + "/actions/artifacts/{artifact_id}/{archive_format}")
async def download_artifact(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    artifact = repo.artifacts.get(ctx.int_param("artifact_id"))
    if artifact is None or ctx.params["archive_format"] != "zip":
        raise not_found()
    if artifact.expired:
        raise ApiError(410, "Artifact has expired")
    # Like GitHub: a short-lived, pre-signed link on another path that needs no token.
    signature = secrets.token_hex(8)
    location = f"{ctx.urls.web}/_fake/artifacts/{repo.full_name}/{artifact.id}.zip?sig={signature}"
    return RedirectResponse(location, status_code=302)


# ----------------------------------------------------------------------- orgs, users


@api("GET", "/orgs/{org}/memberships/{username}")
async def get_org_membership(fake: FakeGitHub, ctx: Ctx) -> Response:
    org = fake.users.get(ctx.params["org"])
    user = fake.users.get(ctx.params["username"])
    if org is None or org.type != "Organization" or user is None:
        raise not_found()
    role = user.org_roles.get(org.login)
    if role is None:
        raise not_found()
    return json_response(shapes.org_membership(ctx.urls, org, user, role))


@api("GET", "/user", auth="user")
async def get_authenticated_user(fake: FakeGitHub, ctx: Ctx) -> Response:
    assert ctx.auth.user_token is not None
    return json_response(shapes.private_user(ctx.urls, fake.users[ctx.auth.user_token.login]))


def _user_installation_ids(fake: FakeGitHub, login: str, app_id: int) -> list[int]:
    user = fake.users[login]
    return sorted(
        i.id
        for i in fake.installations.values()
        if i.app_id == app_id and (i.account == login or i.account in user.org_roles)
    )


@api("GET", "/user/installations", auth="user")
async def list_user_installations(fake: FakeGitHub, ctx: Ctx) -> Response:
    assert ctx.auth.user_token is not None
    ids = _user_installation_ids(fake, ctx.auth.user_token.login, ctx.auth.user_token.app_id)
    page, headers = paginate(ctx, ids)
    return json_response(
        {
            "total_count": len(ids),
            "installations": [_installation_json(fake, ctx, i) for i in page],
        },
        headers=headers,
    )


@api("GET", "/user/installations/{installation_id}/repositories", auth="user")
async def list_user_installation_repos(fake: FakeGitHub, ctx: Ctx) -> Response:
    assert ctx.auth.user_token is not None
    token = ctx.auth.user_token
    installation_id = ctx.int_param("installation_id")
    if installation_id not in _user_installation_ids(fake, token.login, token.app_id):
        raise not_found()
    inst = fake.installations[installation_id]
    repos = [
        fake.repo(name)
        for name in inst.repositories
        if fake.role_of(fake.repo(name), token.login) != "none"
    ]
    page, headers = paginate(ctx, repos)
    return json_response(
        {
            "total_count": len(repos),
            "repository_selection": "selected",
            "repositories": [
                shapes.repository(ctx.urls, r, fake.users[r.owner], full=False) for r in page
            ],
        },
        headers=headers,
    )
