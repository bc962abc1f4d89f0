"""After a release is published: one "released in" comment on each pull request and
issue it shipped, and the milestone named after the version closed.

A deferred task (`publishing.after_publish` queues it), so that hundreds of paced
comments never hold the release lock. Each comment is an effect of its own: a retry
after a crash looks for the comment before posting it again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from githubkit.exception import RequestFailed

from ghapp import Context
from ghapp.skills.release_publish.github_data import ReleaseData
from ghapp.skills.release_publish.notes import render_released_comment
from ghapp.skills.release_publish.options import ReleaseOptions

# A deleted, transferred or locked issue: nothing to announce to, not a failure.
UNANNOUNCEABLE = (403, 404, 410, 422)


async def announce(ctx: Context[ReleaseOptions]) -> None:
    """One "released in" comment per pull request and issue, and the milestone closed."""
    tag = str(ctx.args["tag"])
    version = str(ctx.args["version"])
    body = render_released_comment(ctx.options, version=version, tag=tag, url=str(ctx.args["url"]))
    data = ReleaseData(ctx.github, ctx.require_repo())
    for number in (int(n) for n in ctx.args.get("numbers") or ()):
        await ctx.once(f"released:{tag}:{number}", _commenter(ctx, data, number, body))
    titles = {version, f"v{version}", tag}
    for number, title in await data.open_milestones():
        if title.strip() in titles:
            await data.close_milestone(number)


def _commenter(
    ctx: Context[ReleaseOptions], data: ReleaseData, number: int, body: str
) -> Callable[[bool], Awaitable[None]]:
    """Posts `body` on `number` (what `ctx.once` runs for that pull request or issue)."""

    async def comment(retrying: bool) -> None:
        if retrying and body in await data.comment_bodies(number):
            return
        try:
            await data.comment(number, body)
        except RequestFailed as exc:
            if exc.response.status_code not in UNANNOUNCEABLE:
                raise
            ctx.log.info("no released comment on #%s: %s", number, exc.response.status_code)

    return comment
