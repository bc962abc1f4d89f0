"""The two ways to ask for a release: `@slug release …` and pushing a version tag.

Both resolve what to release (a version, or the next major/minor/patch after the
previous release on the release branch) and hand it to `publishing.create_release`
under the release lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from ghapp import Context, UsageError
from ghapp.skills.release_publish.github_data import ReleaseData
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.planner import Overrides, release_flags, resolve_version
from ghapp.skills.release_publish.publishing import (
    LOCK,
    ReleaseRequest,
    create_release,
    release_branch,
)
from ghapp.skills.release_publish.releases import ReleaseInfo, release_version
from ghapp.skills.release_publish.template import render
from ghapp.skills.release_publish.versions import (
    VersionError,
    previous_release,
    resolve_requested,
    tag_matches,
    version_in_text,
)

USAGE = "release VERSION|major|minor|patch [--draft] [--prerelease]"
USAGE_REPLY = "Usage: `{usage}` — for example `release minor` or `release 1.2.0-rc.1 --prerelease`."
INVALID_REPLY = "I can't release that: {reason}.\n\n" + USAGE_REPLY


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


async def release_command(ctx: Context[ReleaseOptions], args: tuple[str, ...]) -> str:
    try:
        parsed = parse_release_args(args)
    except UsageError as exc:
        return INVALID_REPLY.format(reason=exc, usage=USAGE)
    options = ctx.options
    data = ReleaseData(ctx.github, ctx.require_repo())
    async with ctx.lock(LOCK):
        releases = await data.releases()
        base = await release_branch(ctx, data)
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
        outcome = await create_release(ctx, data, request, releases, base)
    return outcome.reply(options.dispatch_event)


def _planned_tag(
    options: ReleaseOptions, previous: ReleaseInfo | None, overrides: Overrides
) -> str:
    info = resolve_version(options, previous=previous, pulls=(), overrides=overrides)
    return render(overrides.tag or options.effective_tag_template, info.variables)


def _trigger_id(ctx: Context[ReleaseOptions]) -> str:
    """What made this request: the comment (stable across redeliveries), else the delivery."""
    comment = ctx.comment
    if comment and comment.get("id") is not None:
        return f"comment:{comment['id']}"
    return f"delivery:{ctx.delivery_id}"


async def tag_pushed(ctx: Context[ReleaseOptions]) -> None:
    """A new tag matching `tag_pattern` gets its release (once the repository opted in:
    a tag push is not a request to ghapp, and a repository may release by other means)."""
    payload = ctx.payload
    ref = str(payload.get("ref") or "")
    if not ref.startswith("refs/tags/") or not payload.get("created") or payload.get("deleted"):
        return
    options = ctx.options
    tag = ref.removeprefix("refs/tags/")
    if not ctx.configured or not tag_matches(tag, options.effective_tag_pattern):
        return
    version = version_in_text(tag, options.tag_prefix)
    if version is None:
        ctx.log.info("tag %s names no version", tag)
        return
    key = f"tag:{tag}:{payload.get('after')}"

    async def release(retrying: bool) -> str:
        # Within the lock the release list is the truth, so a retry needs no other check.
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
            base = await release_branch(ctx, data)
            outcome = await create_release(ctx, data, request, releases, base)
        ctx.log.info("tag %s: %s", tag, outcome.kind)
        return outcome.url

    await ctx.once(key, release)
