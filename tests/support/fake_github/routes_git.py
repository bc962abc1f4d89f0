"""REST routes of the fake GitHub that write git data: branches (refs), a file committed
through the contents API, and a new pull request.

The fake keeps files per branch name (`Repo.files`) and one list of commits; a branch made
here starts with a copy of the default branch's files, and a commit made through the
contents API is appended to that list and moves only its branch. Enough for a proposal
made on its own branch (the onboarding pull request), not a model of git.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from . import shapes
from .core import ROUTES, ApiError, Ctx, json_response, not_found, validation_failed
from .state import Commit, Repo, blob_sha, fake_sha, next_id, node_id

if TYPE_CHECKING:
    from .core import FakeGitHub

R = "/repos/{owner}/{repo}"


def _ref_json(ctx: Ctx, repo: Repo, branch: str) -> dict[str, Any]:
    sha = repo.refs[branch]
    api = f"{ctx.urls.api}/repos/{repo.full_name}"
    return {
        "ref": f"refs/heads/{branch}",
        "node_id": node_id("REF", abs(hash(branch)) % 10**9),
        "url": f"{api}/git/refs/heads/{branch}",
        "object": {"type": "commit", "sha": sha, "url": f"{api}/git/commits/{sha}"},
    }


def _branch_name(ref: str) -> str:
    name = ref.removeprefix("refs/").removeprefix("heads/")
    if not name or (name == ref.removeprefix("refs/") and ref.startswith("tags/")):
        raise not_found()
    return name


def _branch_files(repo: Repo, sha: str) -> dict[str, str]:
    """The files at `sha`: the branch whose head it is, else the default branch's."""
    for branch, head in repo.refs.items():
        if head == sha and branch in repo.files:
            return dict(repo.files[branch])
    return dict(repo.files.get(repo.default_branch, {}))


@ROUTES.add("api", "GET", R + "/git/ref/{ref+}", "token")
async def get_ref(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    ref = ctx.params["ref"]
    if not ref.startswith("heads/"):
        raise not_found()
    branch = ref.removeprefix("heads/")
    if branch not in repo.refs:
        raise not_found()
    return json_response(_ref_json(ctx, repo, branch))


@ROUTES.add("api", "POST", R + "/git/refs", "token")
async def create_ref(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    data = ctx.body_object()
    ref, sha = data.get("ref"), data.get("sha")
    if not isinstance(ref, str) or not ref.startswith("refs/heads/") or ref.count("/") < 2:
        raise ApiError(422, "Reference name must start with 'refs/' and have two slashes.")
    if not isinstance(sha, str) or repo.resolve_commit(sha) is None:
        raise ApiError(422, "Object does not exist")
    branch = ref.removeprefix("refs/heads/")
    if branch in repo.refs:
        raise ApiError(422, "Reference already exists")
    repo.files[branch] = _branch_files(repo, sha)
    repo.refs[branch] = sha
    return json_response(_ref_json(ctx, repo, branch), status=201)


@ROUTES.add("api", "PATCH", R + "/git/refs/{ref+}", "token")
async def update_ref(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    branch = _branch_name(ctx.params["ref"])
    if branch not in repo.refs:
        raise ApiError(422, "Reference does not exist")
    data = ctx.body_object()
    sha = data.get("sha")
    if not isinstance(sha, str) or repo.resolve_commit(sha) is None:
        raise ApiError(422, "Object does not exist")
    # Not a fast-forward unless the new commit comes after the branch's head.
    behind = (repo.resolve_commit(sha) or 0) < (repo.resolve_commit(repo.refs[branch]) or 0)
    if not data.get("force") and behind:
        raise ApiError(422, "Update is not a fast forward")
    repo.files[branch] = _branch_files(repo, sha)
    repo.refs[branch] = sha
    return json_response(_ref_json(ctx, repo, branch))


@ROUTES.add("api", "PUT", R + "/contents/{path+}", "token")
async def put_content(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    data = ctx.body_object()
    path = ctx.params["path"].strip("/")
    message, content = data.get("message"), data.get("content")
    if not isinstance(message, str) or not isinstance(content, str):
        raise validation_failed(
            "Contents", "message" if not isinstance(message, str) else "content"
        )
    try:
        text = base64.b64decode(content, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(422, "content is not valid Base64") from None
    branch = data.get("branch") or repo.default_branch
    if branch not in repo.refs:
        raise ApiError(404, f"Branch {branch} not found")
    files = repo.files.setdefault(branch, _branch_files(repo, repo.refs[branch]))
    if path in files:
        current = blob_sha(files[path].encode())
        if data.get("sha") is None:
            raise ApiError(422, '"sha" wasn\'t supplied.')
        if data.get("sha") != current:
            raise ApiError(409, f"{path} does not match {data.get('sha')}")
    bot = fake.actor(ctx).login
    commit = Commit(
        sha=fake_sha(f"{repo.full_name}:{branch}:{len(repo.commits)}:{message}"),
        message=message,
        author_name=bot,
        author_email=f"{bot}@users.noreply.example",
        author_login=bot,
        parents=[repo.refs[branch]],
    )
    repo.commits.append(commit)
    created = path not in files
    files[path] = text
    repo.refs[branch] = commit.sha
    api = f"{ctx.urls.api}/repos/{repo.full_name}"
    body = {
        "content": shapes.content_file(ctx.urls, repo, path, text, branch),
        "commit": {
            "sha": commit.sha,
            "node_id": node_id("C", next_id()),
            "url": f"{api}/git/commits/{commit.sha}",
            "html_url": f"{ctx.urls.web}/{repo.full_name}/commit/{commit.sha}",
            "message": message,
            "parents": [{"sha": p, "url": f"{api}/git/commits/{p}"} for p in commit.parents],
        },
    }
    return json_response(body, status=201 if created else 200)


@ROUTES.add("api", "POST", R + "/pulls", "token")
async def create_pull(fake: FakeGitHub, ctx: Ctx) -> Response:
    repo = ctx.repo_or_404
    data = ctx.body_object()
    title, head = data.get("title"), data.get("head")
    base = data.get("base")
    if not isinstance(title, str) or not title.strip():
        raise validation_failed("PullRequest", "title", "missing_field")
    if not isinstance(head, str) or not isinstance(base, str):
        raise validation_failed("PullRequest", "head" if not isinstance(head, str) else "base")
    head_branch = head.split(":", 1)[1] if ":" in head else head
    if head_branch not in repo.refs:
        raise validation_failed("PullRequest", "head")
    if base not in repo.refs:
        raise validation_failed("PullRequest", "base")
    for pull in repo.pulls.values():
        same = pull.head_ref == head_branch and pull.base_ref == base
        if same and repo.issues[pull.number].state == "open":
            raise ApiError(422, f"A pull request already exists for {repo.owner}:{head_branch}.")
    if repo.refs[head_branch] == repo.refs[base]:
        raise ApiError(422, f"No commits between {base} and {head_branch}")
    bot = fake.actor(ctx).login
    body = data.get("body")
    pull = fake.add_pull(
        repo.full_name,
        title,
        head=head_branch,
        base=base,
        body=body if isinstance(body, str) else None,
        user=bot,
        draft=bool(data.get("draft")),
    )
    pull.head_sha = repo.refs[head_branch]
    pull.files = [
        {"filename": path, "status": "added", "additions": text.count("\n") + 1}
        for path, text in repo.files.get(head_branch, {}).items()
        if repo.files.get(base, {}).get(path) != text
    ]
    return json_response(
        shapes.pull_request(ctx.urls, repo, fake.users, pull, full=True), status=201
    )
