"""The build step: a release whose build runs in the repository's own workflow.

End to end (see `releases.py` for the correlation rule, `build_slots.py` for the limit):
`release` (or a tag push) with `dispatch_event` → draft with a build marker →
`repository_dispatch {version, tag, release_id, correlation_id}` (or, with every slot
taken, a wait in line) → the workflow's `workflow_run` events, counted only when the
dispatch itself started the run (`run_trust`) and its title names the correlation id:
`requested`/`in_progress` note the run's link in the marker; `completed` with success
attaches the artifacts, publishes the draft and announces; with failure puts the reason
on top of the draft. A deferred task at each build's deadline marks one that never
reported back as timed out (an hourly sweep catches any deadline task lost); every
ended build lets the next waiting one start. Nothing polls a run.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ghapp import Context
from ghapp.skills.release_publish import publishing
from ghapp.skills.release_publish.artifacts import ArtifactError, AssetFile, asset_files
from ghapp.skills.release_publish.build_slots import (
    schedule_deadline,
    start_waiting_builds,
    without,
)
from ghapp.skills.release_publish.github_data import ReleaseData
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.releases import (
    BuildMarker,
    ReleaseInfo,
    build_ended,
    builds,
    correlation_in,
    published_body,
    release_version,
    split_marker,
    timed_out,
    with_marker,
)
from ghapp.skills.release_publish.run_trust import untrusted_reason

BUILD_FAILED_NOTICE = (
    "**Not published: the build failed.** Workflow run [{name}]({url}) ended with "
    "`{conclusion}`.\nFix the build, then `@{slug} release {version}` builds it again."
)
ARTIFACTS_FAILED_NOTICE = (
    "**Not published: the build's artifacts could not be attached.** {reason} "
    "(workflow run [{name}]({url})).\n`@{slug} release {version}` builds it again."
)
BUILD_RUN_TIMED_OUT_NOTICE = (
    "**Not published: the build timed out.** Workflow run [{name}]({url}) did not "
    "complete within {minutes} minutes of dispatching `{event}`.\n"
    "`@{slug} release {version}` builds it again."
)
BUILD_TIMED_OUT_NOTICE = (
    "**Not published: the build timed out.** No workflow run named `{correlation}` "
    "completed within {minutes} minutes of dispatching `{event}`.\nThe workflow's "
    "`run-name` must include `${{{{ github.event.client_payload.correlation_id }}}}`; "
    "`@{slug} release {version}` builds it again."
)


def build_run(ctx: Context[ReleaseOptions]) -> tuple[dict[str, Any], str] | None:
    """The delivery's workflow run and the build it names, when it is a run the dispatch
    started; None (logged when it names a build) otherwise."""
    run = ctx.payload.get("workflow_run") or {}
    correlation = correlation_in(run.get("display_title"))
    if ctx.options.dispatch_event is None or correlation is None:
        return None
    # The id in a title is public: only a run the dispatch itself started counts.
    untrusted = untrusted_reason(run, ctx.payload.get("repository") or {}, ctx.app.slug)
    if untrusted is not None:
        ctx.log.warning(
            "workflow run %s names build %s but is ignored: %s",
            run.get("id"),
            correlation,
            untrusted,
        )
        return None
    return run, correlation


async def build_started(ctx: Context[ReleaseOptions]) -> None:
    """The build's run was seen starting: its link goes into the marker, for the notice
    if the build times out. Once per build (`requested` and `in_progress` both come)."""
    found = build_run(ctx)
    if found is None:
        return
    run, correlation = found
    url = run.get("html_url")
    if not isinstance(url, str) or not url:
        return

    async def note(retrying: bool) -> None:
        data = ReleaseData(ctx.github, ctx.require_repo())
        async with ctx.lock(publishing.LOCK):
            for draft, marker in builds(await data.releases()):
                mine = marker.correlation_id == correlation and marker.state == "pending"
                if mine and marker.run_url is None:
                    body = with_marker(draft.body, replace(marker, run_url=url))
                    await data.update_release(draft.id, {"body": body})

    await ctx.once(f"build-seen:{correlation}", note)


async def build_completed(ctx: Context[ReleaseOptions]) -> None:
    found = build_run(ctx)
    if found is None:
        return
    run, correlation = found

    async def finish(retrying: bool) -> None:
        # The draft's marker says whether this build was handled: a retry reads it again.
        data = ReleaseData(ctx.github, ctx.require_repo())
        async with ctx.lock(publishing.LOCK):
            await finish_build(ctx, data, correlation, run)

    await ctx.once(f"build:{correlation}", finish)


async def finish_build(
    ctx: Context[ReleaseOptions], data: ReleaseData, correlation: str, run: dict[str, Any]
) -> None:
    releases = await data.releases()
    found = [
        (release, marker)
        for release in releases
        if release.draft
        for marker in [split_marker(release.body)[1]]
        if marker is not None and marker.correlation_id == correlation
    ]
    # A failed build is final; a late success after a timeout still completes the release.
    if not found or found[0][1].state in ("failed", "waiting"):
        ctx.log.info("workflow run %s: no draft waits for %s", run.get("id"), correlation)
    else:
        draft, marker = found[0]
        await _finish(ctx, data, draft, marker, run)
        releases = without(releases, draft)
    # The build no longer holds a slot (published or failed): the next in line starts.
    await start_waiting_builds(ctx, data, releases, publishing.utcnow())


async def _finish(
    ctx: Context[ReleaseOptions],
    data: ReleaseData,
    draft: ReleaseInfo,
    marker: BuildMarker,
    run: dict[str, Any],
) -> None:
    options = ctx.options
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
        release = ReleaseInfo.from_json(saved)
        await publishing.after_publish(ctx, release, version, marker.announce)


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


async def build_deadline_passed(ctx: Context[ReleaseOptions]) -> None:
    """The task deferred to a build's deadline: that build, if it never reported back,
    is marked timed out (within a minute of the deadline), and the next one starts."""
    correlation = ctx.args.get("correlation_id")
    if ctx.options.dispatch_event is None or not isinstance(correlation, str):
        return
    data = ReleaseData(ctx.github, ctx.require_repo())
    async with ctx.lock(publishing.LOCK):
        await _time_out(ctx, data, publishing.utcnow(), only=correlation)


async def expire_builds(ctx: Context[ReleaseOptions]) -> None:
    """The hourly sweep behind the deadline tasks: any build past its deadline whose task
    was lost (a queue wiped, a deadline moved) is marked timed out too."""
    if ctx.options.dispatch_event is None:
        return
    data = ReleaseData(ctx.github, ctx.require_repo())
    async with ctx.lock(publishing.LOCK):
        await _time_out(ctx, data, publishing.utcnow(), only=None)


async def _time_out(
    ctx: Context[ReleaseOptions], data: ReleaseData, now: datetime, *, only: str | None
) -> None:
    options = ctx.options
    releases = await data.releases()
    ended: set[int] = set()
    for release, marker in builds(releases):
        if marker.state != "pending" or only not in (None, marker.correlation_id):
            continue
        if not timed_out(marker, now, options.build_timeout_minutes):
            if only is not None:  # the deadline moved (a longer timeout since): later
                await schedule_deadline(ctx, marker, now)
            continue
        facts = {
            "minutes": options.build_timeout_minutes,
            "event": options.dispatch_event,
            "slug": ctx.app.slug,
            "version": release_version(release, options.tag_prefix) or release.tag,
        }
        if marker.run_url:
            notice = BUILD_RUN_TIMED_OUT_NOTICE.format(
                name=f"build {marker.correlation_id}", url=marker.run_url, **facts
            )
        else:
            notice = BUILD_TIMED_OUT_NOTICE.format(correlation=marker.correlation_id, **facts)
        body = build_ended(release.body, "timed_out", notice)
        await data.update_release(release.id, {"body": body})
        ctx.log.info("the build of %s timed out", release.tag)
        ended.add(release.id)
    remaining = [r for r in releases if r.id not in ended]
    await start_waiting_builds(ctx, data, remaining, now)
