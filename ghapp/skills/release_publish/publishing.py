"""Creating a release, shared by the command, tag pushes, drafts and builds.

Every operation that reads and then changes a repository's releases runs inside
`ctx.lock(LOCK)` (shared by all workers), so two merges landing together see each
other's draft and a command racing a tag push sees the other's release. Within the lock
the release list on GitHub is the truth: a release for the tag means there is nothing
to do, whatever ghapp remembers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from semver import Version

from ghapp import Context
from ghapp.skills.release_publish.github_data import ReleaseData
from ghapp.skills.release_publish.notes import (
    MergedPull,
    render_notes,
    render_release_name,
    select_pulls,
)
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.releases import (
    BuildMarker,
    ReleaseInfo,
    announced_numbers,
    correlation_id,
    draft_to_reuse,
    latest_release,
    published_with_tag,
    split_marker,
    with_marker,
)

LOCK = "release"

EXISTS_REPLY = "Release [{tag}]({url}) already exists; nothing to do."
BUILDING_ALREADY_REPLY = "[{tag}]({url}) is already waiting for its build."
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


Outcome = Literal["exists", "already_building", "building", "drafted", "published", "dry_run"]


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
        # This very request again (a retry after a failure): its dispatch may never have
        # gone out. A second build is harmless, since only the first completion counts.
        await dispatch_build(ctx, data, request, draft.id, correlation)
        return ReleaseOutcome("building", tag, draft.html_url)

    previous = latest_release(releases, options.tag_template, below=request.version)
    previous_release = previous[1] if previous else None
    pulls, bodies = await merged_since(data, base, previous_release, options)
    body = await notes_for(ctx, data, request.version, previous_release, pulls, request.target)
    building = options.dispatch_event is not None and not request.draft
    marker = None
    if building:
        marker = BuildMarker(
            correlation_id=correlation,
            dispatched_at=utcnow(),
            announce=announced_numbers((p.number, bodies.get(p.number)) for p in pulls),
        )
    fields: dict[str, Any] = {
        "tag_name": tag,
        "target_commitish": request.target,
        "name": render_release_name(
            options,
            version=request.version,
            previous_tag=previous_release.tag if previous_release else None,
        ),
        "body": with_marker(body, marker),
        "draft": request.draft or building,
        "prerelease": request.prerelease,
    }
    if draft is not None:
        saved = await data.update_release(draft.id, fields)
    else:
        saved = await data.create_release(fields)
    if ctx.dry_run:
        return ReleaseOutcome("dry_run", tag)
    release = ReleaseInfo.from_json(saved)
    if marker is not None:
        await dispatch_build(ctx, data, request, release.id, correlation)
        return ReleaseOutcome("building", tag, release.html_url)
    if request.draft:
        return ReleaseOutcome("drafted", tag, release.html_url)
    announce = announced_numbers((p.number, bodies.get(p.number)) for p in pulls)
    await after_publish(ctx, release, request.version, announce)
    return ReleaseOutcome("published", tag, release.html_url)


async def dispatch_build(
    ctx: Context[ReleaseOptions],
    data: ReleaseData,
    request: ReleaseRequest,
    release_id: int,
    correlation: str,
) -> None:
    payload = {
        "version": str(request.version),
        "tag": request.tag,
        "release_id": release_id,
        "correlation_id": correlation,
    }
    await data.dispatch(str(ctx.options.dispatch_event), payload)


async def merged_since(
    data: ReleaseData, base: str, previous: ReleaseInfo | None, options: ReleaseOptions
) -> tuple[list[MergedPull], dict[int, str | None]]:
    """The pull requests the notes list (filters applied) and every fetched body."""
    fetched = await data.merged_pulls(base, previous.date if previous else None)
    pulls = select_pulls((f.pull for f in fetched), options)
    return pulls, {f.pull.number: f.body for f in fetched}


async def notes_for(
    ctx: Context[ReleaseOptions],
    data: ReleaseData,
    version: Version,
    previous: ReleaseInfo | None,
    pulls: list[MergedPull],
    head: str,
) -> str:
    commits = []
    if not pulls and previous is not None:
        # Nothing merged through pull requests: say what was committed instead.
        commits = await data.commits_between(previous.tag, head)
    return render_notes(
        pulls,
        ctx.options,
        version=version,
        previous_tag=previous.tag if previous else None,
        commits_if_no_pulls=commits,
    )


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
    marker = split_marker(release.body)[1]
    return release.draft and marker is not None and marker.state == "pending"


async def default_branch(ctx: Context[ReleaseOptions], data: ReleaseData) -> str:
    branch = (ctx.payload.get("repository") or {}).get("default_branch")
    return str(branch) if branch else await data.default_branch()
