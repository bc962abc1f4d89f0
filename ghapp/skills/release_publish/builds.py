"""The build step: a release whose build runs in the repository's own workflow.

End to end (see `releases.py` for the correlation rule): `release` (or a tag push) with
`dispatch_event` → draft with a build marker → `repository_dispatch {version, tag,
release_id, correlation_id}` → the workflow's `workflow_run.completed`, counted only when
the dispatch itself started it (`run_trust`) and its title names the correlation id →
success: artifacts attached, draft published, announcements; failure: the reason on top
of the draft. An hourly tick marks builds that never reported back; nothing polls a run.
"""

from __future__ import annotations

from typing import Any

from ghapp import Context
from ghapp.skills.release_publish import publishing
from ghapp.skills.release_publish.artifacts import ArtifactError, AssetFile, asset_files
from ghapp.skills.release_publish.github_data import ReleaseData
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.releases import (
    ReleaseInfo,
    build_ended,
    correlation_in,
    published_body,
    release_version,
    split_marker,
    timed_out,
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
BUILD_TIMED_OUT_NOTICE = (
    "**Not published: the build timed out.** No workflow run named `{correlation}` "
    "completed within {minutes} minutes of dispatching `{event}`.\nThe workflow's "
    "`run-name` must include `${{{{ github.event.client_payload.correlation_id }}}}`; "
    "`@{slug} release {version}` builds it again."
)


async def build_completed(ctx: Context[ReleaseOptions]) -> None:
    run = ctx.payload.get("workflow_run") or {}
    correlation = correlation_in(run.get("display_title"))
    if ctx.options.dispatch_event is None or correlation is None:
        return
    # The id in a title is public: only a run the dispatch itself started counts.
    untrusted = untrusted_reason(run, ctx.payload.get("repository") or {}, ctx.app.slug)
    if untrusted is not None:
        ctx.log.warning(
            "workflow run %s names build %s but is ignored: %s",
            run.get("id"),
            correlation,
            untrusted,
        )
        return

    async def finish(retrying: bool) -> None:
        # The draft's marker says whether this build was handled: a retry reads it again.
        data = ReleaseData(ctx.github, ctx.require_repo())
        async with ctx.lock(publishing.LOCK):
            await finish_build(ctx, data, correlation, run)

    await ctx.once(f"build:{correlation}", finish)


async def finish_build(
    ctx: Context[ReleaseOptions], data: ReleaseData, correlation: str, run: dict[str, Any]
) -> None:
    options = ctx.options
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


async def expire_builds(ctx: Context[ReleaseOptions]) -> None:
    """Builds that never reported back are marked timed out in their draft: one tick an
    hour per repository instead of a timer per release."""
    options = ctx.options
    if options.dispatch_event is None:
        return
    data = ReleaseData(ctx.github, ctx.require_repo())
    async with ctx.lock(publishing.LOCK):
        now = publishing.utcnow()
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
