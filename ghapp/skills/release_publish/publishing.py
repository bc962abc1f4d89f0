"""Creating a release, shared by the command, tag pushes, drafts and builds.

Every operation that reads and then changes a repository's releases runs inside
`ctx.lock(LOCK)` (shared by all workers), so two merges landing together see each
other's draft and a command racing a tag push sees the other's release. Within the lock
the release list on GitHub is the truth: a release for the tag means there is nothing
to do, whatever ghapp remembers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from semver import Version

from ghapp import Context
from ghapp.skills.release_publish.build_slots import (
    dispatch_build,
    start_waiting_builds,
    waiting_notice,
)
from ghapp.skills.release_publish.categories import needs_changed_files
from ghapp.skills.release_publish.github_data import ReleaseData
from ghapp.skills.release_publish.notes import MergedPull, included
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.planner import (
    Overrides,
    ReleasePlan,
    Repository,
    plan_release,
)
from ghapp.skills.release_publish.releases import (
    BuildMarker,
    ReleaseInfo,
    announced_numbers,
    build_unfinished,
    correlation_id,
    draft_to_reuse,
    must_wait,
    published_with_tag,
    split_marker,
    with_marker,
    with_notice,
)
from ghapp.skills.release_publish.versions import previous_release

LOCK = "release"

EXISTS_REPLY = "Release [{tag}]({url}) already exists; nothing to do."
BUILDING_ALREADY_REPLY = "[{tag}]({url}) is already waiting for its build."
WAITING_REPLY = (
    "Drafted [{tag}]({url}); it is waiting for a build slot, and `{event}` is dispatched "
    "to build it when a running build finishes."
)
BUILDING_REPLY = (
    "Drafted [{tag}]({url}) and dispatched `{event}` to build it; the release is published "
    "with the build's artifacts when the build succeeds."
)
DRAFTED_REPLY = "Drafted [{tag}]({url})."
PUBLISHED_REPLY = "Released [{tag}]({url})."
DRY_RUN_REPLY = "Dry run: {tag} would be created; nothing was sent to GitHub."


def utcnow() -> datetime:
    """The clock build deadlines are measured with (tests set it)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ReleaseRequest:
    version: Version
    tag: str
    target: str  # what a new tag points at: the default branch, or the pushed tag itself
    draft: bool
    prerelease: bool
    request_id: str  # the trigger's identity, for a correlation id stable across redelivery
    overrides: Overrides = field(default_factory=Overrides)


Outcome = Literal[
    "exists", "already_building", "building", "waiting", "drafted", "published", "dry_run"
]


@dataclass(frozen=True, slots=True)
class ReleaseOutcome:
    kind: Outcome
    tag: str
    url: str = ""

    def reply(self, event: str | None) -> str:
        template = {
            "exists": EXISTS_REPLY,
            "already_building": BUILDING_ALREADY_REPLY,
            "building": BUILDING_REPLY,
            "waiting": WAITING_REPLY,
            "drafted": DRAFTED_REPLY,
            "published": PUBLISHED_REPLY,
            "dry_run": DRY_RUN_REPLY,
        }[self.kind]
        return template.format(tag=self.tag, url=self.url, event=event)


async def create_release(
    ctx: Context[ReleaseOptions],
    data: ReleaseData,
    request: ReleaseRequest,
    releases: list[ReleaseInfo],
    base: str,
) -> ReleaseOutcome:
    """Create (or finish) the release for `request`; call with the release lock held."""
    options = ctx.options
    tag = request.tag
    # GitHub's by-tag lookup first; the list also covers a release made moments ago.
    existing = await data.published_release(tag) or published_with_tag(releases, tag)
    if existing is not None:
        return ReleaseOutcome("exists", tag, existing.html_url)
    draft = draft_to_reuse(releases, tag)
    correlation = correlation_id(data.repo.full_name, tag, request.request_id)
    if draft is not None and build_pending(draft):
        marker = split_marker(draft.body)[1]
        if marker is None or marker.correlation_id != correlation or not options.dispatch_event:
            return ReleaseOutcome("already_building", tag, draft.html_url)
        if marker.state == "waiting":
            return ReleaseOutcome("waiting", tag, draft.html_url)
        # This very request again (a retry after a failure): its dispatch may never have
        # gone out. A second build is harmless, since only the first completion counts.
        await dispatch_build(
            ctx,
            data,
            version=str(request.version),
            tag=tag,
            release_id=draft.id,
            marker=marker,
            now=utcnow(),
        )
        return ReleaseOutcome("building", tag, draft.html_url)

    # The release this one follows; for a hotfix below the newest line, that line's own.
    previous = previous_release(
        releases, options, prerelease=request.prerelease, branch=base, below=request.version
    )
    pulls, bodies = await merged_since(data, base, previous, options)
    plan = await release_plan(ctx, data, previous, pulls, request.target, request.overrides)
    building = options.dispatch_event is not None and not request.draft
    marker = None
    body = plan.body
    if building:
        others = [r for r in releases if draft is None or r.id != draft.id]
        waits = must_wait(others, options.max_concurrent_builds)
        marker = BuildMarker(
            correlation_id=correlation,
            dispatched_at=utcnow(),
            state="waiting" if waits else "pending",
            announce=announced_numbers((p.number, bodies.get(p.number)) for p in pulls),
        )
        if waits:
            body = with_notice(body, waiting_notice(others, options.max_concurrent_builds))
    fields: dict[str, Any] = {
        "tag_name": tag,
        "target_commitish": request.target,
        "name": plan.name,
        "body": with_marker(body, marker),
        "draft": request.draft or building,
        "prerelease": request.prerelease,
        **latest_field(plan.make_latest, request.prerelease),
    }
    if draft is not None:
        saved = await data.update_release(draft.id, fields)
    else:
        saved = await data.create_release(fields)
    if ctx.dry_run:
        return ReleaseOutcome("dry_run", tag)
    release = ReleaseInfo.from_json(saved)
    if marker is not None and marker.state == "waiting":
        ctx.log.info("every build slot is taken: %s waits for one", tag)
        # Slots may be free while older builds wait (a start that failed): fill them in
        # order, so this one never jumps the line.
        await start_waiting_builds(ctx, data, [*others_of(releases, release), release], utcnow())
        return ReleaseOutcome("waiting", tag, release.html_url)
    if marker is not None:
        await dispatch_build(
            ctx,
            data,
            version=str(request.version),
            tag=tag,
            release_id=release.id,
            marker=marker,
            now=marker.dispatched_at,
        )
        return ReleaseOutcome("building", tag, release.html_url)
    if request.draft:
        return ReleaseOutcome("drafted", tag, release.html_url)
    announce = announced_numbers((p.number, bodies.get(p.number)) for p in pulls)
    await after_publish(ctx, release, request.version, announce)
    return ReleaseOutcome("published", tag, release.html_url)


