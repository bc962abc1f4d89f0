"""The next-version draft: one draft release kept current as pull requests merge.

Its version comes from the merged pull requests' labels (`version-resolver`), its notes
from the pull requests themselves (both through the planner, as release-drafter makes
them); it lives on the release branch (`commitish`, else the default branch) and is
rewritten only when something in it changed.
"""

from __future__ import annotations

from typing import Any

from ghapp import Context
from ghapp.skills.release_publish.github_data import ReleaseData
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.planner import Overrides, release_flags
from ghapp.skills.release_publish.publishing import (
    LOCK,
    build_pending,
    latest_field,
    merged_since,
    release_plan,
)
from ghapp.skills.release_publish.releases import maintained_draft
from ghapp.skills.release_publish.versions import previous_release


async def pull_merged(ctx: Context[ReleaseOptions]) -> None:
    """Keep one draft for the next version current as pull requests merge (only once the
    repository has a `release-publish` section: drafts are bulk work nobody asked for)."""
    options = ctx.options
    pull = ctx.payload.get("pull_request") or {}
    base = (options.commitish or "").removeprefix("refs/heads/") or (
        ctx.payload.get("repository") or {}
    ).get("default_branch")
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
    prerelease = release_flags(options, Overrides())[0]
    previous = previous_release(releases, options, prerelease=prerelease, branch=base)
    pulls, _bodies = await merged_since(data, base, previous, options)
    plan = await release_plan(ctx, data, previous, pulls, base, Overrides())
    fields: dict[str, Any] = {
        "tag_name": plan.tag,
        "target_commitish": base,
        "name": plan.name,
        "body": plan.body,
        "prerelease": plan.prerelease,
        **latest_field(plan.make_latest, plan.prerelease),
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
