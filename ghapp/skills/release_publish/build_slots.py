"""Dispatching builds: at most `max_concurrent_builds` at once per repository, a deadline
for each, and the next in line started when a slot frees.

A build that finds every slot taken (or others already waiting) is drafted with a
`waiting` marker and a notice saying it waits for a build slot; nothing is dispatched.
Whenever a build ends (published, failed, timed out), the waiting builds that now fit
are started in the order they were asked for: the notice goes, the marker turns
`pending` with the time of dispatch, and the `repository_dispatch` is sent.

Each dispatch defers a `build-deadline` task to the moment its build times out (plus a
second, so the deadline has passed when it runs): a build that never reports back is
marked timed out within a minute of its deadline, not at the next hourly sweep.

Callers hold the release lock and pass the clock (`publishing.utcnow`) as `now`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ghapp import Context
from ghapp.skills.release_publish.github_data import ReleaseData
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.releases import (
    BuildMarker,
    ReleaseInfo,
    build_deadline,
    builds_running,
    builds_to_start,
    release_version,
    with_marker,
    with_notice,
)

DEADLINE_TASK = "build-deadline"
DEADLINE_GRACE_SECONDS = 1.0

WAITING_NOTICE = (
    "**Waiting for a build slot.** {running} build(s) of this repository are running "
    "(`max-concurrent-builds: {limit}`); this release's build is dispatched when one "
    "finishes, in the order releases were asked for."
)


def waiting_notice(releases: list[ReleaseInfo], limit: int) -> str:
    return WAITING_NOTICE.format(running=builds_running(releases), limit=limit)


async def dispatch_build(
    ctx: Context[ReleaseOptions],
    data: ReleaseData,
    *,
    version: str,
    tag: str,
    release_id: int,
    marker: BuildMarker,
    now: datetime,
) -> None:
    """Send the `repository_dispatch` that starts the build, and set its deadline."""
    payload = {
        "version": version,
        "tag": tag,
        "release_id": release_id,
        "correlation_id": marker.correlation_id,
    }
    await data.dispatch(str(ctx.options.dispatch_event), payload)
    await schedule_deadline(ctx, marker, now)


async def schedule_deadline(
    ctx: Context[ReleaseOptions], marker: BuildMarker, now: datetime
) -> None:
    """Defer the deadline check to when the build times out; one per build (the task key
    absorbs a second one while the first waits)."""
    deadline = build_deadline(marker, ctx.options.build_timeout_minutes)
    delay = max((deadline - now).total_seconds(), 0.0) + DEADLINE_GRACE_SECONDS
    await ctx.defer(
        DEADLINE_TASK,
        {"correlation_id": marker.correlation_id},
        key=marker.correlation_id,
        delay=delay,
    )


async def start_waiting_builds(
    ctx: Context[ReleaseOptions], data: ReleaseData, releases: list[ReleaseInfo], now: datetime
) -> None:
    """Start the waiting builds that fit in the free slots; `releases` as they are now
    (the build that just ended no longer pending)."""
    options = ctx.options
    if options.dispatch_event is None:
        return
    for draft, marker in builds_to_start(releases, options.max_concurrent_builds):
        started = replace(marker, state="pending", dispatched_at=now)
        body = with_marker(with_notice(draft.body, None), started)
        await data.update_release(draft.id, {"body": body})
        version = release_version(draft, options.tag_prefix)
        ctx.log.info("a build slot is free: dispatching the build of %s", draft.tag)
        await dispatch_build(
            ctx,
            data,
            version=str(version) if version is not None else draft.tag,
            tag=draft.tag,
            release_id=draft.id,
            marker=started,
            now=now,
        )


def without(releases: list[ReleaseInfo], ended: ReleaseInfo) -> list[ReleaseInfo]:
    """The releases once `ended`'s build no longer holds a slot."""
    return [r for r in releases if r.id != ended.id]