def others_of(releases: list[ReleaseInfo], release: ReleaseInfo) -> list[ReleaseInfo]:
    return [r for r in releases if r.id != release.id]


async def merged_since(
    data: ReleaseData, base: str, previous: ReleaseInfo | None, options: ReleaseOptions
) -> tuple[list[MergedPull], dict[int, str | None]]:
    """The pull requests merged since `previous` (with their changed files when a rule
    tests paths) and every fetched body; the planner applies the filters."""
    fetched = await data.merged_pulls(base, previous.date if previous else None)
    pulls = [f.pull for f in fetched]
    if needs_changed_files(options.rules):
        pulls = [await data.with_changed_files(pull) for pull in pulls]
    if options.credits_commit_authors:
        authors = await data.commit_authors([p.number for p in included(pulls, options.rules)])
        pulls = [replace(p, commit_authors=authors.get(p.number, ())) for p in pulls]
    return pulls, {f.pull.number: f.body for f in fetched}


async def release_plan(
    ctx: Context[ReleaseOptions],
    data: ReleaseData,
    previous: ReleaseInfo | None,
    pulls: list[MergedPull],
    head: str,
    overrides: Overrides,
) -> ReleasePlan:
    """The release's tag, name, notes and flags, as release-drafter would make them."""
    options = ctx.options
    commits = []
    if options.lists_commits and previous is not None and not included(pulls, options.rules):
        # Nothing merged through pull requests: say what was committed instead.
        commits = await data.commits_between(previous.tag, head)
    repo = data.repo
    return plan_release(
        options,
        repository=Repository(repo.owner, repo.name, _web_url(ctx)),
        previous=previous,
        pulls=pulls,
        overrides=overrides,
        commits_if_no_pulls=commits,
    )


def latest_field(make_latest: bool, prerelease: bool) -> dict[str, str]:
    """The `make_latest` field of a release request, when one is needed."""
    # Sent only when the file says `latest: false`: GitHub's own default already leaves
    # prereleases out, and an unchanged request keeps recorded traffic unchanged.
    return {} if make_latest or prerelease else {"make_latest": "false"}


def _web_url(ctx: Context[ReleaseOptions]) -> str:
    """The GitHub web host, for links to Apps in `$AUTHORS` (GHES has its own)."""
    repository = ctx.payload.get("repository") or {}
    html_url = str(repository.get("html_url") or "")
    full_name = str(repository.get("full_name") or "")
    if html_url and full_name and html_url.endswith("/" + full_name):
        return html_url[: -len(full_name) - 1]
    return "https://github.com"


async def after_publish(
    ctx: Context[ReleaseOptions], release: ReleaseInfo, version: Version, announce: tuple[int, ...]
) -> None:
    if not ctx.options.comment_on_released:
        return
    # A task of its own: hundreds of comments, paced, should not hold the release lock.
    await ctx.defer(
        "announce",
        {
            "tag": release.tag,
            "url": release.html_url,
            "version": str(version),
            "numbers": list(announce),
            "delivery_id": ctx.delivery_id,
        },
        key=f"announce:{release.tag}",
    )


def build_pending(release: ReleaseInfo) -> bool:
    """A draft whose build waits for a slot or runs."""
    return build_unfinished(release)


async def release_branch(ctx: Context[ReleaseOptions], data: ReleaseData) -> str:
    """Where releases are cut: release-drafter's `commitish` when set, else the default
    branch."""
    commitish = ctx.options.commitish
    if commitish:
        return str(commitish).removeprefix("refs/heads/")
    branch = (ctx.payload.get("repository") or {}).get("default_branch")
    return str(branch) if branch else await data.default_branch()
