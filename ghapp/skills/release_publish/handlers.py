"""release-publish's skill: the `release` command, tag pushes, the next-version draft, the
build step and the announcements, as handlers around the pure core.

Every operation that reads and then changes a repository's releases runs inside
`ctx.lock("release")` (shared by all workers), so two merges landing together see each
other's draft and a command racing a tag push sees the other's release. Within the lock
the release list on GitHub is the truth: a release for the tag means there is nothing
to do, whatever ghapp remembers. The effect keys on top only spare GitHub the requests
when the same trigger (tag push, build completion, announcement) arrives again.

Build step, end to end (see `releases.py` for the correlation rule):
`release` (or a tag push) with `dispatch_event` → draft with a build marker →
`repository_dispatch {version, tag, release_id, correlation_id}` → the workflow's
`workflow_run.completed` names the correlation id in its title → success: artifacts
attached, draft published, announcements; failure: the reason on top of the draft. An
hourly tick marks builds that never reported back; nothing polls a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from githubkit.exception import RequestFailed
from semver import Version

from ghapp.context import Context
from ghapp.skill import Skill
from ghapp.skills.release_publish.artifacts import ArtifactError, AssetFile, asset_files
from ghapp.skills.release_publish.categories import needs_changed_files
from ghapp.skills.release_publish.github_data import ReleaseData
from ghapp.skills.release_publish.notes import MergedPull, included, render_released_comment
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.planner import (
    Overrides,
    ReleasePlan,
    Repository,
    plan_release,
    release_flags,
    resolve_version,
)
from ghapp.skills.release_publish.releases import (
    BuildMarker,
    ReleaseInfo,
    announced_numbers,
    build_ended,
    correlation_id,
    correlation_in,
    draft_to_reuse,
    maintained_draft,
    published_body,
    published_with_tag,
    release_version,
    split_marker,
    timed_out,
    with_marker,
)
from ghapp.skills.release_publish.template import render
from ghapp.skills.release_publish.versions import (
    VersionError,
    previous_release,
    resolve_requested,
    tag_matches,
    version_in_text,
)

skill = Skill(
    "release-publish",
    "Creates releases with notes from merged pull requests; keeps the next draft current.",
    permissions={
        "contents": "write",
        "pull_requests": "write",
        "issues": "write",
        "actions": "read",
    },
    options=ReleaseOptions,
)

LOCK = "release"
USAGE = "release VERSION|major|minor|patch [--draft] [--prerelease]"

USAGE_REPLY = "Usage: `{usage}` — for example `release minor` or `release 1.2.0-rc.1 --prerelease`."
INVALID_REPLY = "I can't release that: {reason}.\n\n" + USAGE_REPLY
EXISTS_REPLY = "Release [{tag}]({url}) already exists; nothing to do."
BUILDING_ALREADY_REPLY = "[{tag}]({url}) is already waiting for its build."
BUILDING_REPLY = (
    "Drafted [{tag}]({url}) and dispatched `{event}` to build it; the release is published "
    "with the build's artifacts when the build succeeds."
)
DRAFTED_REPLY = "Drafted [{tag}]({url})."
PUBLISHED_REPLY = "Released [{tag}]({url})."
DRY_RUN_REPLY = "Dry run: {tag} would be created; nothing was sent to GitHub."

BUILD_FAILED_NOTICE = (
    "**Not published: the build failed.** Workflow run [{name}]({url}) ended with "
    "`{conclusion}`.\nFix the build, then `@{slug} release {version}` builds it again."
)
ARTIFACTS_FAILED_NOTICE = (
    "**Not published: the build's artifacts could not be attached.** {reason} "
    "(workflow run [{name}]({url})).\n`@{slug} release {version}` builds it again."
)
BUILD_TIMED_OUT_NOTICE = (
    "**Not published: the build timed out.** No workflow run named `{correlation}` "
    "completed within {minutes} minutes of dispatching `{event}`.\nThe workflow's "
    "`run-name` must include `${{{{ github.event.client_payload.correlation_id }}}}`; "
    "`@{slug} release {version}` builds it again."
)


def utcnow() -> datetime:
    """The clock build deadlines are measured with (tests set it)."""
    return datetime.now(UTC)


# -- pure pieces of the handlers ------------------------------------------------------------


class UsageError(ValueError):
    """A `release` command that does not say what to release; the message is for people."""


@dataclass(frozen=True, slots=True)
class ReleaseArgs:
    request: str
    draft: bool
    prerelease: bool


def parse_release_args(args: tuple[str, ...]) -> ReleaseArgs:
    """`VERSION|major|minor|patch [--draft] [--prerelease]`, flags in any position."""
    flags = {arg.lower() for arg in args if arg.startswith("--")}
    words = [arg for arg in args if not arg.startswith("--")]
    unknown = sorted(flags - {"--draft", "--prerelease"})
    if unknown:
        raise UsageError(f"unknown option {unknown[0]}")
    if len(words) != 1:
        raise UsageError("name one version, or major, minor or patch")
    return ReleaseArgs(words[0], "--draft" in flags, "--prerelease" in flags)


@dataclass(frozen=True, slots=True)
class ReleaseRequest:
    version: Version
    tag: str
    target: str  # what a new tag points at: the default branch, or the pushed tag itself
    draft: bool
    prerelease: bool
    request_id: str  # the trigger's identity, for a correlation id stable across redelivery
    overrides: Overrides = field(default_factory=Overrides)


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


# -- the command ----------------------------------------------------------------------------


@skill.command(
    "release",
    usage=USAGE,
    description="Create the release for a version (or the next major/minor/patch) with notes "
    "from the pull requests merged since the previous release.",
    example="@ghapp release minor",
    permission="maintain",
)
async def release_command(ctx: Context, args: tuple[str, ...]) -> str:
    try:
        parsed = parse_release_args(args)
    except UsageError as exc:
        return INVALID_REPLY.format(reason=exc, usage=USAGE)
    options: ReleaseOptions = ctx.options
    data = ReleaseData(ctx.github, ctx.require_repo())
    async with ctx.lock(LOCK):
        releases = await data.releases()
        base = await _release_branch(ctx, data)
        asked = Overrides(prerelease=True if parsed.prerelease else None)
        prerelease = release_flags(options, asked)[0]
        latest = previous_release(releases, options, prerelease=prerelease, branch=base)
        try:
            version = resolve_requested(
                parsed.request, release_version(latest, options.tag_prefix) if latest else None
            )
        except VersionError as exc:
            return INVALID_REPLY.format(reason=exc, usage=USAGE)
        overrides = Overrides(version=str(version), prerelease=asked.prerelease)
        request = ReleaseRequest(
            version=version,
            tag=_planned_tag(options, latest, overrides),
            target=base,
            draft=parsed.draft,
            prerelease=prerelease or bool(version.prerelease),
            request_id=_trigger_id(ctx),
            overrides=overrides,
        )
        outcome = await _release(ctx, data, request, releases, base)
    return outcome.reply(options.dispatch_event)


# -- tag pushes -----------------------------------------------------------------------------


@skill.on("push")
async def tag_pushed(ctx: Context) -> None:
    """A new tag matching `tag_pattern` gets its release (once the repository opted in:
    a tag push is not a request to ghapp, and a repository may release by other means)."""
    payload = ctx.payload
    ref = str(payload.get("ref") or "")
    if not ref.startswith("refs/tags/") or not payload.get("created") or payload.get("deleted"):
        return
    options: ReleaseOptions = ctx.options
    tag = ref.removeprefix("refs/tags/")
    if not ctx.configured or not tag_matches(tag, options.effective_tag_pattern):
        return
    version = version_in_text(tag, options.tag_prefix)
    if version is None:
        ctx.log.info("tag %s names no version", tag)
        return
    key = f"tag:{tag}:{payload.get('after')}"
    if await ctx.begin_effect(key) == "done":
        return
    data = ReleaseData(ctx.github, ctx.require_repo())
    async with ctx.lock(LOCK):
        releases = await data.releases()
        request = ReleaseRequest(
            version=version,
            tag=tag,
            target=tag,
            draft=False,
            prerelease=release_flags(options, Overrides())[0] or bool(version.prerelease),
            request_id=key,
            overrides=Overrides(tag=tag),
        )
        outcome = await _release(ctx, data, request, releases, await _release_branch(ctx, data))
    ctx.log.info("tag %s: %s", tag, outcome.kind)
    if not ctx.dry_run:
        await ctx.finish_effect(key, outcome.url)


# -- creating a release ---------------------------------------------------------------------


async def _release(
    ctx: Context,
    data: ReleaseData,
    request: ReleaseRequest,
    releases: list[ReleaseInfo],
    base: str,
) -> ReleaseOutcome:
    """Create (or finish) the release for `request`; call with the release lock held."""
    options: ReleaseOptions = ctx.options
    tag = request.tag
    # GitHub's by-tag lookup first; the list also covers a release made moments ago.
    existing = await data.published_release(tag) or published_with_tag(releases, tag)
    if existing is not None:
        return ReleaseOutcome("exists", tag, existing.html_url)
    draft = draft_to_reuse(releases, tag)
    correlation = correlation_id(data.repo.full_name, tag, request.request_id)
    if draft is not None and _build_pending(draft):
        marker = split_marker(draft.body)[1]
        if marker is None or marker.correlation_id != correlation or not options.dispatch_event:
            return ReleaseOutcome("already_building", tag, draft.html_url)
        # This very request again (a retry after a failure): its dispatch may never have
        # gone out. A second build is harmless, since only the first completion counts.
        await _dispatch_build(ctx, data, request, draft.id, correlation)
        return ReleaseOutcome("building", tag, draft.html_url)

    # The release this one follows; for a hotfix below the newest line, that line's own.
    previous = previous_release(
        releases, options, prerelease=request.prerelease, branch=base, below=request.version
    )
    pulls, bodies = await _merged_since(data, base, previous, options)
    plan = await _plan(ctx, data, previous, pulls, request.target, request.overrides)
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
        "name": plan.name,
        "body": with_marker(plan.body, marker),
        "draft": request.draft or building,
        "prerelease": request.prerelease,
        **_latest_field(plan.make_latest, request.prerelease),
    }
    if draft is not None:
        saved = await data.update_release(draft.id, fields)
    else:
        saved = await data.create_release(fields)
    if ctx.dry_run:
        return ReleaseOutcome("dry_run", tag)
    release = ReleaseInfo.from_json(saved)
    if marker is not None:
        await _dispatch_build(ctx, data, request, release.id, correlation)
        return ReleaseOutcome("building", tag, release.html_url)
    if request.draft:
        return ReleaseOutcome("drafted", tag, release.html_url)
    announce = announced_numbers((p.number, bodies.get(p.number)) for p in pulls)
    await _after_publish(ctx, release, request.version, announce)
    return ReleaseOutcome("published", tag, release.html_url)


async def _dispatch_build(
    ctx: Context, data: ReleaseData, request: ReleaseRequest, release_id: int, correlation: str
) -> None:
    event = ctx.options.dispatch_event
    payload = {
        "version": str(request.version),
        "tag": request.tag,
        "release_id": release_id,
        "correlation_id": correlation,
    }
    await data.dispatch(str(event), payload)


async def _merged_since(
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


async def _plan(
    ctx: Context,
    data: ReleaseData,
    previous: ReleaseInfo | None,
    pulls: list[MergedPull],
    head: str,
    overrides: Overrides,
) -> ReleasePlan:
    options: ReleaseOptions = ctx.options
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


async def _after_publish(
    ctx: Context, release: ReleaseInfo, version: Version, announce: tuple[int, ...]
) -> None:
    options: ReleaseOptions = ctx.options
    if not options.comment_on_released:
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


# -- the next-version draft -----------------------------------------------------------------


@skill.on("pull_request.closed")
async def pull_merged(ctx: Context) -> None:
    """Keep one draft for the next version current as pull requests merge (only once the
    repository has a `release-publish` section: drafts are bulk work nobody asked for)."""
    options: ReleaseOptions = ctx.options
    pull = ctx.payload.get("pull_request") or {}
    base = (options.commitish or "").removeprefix("refs/heads/") or (
        ctx.payload.get("repository") or {}
    ).get("default_branch")
    if not pull.get("merged") or (pull.get("base") or {}).get("ref") != base:
        return
    if not ctx.configured or not options.draft_next or not base:
        return
    key = f"merged:{pull.get('number')}"
    if await ctx.begin_effect(key) == "done":
        return
    data = ReleaseData(ctx.github, ctx.require_repo())
    async with ctx.lock(LOCK):
        await _refresh_draft(ctx, data, str(base))
    if not ctx.dry_run:
        await ctx.finish_effect(key)


async def _refresh_draft(ctx: Context, data: ReleaseData, base: str) -> None:
    options: ReleaseOptions = ctx.options
    releases = await data.releases()
    if any(_build_pending(release) for release in releases):
        # The release being built holds these changes; a second draft guessing the same
        # version would only confuse. The first merge after it is published resumes.
        ctx.log.info("a release build is pending; the next-version draft waits")
        return
    prerelease = release_flags(options, Overrides())[0]
    previous = previous_release(releases, options, prerelease=prerelease, branch=base)
    pulls, _bodies = await _merged_since(data, base, previous, options)
    plan = await _plan(ctx, data, previous, pulls, base, Overrides())
    fields: dict[str, Any] = {
        "tag_name": plan.tag,
        "target_commitish": base,
        "name": plan.name,
        "body": plan.body,
        "prerelease": plan.prerelease,
        **_latest_field(plan.make_latest, plan.prerelease),
    }
    draft = maintained_draft(releases)
    if draft is None:
        await data.create_release({**fields, "draft": True})
    elif (draft.tag, draft.name, draft.body, draft.prerelease) != (
        fields["tag_name"],
        fields["name"],
        fields["body"],
        fields["prerelease"],
    ):
        await data.update_release(draft.id, fields)


# -- the build step -------------------------------------------------------------------------


@skill.on("workflow_run.completed")
async def build_completed(ctx: Context) -> None:
    options: ReleaseOptions = ctx.options
    run = ctx.payload.get("workflow_run") or {}
    correlation = correlation_in(run.get("display_title"))
    if options.dispatch_event is None or correlation is None:
        return
    key = f"build:{correlation}"
    if await ctx.begin_effect(key) == "done":
        return
    data = ReleaseData(ctx.github, ctx.require_repo())
    async with ctx.lock(LOCK):
        await _finish_build(ctx, data, correlation, run)
    if not ctx.dry_run:
        await ctx.finish_effect(key)


async def _finish_build(
    ctx: Context, data: ReleaseData, correlation: str, run: dict[str, Any]
) -> None:
    options: ReleaseOptions = ctx.options
    releases = await data.releases()
    found = [
        (release, marker)
        for release in releases
        if release.draft
        for marker in [split_marker(release.body)[1]]
        if marker is not None and marker.correlation_id == correlation
    ]
    # A failed build is final; a late success after a timeout still completes the release.
    if not found or found[0][1].state == "failed":
        ctx.log.info("workflow run %s: no draft waits for %s", run.get("id"), correlation)
        return
    draft, marker = found[0]
    version = release_version(draft, options.tag_prefix)
    facts = {
        "name": run.get("display_title") or run.get("name") or "build",
        "url": run.get("html_url") or "",
        "conclusion": run.get("conclusion") or "unknown",
        "slug": ctx.app.slug,
        "version": version or draft.tag,
    }
    if run.get("conclusion") != "success":
        notice = BUILD_FAILED_NOTICE.format(**facts)
        await data.update_release(draft.id, {"body": build_ended(draft.body, "failed", notice)})
        return
    try:
        files = await _artifact_files(data, int(run["id"]), options.unpack_artifacts)
    except ArtifactError as exc:
        notice = ARTIFACTS_FAILED_NOTICE.format(reason=exc, **facts)
        await data.update_release(draft.id, {"body": build_ended(draft.body, "failed", notice)})
        return
    await data.replace_assets(draft, files)
    fields = {"draft": False, "body": published_body(draft.body)}
    saved = await data.update_release(draft.id, fields)
    if not ctx.dry_run and version is not None:
        await _after_publish(ctx, ReleaseInfo.from_json(saved), version, marker.announce)


async def _artifact_files(data: ReleaseData, run_id: int, unpack: bool) -> list[AssetFile]:
    files: list[AssetFile] = []
    for artifact in await data.run_artifacts(run_id):
        if artifact.expired:
            raise ArtifactError(f"artifact {artifact.name!r} has expired")
        archive = await data.artifact_zip(artifact.id)
        files.extend(asset_files(artifact.name, archive, unpack=unpack))
    names = [file.name for file in files]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise ArtifactError(f"two artifacts both hold {duplicate!r}")
    return files


@skill.periodic("build-timeouts", every=timedelta(hours=1), per="repository")
async def expire_builds(ctx: Context) -> None:
    """Builds that never reported back are marked timed out in their draft: one tick an
    hour per repository instead of a timer per release."""
    options: ReleaseOptions = ctx.options
    if options.dispatch_event is None:
        return
    data = ReleaseData(ctx.github, ctx.require_repo())
    async with ctx.lock(LOCK):
        now = utcnow()
        for release in await data.releases():
            marker = split_marker(release.body)[1]
            if not release.draft or marker is None:
                continue
            if not timed_out(marker, now, options.build_timeout_minutes):
                continue
            notice = BUILD_TIMED_OUT_NOTICE.format(
                correlation=marker.correlation_id,
                minutes=options.build_timeout_minutes,
                event=options.dispatch_event,
                slug=ctx.app.slug,
                version=release_version(release, options.tag_prefix) or release.tag,
            )
            body = build_ended(release.body, "timed_out", notice)
            await data.update_release(release.id, {"body": body})


# -- announcements --------------------------------------------------------------------------


@skill.task("announce")
async def announce(ctx: Context) -> None:
    """One "released in" comment per pull request and issue, and the milestone closed."""
    options: ReleaseOptions = ctx.options
    tag = str(ctx.args["tag"])
    version = str(ctx.args["version"])
    body = render_released_comment(options, version=version, tag=tag, url=str(ctx.args["url"]))
    data = ReleaseData(ctx.github, ctx.require_repo())
    for number in (int(n) for n in ctx.args.get("numbers") or ()):
        key = f"released:{tag}:{number}"
        state = await ctx.begin_effect(key)
        if state == "done":
            continue
        if state == "retry" and body in await data.comment_bodies(number):
            await ctx.finish_effect(key)
            continue
        try:
            await data.comment(number, body)
        except RequestFailed as exc:
            # A deleted, transferred or locked issue: nothing to announce to, not a failure.
            if exc.response.status_code not in (403, 404, 410, 422):
                raise
            ctx.log.info("no released comment on #%s: %s", number, exc.response.status_code)
        if not ctx.dry_run:
            await ctx.finish_effect(key)
    titles = {version, f"v{version}", tag}
    for number, title in await data.open_milestones():
        if title.strip() in titles:
            await data.close_milestone(number)


# -- small helpers --------------------------------------------------------------------------


def _build_pending(release: ReleaseInfo) -> bool:
    marker = split_marker(release.body)[1]
    return release.draft and marker is not None and marker.state == "pending"


async def _default_branch(ctx: Context, data: ReleaseData) -> str:
    branch = (ctx.payload.get("repository") or {}).get("default_branch")
    return str(branch) if branch else await data.default_branch()


async def _release_branch(ctx: Context, data: ReleaseData) -> str:
    """Where releases are cut: release-drafter's `commitish` when set, else the default
    branch."""
    commitish = ctx.options.commitish
    if commitish:
        return str(commitish).removeprefix("refs/heads/")
    return await _default_branch(ctx, data)


def _planned_tag(
    options: ReleaseOptions, previous: ReleaseInfo | None, overrides: Overrides
) -> str:
    info = resolve_version(options, previous=previous, pulls=(), overrides=overrides)
    return render(overrides.tag or options.effective_tag_template, info.variables)


def _latest_field(make_latest: bool, prerelease: bool) -> dict[str, str]:
    # Sent only when the file says `latest: false`: GitHub's own default already leaves
    # prereleases out, and an unchanged request keeps recorded traffic unchanged.
    return {} if make_latest or prerelease else {"make_latest": "false"}


def _web_url(ctx: Context) -> str:
    """The GitHub web host, for links to Apps in `$AUTHORS` (GHES has its own)."""
    repository = ctx.payload.get("repository") or {}
    html_url = str(repository.get("html_url") or "")
    full_name = str(repository.get("full_name") or "")
    if html_url and full_name and html_url.endswith("/" + full_name):
        return html_url[: -len(full_name) - 1]
    return "https://github.com"


def _trigger_id(ctx: Context) -> str:
    """What made this request: the comment (stable across redeliveries), else the delivery."""
    comment = ctx.comment
    if comment and comment.get("id") is not None:
        return f"comment:{comment['id']}"
    return f"delivery:{ctx.delivery_id}"
