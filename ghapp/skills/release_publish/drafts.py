"""The next-version draft: one draft release kept current as pull requests merge.

Its version comes from the merged pull requests' labels (`version-resolver`), its notes
from the pull requests themselves; it is rewritten only when something in it changed.
"""

from __future__ import annotations

from typing import Any

from ghapp import Context
from ghapp.skills.release_publish.github_data import ReleaseData
from ghapp.skills.release_publish.notes import render_release_name
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.publishing import (
    LOCK,
    build_pending,
    merged_since,
    notes_for,
)
from ghapp.skills.release_publish.releases import latest_release, maintained_draft
from ghapp.skills.release_publish.versions import render_tag, resolve_from_labels


async def pull_merged(ctx: Context[ReleaseOptions]) -> None:
    """Keep one draft for the next version current as pull requests merge (only once the
    repository has a `release-publish` section: drafts are bulk work nobody asked for)."""
    options = ctx.options
    pull = ctx.payload.get("pull_request") or {}
    base = (ctx.payload.get("repository") or {}).get("default_branch")
    if not pull.get("merged") or (pull.get("base") or {}).get("ref") != base:
        return
    if not ctx.configured or not options.draft_next or not base:
        return

    async def refresh(retrying: bool) -> None:
        # The draft is recomputed from GitHub under the lock: a retry simply does it again.
        data = ReleaseData(ctx.github, ctx.require_repo())
        async with ctx.lock(LOCK):
            await refresh_draft(ctx, data, str(base))

    await ctx.once(f"merged:{pull.get('number')}", refresh)


async def refresh_draft(ctx: Context[ReleaseOptions], data: ReleaseData, base: str) -> None:
    options = ctx.options
    releases = await data.releases()
    if any(build_pending(release) for release in releases):
        # The release being built holds these changes; a second draft guessing the same
        # version would only confuse. The first merge after it is published resumes.
        ctx.log.info("a release build is pending; the next-version draft waits")
        return
    latest = latest_release(releases, options.tag_template)
    previous = latest[1] if latest else None
    pulls, _bodies = await merged_since(data, base, previous, options)
    version = resolve_from_labels(
        (p.labels for p in pulls), options.version_resolver, latest[0] if latest else None
    )
    tag = render_tag(options.tag_template, version)
    fields: dict[str, Any] = {
        "tag_name": tag,
        "target_commitish": base,
        "name": render_release_name(
            options, version=version, previous_tag=previous.tag if previous else None
        ),
        "body": await notes_for(ctx, data, version, previous, pulls, base),
        "prerelease": options.prerelease or bool(version.prerelease),
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
