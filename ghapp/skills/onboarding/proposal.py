"""The onboarding pull request on GitHub: what is there already, and opening it.

What was proposed is remembered on GitHub itself: the `ghapp/configure` branch and its
pull requests, open or closed. So before anything is written the repository is asked:
is `.github/ghapp.yml` there (nothing to propose), is a pull request from that branch
open (link it), was one closed (not proposed again unless someone asks)? Only then are
the labels and the release-drafter file read, the file composed, and the branch, the
commit (contents API) and the pull request made, one paced write after another. A branch
left by an attempt that stopped half way is reset to the default branch's head and used.

All of it runs under a lock per repository, so two workers handling two deliveries for
the same repository check and write one after the other.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import yaml
from githubkit.exception import RequestFailed
from githubkit.utils import UNSET

from ghapp import CONFIG_PATH, Context, RepoRef
from ghapp.skills.onboarding.starter import (
    BRANCH,
    COMMIT_MESSAGE,
    RELEASE_DRAFTER_PATH,
    TITLE,
    RepoLabel,
    plan_table,
    proposal_body,
    starter_file,
    translate_release_drafter,
)

LABEL_SYNC = "label-sync"
PLAN_ROWS = "plan-rows"

Outcome = Literal["configured", "open", "declined", "archived", "empty", "opened", "dry_run"]


@dataclass(frozen=True)
class Proposal:
    """What became of a proposal: the pull request's number and URL where there is one."""

    outcome: Outcome
    number: int | None = None
    url: str | None = None


@dataclass(frozen=True)
class Draft:
    """The file and the description, ready to send."""

    file: str
    body: str


async def propose(ctx: Context[Any], *, on_demand: bool) -> Proposal:
    """Open the onboarding pull request unless GitHub shows it is not wanted.

    `on_demand` (`@slug config`): a closed earlier proposal does not stop a new one."""
    repo = ctx.require_repo()
    async with ctx.lock("onboarding"):
        info = (await ctx.github.rest.repos.async_get(repo.owner, repo.name)).json()
        if info.get("archived"):
            return Proposal("archived")
        base = str(info.get("default_branch") or "main")
        if await _read_file(ctx, CONFIG_PATH, base) is not None:
            return Proposal("configured")
        earlier = await _earlier_pulls(ctx, repo)
        still_open = next((p for p in earlier if p.get("state") == "open"), None)
        if still_open is not None:
            return Proposal("open", still_open.get("number"), still_open.get("html_url"))
        if earlier and not on_demand:
            closed = earlier[0]
            return Proposal("declined", closed.get("number"), closed.get("html_url"))
        draft = await compose(ctx, repo)
        if ctx.dry_run:
            ctx.log.info(
                "dry run: would open %r from %s on %s, adding %s:\n%s\n--- body ---\n%s",
                TITLE,
                BRANCH,
                repo.full_name,
                CONFIG_PATH,
                draft.file,
                draft.body,
            )
            return Proposal("dry_run")
        return await _open(ctx, repo, base, draft)


async def compose(ctx: Context[Any], repo: RepoRef) -> Draft:
    """The starter file and the pull request's description, from what the repository has."""
    listing = ctx.paginate(ctx.github.rest.issues.async_list_labels_for_repo)
    raw_labels = [
        {"name": lb.name, "color": lb.color, "description": lb.description, "id": lb.id}
        async for lb in listing
    ]
    labels = [RepoLabel(lb["name"], lb["color"], lb["description"]) for lb in raw_labels]
    release = translate_release_drafter(await _read_file(ctx, RELEASE_DRAFTER_PATH, None))
    file = starter_file(repo.full_name, labels, release)
    plan = _label_plan(ctx, raw_labels, file)
    body = proposal_body(labels=len(labels), release=release, plan=plan, slug=ctx.app.slug)
    return Draft(file, body)


def _label_plan(ctx: Context[Any], existing: list[dict[str, Any]], file: str) -> str:
    """label-sync's plan for the proposed section, as the table the body shows."""
    planner = ctx.offered(LABEL_SYNC, PLAN_ROWS)
    if planner is None:
        return plan_table(None)
    section = (yaml.safe_load(file) or {}).get(LABEL_SYNC) or {}
    try:
        rows = planner(existing, section)
    except ValueError as exc:
        ctx.log.warning("label plan for the onboarding pull request failed: %s", exc)
        return plan_table([], problem=str(exc).splitlines()[0])
    return plan_table(rows)


async def _earlier_pulls(ctx: Context[Any], repo: RepoRef) -> list[dict[str, Any]]:
    """Pull requests from the onboarding branch, open or closed, newest first."""
    response = await ctx.github.rest.pulls.async_list(
        repo.owner, repo.name, head=f"{repo.owner}:{BRANCH}", state="all", per_page=100
    )
    listed: Any = response.json()
    pulls = [p for p in listed if isinstance(p, dict)]
    return sorted(pulls, key=lambda p: int(p.get("number") or 0), reverse=True)


async def _read_file(ctx: Context[Any], path: str, ref: str | None) -> str | None:
    """A file's text on `ref` (the default branch when None); None when there is none."""
    repo = ctx.require_repo()
    try:
        response = await ctx.github.rest.repos.async_get_content(
            repo.owner, repo.name, path, ref=ref if ref else UNSET
        )
    except RequestFailed as exc:
        if exc.response.status_code == 404:
            return None
        raise
    data = response.json()
    if not isinstance(data, dict) or data.get("type") != "file":
        return None  # a directory or a submodule under that name: not a config file
    try:
        return base64.b64decode(str(data.get("content") or "")).decode()
    except (ValueError, UnicodeDecodeError):
        return ""  # there, but unreadable: it exists, which is what a caller asks


async def _open(ctx: Context[Any], repo: RepoRef, base: str, draft: Draft) -> Proposal:
    git = ctx.github.rest.git
    try:
        head = await git.async_get_ref(repo.owner, repo.name, f"heads/{quote(base, safe='/')}")
    except RequestFailed as exc:
        # An empty repository has no default branch to start from (GitHub answers 409).
        if exc.response.status_code in (404, 409):
            return Proposal("empty")
        raise
    ref_data: Any = head.json()
    base_sha = ref_data["object"]["sha"]
    try:
        await git.async_get_ref(repo.owner, repo.name, f"heads/{BRANCH}")
    except RequestFailed as exc:
        if exc.response.status_code != 404:
            raise
        await git.async_create_ref(repo.owner, repo.name, ref=f"refs/heads/{BRANCH}", sha=base_sha)
    else:
        # Left by an earlier proposal (closed) or by an attempt that stopped half way:
        # start again from the default branch, so the pull request adds one file.
        await git.async_update_ref(
            repo.owner, repo.name, f"heads/{BRANCH}", sha=base_sha, force=True
        )
    await ctx.github.rest.repos.async_create_or_update_file_contents(
        repo.owner,
        repo.name,
        CONFIG_PATH,
        message=COMMIT_MESSAGE,
        content=base64.b64encode(draft.file.encode()).decode(),
        branch=BRANCH,
    )
    created = await ctx.github.rest.pulls.async_create(
        repo.owner, repo.name, title=TITLE, head=BRANCH, base=base, body=draft.body
    )
    pull = created.json()
    ctx.log.info("opened the onboarding pull request #%s", pull.get("number"))
    return Proposal("opened", pull.get("number"), pull.get("html_url"))
